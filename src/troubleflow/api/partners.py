"""Partner problems over HTTP, a troubleflow extension beside TMF621 (docs/partners.md): submit a report to
the partner owning its product, read our partner ticket records, the listener the partners' hubs post their
TMF621 events to, and the B2B hand-off outbox (listed, read, parked ones replayed)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.escalation_event import ticket_href_v4
from troubleflow.api.http import actor, decode_body, error_responses, page
from troubleflow.api.representation import put, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain.partner_ticket import PartnerTicket
from troubleflow.errors import InvalidInput
from troubleflow.processes import handoffs, partner_tickets
from troubleflow.storage.codec import decode_json
from troubleflow.storage.handoffs import Handoff

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


class PartnerTicketCreate(BaseModel):
    """Submit a report to a partner; without `partnerId`, to the one owning the products it names."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    partner_id: str | None = Field(None, alias="partnerId", min_length=1, max_length=100)


class HandoffReplay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = None  # none: every parked hand-off


def render_partner_ticket(r: PartnerTicket, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "href": f"{base_url}{PREFIX}/partnerTicket/{r.id}",
        "@type": "PartnerTroubleTicket",
        "troubleTicket": {"id": r.ticket_id, "href": ticket_href_v4(base_url, r.ticket_id)},
        "partner": {"id": r.partner_id, "@referredType": "Organization"},
        "endpoint": r.endpoint,
    }
    if r.partner_ticket_id is not None:
        theirs: dict[str, Any] = {"id": r.partner_ticket_id, "@referredType": "TroubleTicket"}
        put(theirs, "href", r.partner_href)
        out["partnerTroubleTicket"] = theirs
    put(out, "partnerStatus", r.partner_status)
    put(out, "restorationCommitment", r.commitment)
    put(out, "expectedResolutionDate", r.expected_resolution)
    put(out, "lastHeardDate", r.last_heard_at)
    put(out, "silenceEscalationDate", r.silence_escalated_at)
    put(out, "cancellationReason", r.cancel_reason)
    put(out, "hubId", r.hub_id)
    out["version"] = r.version
    put(out, "creationDate", r.created_at)
    put(out, "lastUpdate", r.updated_at)
    return out


def render_handoff(h: Handoff, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(h.id),
        "href": f"{base_url}{PREFIX}/handoff/{h.id}",
        "@type": "Handoff",
        "target": h.target,
        "action": h.action,
        "method": h.method,
        "url": h.url,
    }
    if h.body is not None:
        out["body"] = decode_json(h.body)
    if h.ticket_id is not None:
        out["troubleTicket"] = {"id": h.ticket_id, "href": ticket_href_v4(base_url, h.ticket_id)}
    put(out, "recordId", h.record_id)
    out["state"] = h.state
    out["attempts"] = h.attempts
    if h.state == "pending":
        put(out, "nextAttemptDate", h.next_attempt_at)
    put(out, "lastError", h.last_error)
    put(out, "responseStatus", h.response_status)
    put(out, "sentDate", h.sent_at)
    put(out, "creationDate", h.created_at)
    return out


def _id_number(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 2**63 - 1:
        raise InvalidInput(f"'{raw}' is not a hand-off id", field="id")
    return int(raw)


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Partner problems (troubleflow)"])
    db, clock = runtime.db, runtime.clock

    async def submit(request: Request, id: str) -> Response:
        raw = await request.body()
        model = validate(PartnerTicketCreate, decode_body(raw) if raw.strip() else {})
        record = await runtime.write(
            partner_tickets.submit, db, id, model.partner_id, clock=clock, actor=actor(request),
            policy=runtime.policy(),
        )  # fmt: skip
        body = render_partner_ticket(record, runtime.base_url(request))
        return Response(_encode(body), status_code=201, media_type=JSON, headers={"Location": body["href"]})

    async def of_report(request: Request, id: str) -> Response:
        tmf630.equality_filters(request.url.query, frozenset())
        found = await runtime.read(partner_tickets.for_report, db, id)
        base = runtime.base_url(request)
        return page([render_partner_ticket(r, base) for r in found], len(found))

    async def listed(request: Request) -> Response:
        q = tmf630.equality_filters(request.url.query, frozenset({"partnerId", "offset", "limit"}))
        offset = tmf630.whole_number(q, "offset", 0)
        limit = min(tmf630.whole_number(q, "limit", 100), tmf630.MAX_PAGE)
        found, total = await runtime.read(partner_tickets.list_records, db, q.get("partnerId"), offset, limit)
        base = runtime.base_url(request)
        return page([render_partner_ticket(r, base) for r in found], total)

    async def one(request: Request, record_id: str) -> Response:
        record = await runtime.read(partner_tickets.get_record, db, record_id)
        return Response(_encode(render_partner_ticket(record, runtime.base_url(request))), media_type=JSON)

    async def listener(request: Request, partner_id: str) -> Response:
        envelope = decode_body(await request.body())
        await runtime.write(
            partner_tickets.heard, db, partner_id, envelope, clock=clock, policy=runtime.policy()
        )
        return Response(status_code=201)  # TMF621 v4 listener: 201 Notified

    async def handoff_list(request: Request) -> Response:
        q = tmf630.equality_filters(
            request.url.query, frozenset({"state", "ticketId", "target", "offset", "limit"})
        )
        offset = tmf630.whole_number(q, "offset", 0)
        limit = min(tmf630.whole_number(q, "limit", 100), tmf630.MAX_PAGE)
        found, total = await runtime.read(
            handoffs.list_handoffs, db, q.get("state"), q.get("ticketId"), offset, limit, q.get("target")
        )
        base = runtime.base_url(request)
        return page([render_handoff(h, base) for h in found], total)

    async def handoff_one(request: Request, handoff_id: str) -> Response:
        found = await runtime.read(handoffs.get_handoff, db, _id_number(handoff_id))
        return Response(_encode(render_handoff(found, runtime.base_url(request))), media_type=JSON)

    async def replay(request: Request) -> Response:
        raw = await request.body()
        model = validate(HandoffReplay, decode_body(raw) if raw.strip() else {})
        count = await runtime.write(handoffs.replay_handoffs, db, model.id, clock=clock)
        return Response(_encode({"replayed": count}), media_type=JSON)

    reads = error_responses(400, 404)
    writes = error_responses(400, 404, 409)
    router.add_api_route(
        "/troubleTicket/{id}/partnerTicket", submit, methods=["POST"], status_code=201,
        summary="Submit a report to a partner (1.6.10.3)", responses=writes,
    )  # fmt: skip
    router.add_api_route(
        "/troubleTicket/{id}/partnerTicket", of_report, methods=["GET"],
        summary="A report's partner tickets", responses=reads,
    )  # fmt: skip
    router.add_api_route(
        "/partnerTicket", listed, methods=["GET"], summary="Partner tickets", responses=reads
    )
    router.add_api_route(
        "/partnerTicket/{record_id}", one, methods=["GET"], summary="A partner ticket", responses=reads
    )
    router.add_api_route(
        "/listener/partner/{partner_id}", listener, methods=["POST"], status_code=201,
        summary="TMF621 events from a partner's hub", responses=reads,
    )  # fmt: skip
    router.add_api_route("/handoff", handoff_list, methods=["GET"], summary="B2B hand-offs", responses=reads)
    router.add_api_route(
        "/handoff/{handoff_id}", handoff_one, methods=["GET"], summary="A B2B hand-off", responses=reads
    )
    router.add_api_route(
        "/handoff/replay", replay, methods=["POST"], summary="Replay parked hand-offs", responses=reads
    )
    return router
