"""The wire form of Correct & Recover Customer Problem (1.3.7.6, docs/restoration.md): request bodies
(validated with pydantic, unknown attributes refused) and the rendering of trail records and items."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from troubleflow.api.representation import fmt, put, ticket_href
from troubleflow.domain import restoration as rs
from troubleflow.errors import InvalidInput

PREFIX = "/tmf-api/troubleflow/v1"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Ref(_Body):
    id: Any
    href: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class RestorationActionCreate(_Body):
    """One restoration action with exactly one outcome (1.3.7.6.2)."""

    type_: str | None = Field(None, alias="@type")
    outcome: str
    description: str = Field(description="what was done, or why the restoration failed")
    resolution_type: str | None = Field(None, alias="resolutionType")
    guidance: str | None = None
    workaround: str | None = None
    known_error: Ref | None = Field(None, alias="knownError")
    change_request: str | None = Field(None, alias="changeRequest")


class FeasibilityCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    feasible: bool
    reason: str


class ValidationCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    passed: bool
    method: str = "test"
    description: str


class ReviewCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    description: str
    lessons_learned: str | None = Field(None, alias="lessonsLearned")


class ProductOrderRequestCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    action: str
    description: str
    product: Ref | None = None


class ProcessRequestCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    target_process: str = Field(alias="targetProcess")
    description: str


class ChangeRequestCreate(_Body):
    type_: str | None = Field(None, alias="@type")
    description: str
    trouble_ticket: Ref = Field(alias="troubleTicket")


class ItemUpdate(_Body):
    """A change of state (merge patch, or the completion of a product order request)."""

    state: str
    reason: str | None = None


class Completion(_Body):
    """The ordering system's answer: completed (the default), failed or cancelled, with a reason."""

    state: str = "completed"
    reason: str | None = None


RECORD_PATHS = {
    rs.Kind.ACTION: "restorationAction",
    rs.Kind.FEASIBILITY: "feasibilityDecision",
    rs.Kind.VALIDATION: "solutionValidation",
    rs.Kind.REVIEW: "majorProblemReview",
}
TYPES = {
    rs.Kind.ACTION: "RestorationAction",
    rs.Kind.FEASIBILITY: "FeasibilityDecision",
    rs.Kind.VALIDATION: "SolutionValidation",
    rs.Kind.REVIEW: "MajorProblemReview",
}
ITEM_TYPES = {
    rs.ItemKind.CHANGE_REQUEST: "ChangeRequest",
    rs.ItemKind.PRODUCT_ORDER: "ProductOrderRequest",
    rs.ItemKind.PROCESS_REQUEST: "ProcessRequest",
}


def _ticket_ref(base_url: str, ticket_id: str) -> dict[str, Any]:
    return {"id": ticket_id, "href": ticket_href(base_url, "v4", ticket_id), "@referredType": "TroubleTicket"}


def render_record(r: rs.Record, base_url: str) -> dict[str, Any]:
    path = RECORD_PATHS[r.kind]
    href = f"{base_url}{PREFIX}/troubleTicket/{r.ticket_id}/{path}/{r.id}"
    out: dict[str, Any] = {"id": r.id, "href": href, "@type": TYPES[r.kind]}
    key = {rs.Kind.ACTION: "outcome", rs.Kind.FEASIBILITY: "decision", rs.Kind.VALIDATION: "result"}
    if r.kind is rs.Kind.FEASIBILITY:
        out["feasible"] = r.outcome == "feasible"
        out["reason"] = r.description
    elif r.kind is rs.Kind.VALIDATION:
        out["passed"] = r.outcome == "passed"
    if r.kind in key:
        out[key[r.kind]] = r.outcome
    if r.kind is not rs.Kind.FEASIBILITY:
        out["description"] = r.description
    for name, value in r.details.items():
        put(out, name, value)
    out["process"] = rs.PROCESS_OF[r.kind]
    out["author"] = r.actor
    out["date"] = fmt(r.at)
    out["troubleTicket"] = _ticket_ref(base_url, r.ticket_id)
    return out


def item_href(base_url: str, item: rs.Item) -> str:
    return f"{base_url}{PREFIX}/{item.kind.value}/{item.id}"


def render_item(item: rs.Item, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(item.id),
        "href": item_href(base_url, item),
        "@type": ITEM_TYPES[item.kind],
    }
    out["state"] = item.state.value
    out["description"] = item.description
    put(out, "targetProcess", item.target_process)
    put(out, "action", item.action)
    if item.product_id is not None:
        out["product"] = {"id": item.product_id, "@referredType": "Product"}
    if item.known_error_id is not None:
        out["knownError"] = {
            "id": str(item.known_error_id),
            "href": f"{base_url}{PREFIX}/knownError/{item.known_error_id}",
            "@referredType": "KnownError",
        }
    put(out, "stateChangeReason", item.reason)
    out["troubleTicket"] = _ticket_ref(base_url, item.ticket_id)
    out["creationDate"] = fmt(item.created)
    out["lastUpdate"] = fmt(item.updated)
    out["version"] = item.version
    return out


def action_values(m: RestorationActionCreate) -> dict[str, Any]:
    known = None
    if m.known_error is not None:
        raw = m.known_error.id
        known = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
    return {
        "outcome": m.outcome,
        "description": m.description,
        "resolution_type": m.resolution_type,
        "guidance": m.guidance,
        "workaround": m.workaround,
        "known_error_id": known,
        "change_request": m.change_request,
    }


def item_id_of(raw: str, kind: rs.ItemKind) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"'{raw}' is not a {kind.value} id", field="id")
    return int(raw)
