"""TMF656 ServiceProblem on the wire, v4.0.0 and v5.0.0: render and parse a service problem, its events,
event records, group/ungroup tasks and hub subscriptions. The domain keeps references flat (v4's shape);
v5 wraps the related entity, party and place references (`{role, entity|partyOrPartyRole|place}`) and
types every object with `@type`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from troubleflow.api import schemas_tmf656 as s
from troubleflow.api.representation import fmt, put, snake, ticket_href, validate
from troubleflow.domain import service_problem as sp
from troubleflow.domain.events import EventKind
from troubleflow.storage.hubs import Subscription
from troubleflow.storage.outbox import OutboxEvent

PREFIX = "/tmf-api/serviceProblemManagement"
EVENT_TYPES: dict[str, str] = {
    EventKind.CREATED: "ServiceProblemCreateEvent",
    EventKind.ATTRIBUTES_CHANGED: "ServiceProblemAttributeValueChangeEvent",
    EventKind.STATUS_CHANGED: "ServiceProblemStateChangeEvent",
    EventKind.INFORMATION_REQUIRED: "ServiceProblemInformationRequiredEvent",
    EventKind.DELETED: "ServiceProblemDeleteEvent",  # v5 only
}
EVENT_TITLES: dict[str, str] = {
    EventKind.CREATED: "Service problem created",
    EventKind.ATTRIBUTES_CHANGED: "Service problem attributes changed",
    EventKind.STATUS_CHANGED: "Service problem status changed",
    EventKind.INFORMATION_REQUIRED: "Service problem needs information",
    EventKind.DELETED: "Service problem deleted",
}
# Lists of plain references or typed objects, and the v5 `@type` each gets when it has none.
_TYPED_LISTS = {
    "affected_service": "ServiceRef",
    "affected_resource": "ResourceRef",
    "root_cause_service": "ServiceRef",
    "root_cause_resource": "ResourceRef",
    "underlying_alarm": "ResourceAlarmRef",
    "underlying_problem": "ServiceProblemRef",
    "parent_problem": "ServiceProblemRef",
    "sla_violation": "SLAViolationRef",
    "related_event": "EventRef",
    "note": "Note",
    "characteristic": "Characteristic",
    "external_identifier": "ExternalIdentifier",
    "tracking_record": "TrackingRecord",
    "error_message": "ErrorMessage",
}
# References v5 wraps: (inner key, outer @type, default inner @type).
_WRAPPED = {
    "related_entity": ("entity", "RelatedEntity", "EntityRef"),
    "first_alert": ("entity", "RelatedEntity", "EntityRef"),
    "related_party": ("partyOrPartyRole", "RelatedPartyRefOrPartyRoleRef", "PartyRef"),
    "originator_party": ("partyOrPartyRole", "RelatedPartyRefOrPartyRoleRef", "PartyRef"),
    "responsible_party": ("partyOrPartyRole", "RelatedPartyRefOrPartyRoleRef", "PartyRef"),
    "affected_location": ("place", "RelatedPlaceRefOrValue", "PlaceRef"),
}
_INNER_TYPES = {
    "partyOrPartyRole": frozenset({"PartyRef", "PartyRoleRef"}),
    "place": frozenset({"PlaceRef", "GeographicLocation", "GeographicSite", "GeographicAddress"}),
}
_SCALARS = (
    "name", "description", "category", "priority", "reason", "status", "status_change_reason",
    "resolution_date", "expected_resolution_date", "originating_system", "impact_importance_factor",
    "problem_escalation", "affected_number_of_services", "impact_pattern",
)  # fmt: skip
_NAMES = {"@type": "type_name", "@baseType": "base_type", "@schemaLocation": "schema_location"}
_DOMAIN = frozenset(f.name for f in fields(sp.ServiceProblem)) - {"extensions", "raised_by"}
SERVER_OWNED = frozenset(
    {"id", "href", "creationDate", "lastUpdate", "statusChangeDate", "@type", "@baseType", "@schemaLocation"}
    | {"firstAlert", "originatingSystem", "trackingRecord"}  # TMF656: not patchable
)


class ProblemRepresentation:
    """One TMF656 version's wire format."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.v5 = version == "v5"
        self.identity_keys = frozenset({"id", "href", "@type"}) if self.v5 else frozenset()
        self.create_model: type[BaseModel] = s.ServiceProblemFVO if self.v5 else s.ServiceProblemCreateV4
        self.update_model: type[BaseModel] = s.ServiceProblemMVO if self.v5 else s.ServiceProblemUpdateV4
        self.resource_model: type[BaseModel] = s.ServiceProblemV5 if self.v5 else s.ServiceProblemV4

    def root(self, base_url: str) -> str:
        return f"{base_url}{PREFIX}/{self.version}"

    def href(self, base_url: str, problem_id: str) -> str:
        return f"{self.root(base_url)}/serviceProblem/{problem_id}"

    # -- the resource ------------------------------------------------------------------------------------

    def render(self, problem: sp.ServiceProblem, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": problem.id,
            "href": self.href(base_url, problem.id),
            "@type": problem.type_name,
        }
        put(out, "@baseType", problem.base_type)
        put(out, "@schemaLocation", problem.schema_location)
        for name in ("name", "description", "category", "priority", "reason"):
            put(out, _wire(name), getattr(problem, name))
        out["status"] = problem.status.value
        for name in (
            "status_change_date", "status_change_reason", "creation_date", "last_update", "resolution_date",
            "expected_resolution_date", "originating_system", "impact_importance_factor",
            "problem_escalation", "affected_number_of_services",
        ):  # fmt: skip
            put(out, _wire(name), getattr(problem, name))
        if problem.impact_pattern:
            out["impactPattern"] = self._typed(problem.impact_pattern, "ImpactPattern")
        for name in ("first_alert", "originator_party", "responsible_party"):
            value = getattr(problem, name)
            if value:
                out[_wire(name)] = self._wrap(name, value)
        for name in ("related_entity", "related_party", "affected_location"):
            put(out, _wire(name), [self._wrap(name, r) for r in getattr(problem, name)])
        for name, kind in _TYPED_LISTS.items():
            if name == "error_message" and not self.v5:
                continue
            put(out, _wire(name), [self._typed(r, kind) for r in getattr(problem, name)])
        refs = [self._ticket_ref(base_url, t) for t in problem.trouble_ticket]
        put(out, "troubleTicket", refs)
        for key, value in problem.extensions.items():
            out.setdefault(key, value)
        return out

    def _ticket_ref(self, base_url: str, ticket_id: str) -> dict[str, Any]:
        href = ticket_href(base_url, self.version, ticket_id)
        out = {"id": ticket_id, "href": href, "@referredType": "TroubleTicket"}
        return {"@type": "TroubleTicketRef", **out} if self.v5 else out

    def _typed(self, value: dict[str, Any], kind: str) -> dict[str, Any]:
        if not self.v5 or "@type" in value:
            return dict(value)
        return {"@type": kind, **value}

    def _wrap(self, name: str, flat: dict[str, Any]) -> dict[str, Any]:
        if not self.v5:
            return dict(flat)
        inner_key, outer_type, default = _WRAPPED[name]
        inner = {k: v for k, v in flat.items() if k != "role"}
        given = str(inner.get("@type") or "")
        allowed = _INNER_TYPES.get(inner_key)
        ok = given in allowed if allowed is not None else given.endswith("Ref")
        inner["@type"] = given if ok else default
        out: dict[str, Any] = {"@type": outer_type}
        put(out, "role", flat.get("role"))
        out[inner_key] = inner
        return out

    def _unwrap(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            return value  # type: ignore[no-any-return]  # refused by the model already
        inner_key = _WRAPPED[name][0]
        if not self.v5 or not isinstance(value.get(inner_key), dict):
            return dict(value)
        flat = dict(value[inner_key])
        if value.get("role") is not None:
            flat["role"] = value["role"]
        return flat

    def parse(self, body: dict[str, Any], *, create: bool) -> dict[str, Any]:
        """Domain values for the attributes `body` carries (unknown ones are extension attributes)."""
        model = validate(self.create_model if create else self.update_model, body)
        values: dict[str, Any] = {}
        extensions: dict[str, Any] = {}
        for key, value in body.items():
            name = _NAMES.get(key) or snake(key)
            if name in {"id", "href"} or (name == "error_message" and not self.v5):
                if name == "error_message":
                    extensions[key] = value
                continue
            if name not in _DOMAIN:
                extensions[key] = value
            elif name in _WRAPPED:
                values[name] = (
                    [self._unwrap(name, v) for v in value or []]
                    if name in sp.LIST_FIELDS
                    else (self._unwrap(name, value) if value is not None else None)
                )
            elif name == "trouble_ticket":
                values[name] = [r.id for r in model.trouble_ticket or []]
            elif name in _SCALARS:
                values[name] = getattr(model, name, value)
            elif name in sp.LIST_FIELDS:
                values[name] = [_plain(v) for v in value or []]
            else:
                values[name] = value
        if "status" in values and values["status"] is not None:
            values["status"] = sp.parse_status(values["status"])
        values["extensions"] = extensions
        return values

    def changes(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Domain values for the attributes a merge patch really changed; server-owned ones may not."""
        from troubleflow.errors import InvalidInput

        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        owned = sorted(changed & SERVER_OWNED)
        if owned:
            raise InvalidInput(f"not patchable: {', '.join(owned)}", field=owned[0])
        parsed = self.parse({k: v for k, v in after.items() if k not in SERVER_OWNED}, create=False)
        result: dict[str, Any] = {}
        for key in changed:
            name = _NAMES.get(key) or snake(key)
            if name in _DOMAIN:
                result[name] = parsed.get(name)
            else:
                result["extensions"] = parsed["extensions"]
        return result

    # -- events, records, tasks, hub ---------------------------------------------------------------------

    def delivers(self, kind: EventKind) -> bool:
        """v4 has no delete event."""
        return self.v5 or kind is not EventKind.DELETED

    def envelope(self, event: OutboxEvent, problem: sp.ServiceProblem, base_url: str) -> dict[str, Any]:
        doc = self.render(problem, base_url)
        event_type = EVENT_TYPES[event.kind]
        out: dict[str, Any] = {
            "eventId": event.event_id,
            "eventTime": fmt(event.occurred_at),
            "eventType": event_type,
            "correlationId": event.ticket_id,
            "domain": "serviceProblemManagement",
            "title": EVENT_TITLES[event.kind],
            "description": _describe(event, doc),
            "priority": str(problem.priority),
        }
        if self.v5:
            out = {"@type": event_type, "id": event.event_id, **out, "timeOccurred": fmt(event.occurred_at)}
        else:
            out["timeOcurred"] = fmt(event.occurred_at)  # sic: the v4 schema spells it this way
            if event.fields:
                out["fieldPath"] = ",".join(_wire(f) for f in event.fields)
        payload: dict[str, Any] = {"serviceProblem": doc}
        if self.v5 and event.kind is EventKind.INFORMATION_REQUIRED:
            ref = {"@type": "ServiceProblemRef", "id": problem.id, "href": doc["href"]}
            path = "/statusChangeReason"
            payload = {"serviceProblem": ref, "informationRequired": [{"op": "add", "path": path}]}
        out["event"] = payload
        return out

    def event_record(self, row: tuple[Any, ...], base_url: str) -> dict[str, Any]:
        """A serviceProblemEventRecord: one of the problem's events as it was notified."""
        event_id, kind, problem_id, occurred, fields_, reason, payload = row
        from troubleflow.storage.codec import decode_json
        from troubleflow.storage.service_problems import decode

        event = OutboxEvent(
            0, event_id, EventKind(kind), problem_id, occurred,
            tuple(decode_json(fields_)) if fields_ else (), reason, payload,
        )  # fmt: skip
        out: dict[str, Any] = {
            "id": event_id,
            "href": f"{self.root(base_url)}/serviceProblemEventRecord/{event_id}",
            "eventTime": fmt(occurred),
            "eventType": EVENT_TYPES[event.kind],
            "recordTime": fmt(occurred),
            "serviceProblem": self._problem_ref(base_url, problem_id),
            "notification": self.envelope(event, decode(payload), base_url),
        }
        return {"@type": "ServiceProblemEventRecord", **out} if self.v5 else out

    def _problem_ref(self, base_url: str, problem_id: str, name: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": problem_id, "href": self.href(base_url, problem_id)}
        put(out, "name", name)
        out["@referredType"] = "ServiceProblem"
        return {"@type": "ServiceProblemRef", **out} if self.v5 else out

    def render_task(self, doc: dict[str, Any], base_url: str) -> dict[str, Any]:
        kind = doc["kind"]
        parent = doc["parentProblem"]
        out: dict[str, Any] = {
            "id": doc["id"],
            "href": f"{self.root(base_url)}/{kind}/{doc['id']}",
            "parentProblem": self._problem_ref(base_url, parent["id"], parent.get("name")),
            "childProblem": [
                self._problem_ref(base_url, c["id"], c.get("name")) for c in doc["childProblem"]
            ],
        }
        if self.v5:
            out = {"@type": kind[0].upper() + kind[1:], **out, "state": doc["state"]}
        return out

    def render_hub(self, sub: Subscription, href: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": sub.id, "callback": sub.callback}
        put(out, "query", sub.query)
        if self.v5:
            out = {"@type": "Hub", "href": href, **out}
        out.update({k: v for k, v in sub.extensions.items() if k not in out})
        return out


V4 = ProblemRepresentation("v4")
V5 = ProblemRepresentation("v5")
REPRESENTATIONS = {"v4": V4, "v5": V5}


def _wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return fmt(value)
    return value


def _describe(event: OutboxEvent, doc: dict[str, Any]) -> str:
    text = f"{EVENT_TITLES[event.kind]}: {event.ticket_id}"
    if event.kind is EventKind.STATUS_CHANGED:
        text += f" is now {doc.get('status')}"
    if event.fields:
        text += " (" + ", ".join(_wire(f) for f in event.fields) + ")"
    if event.reason:
        text += f"; reason: {event.reason}"
    return text
