"""Escalations over HTTP, a troubleflow extension beside TMF621 (docs/escalation.md): a report's steps with
their notifications, the NOC view of escalated open reports (TMF630 offset/limit, X-Total-Count), a NOC
engineer's manual step, notifications listed and replayed; and the `EscalationNotification` body posted
to a notification list's webhook recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.escalation_event import ticket_href_v4
from troubleflow.api.http import actor, decode_body, page
from troubleflow.api.representation import fmt, put, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import InvalidInput
from troubleflow.processes import escalation
from troubleflow.storage.escalations import Step
from troubleflow.storage.notifications import Notification

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


class EscalationCreate(BaseModel):
    """A manual escalation step by a NOC engineer: only upwards."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    level: int = Field(ge=1, le=99)
    reason: str = Field(min_length=1, max_length=2000)
    role: str | None = Field(None, max_length=100)
    workgroup: str | None = Field(None, max_length=100)
    notification_list: str | None = Field(None, alias="notificationList", max_length=100)


class NotificationReplay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = None  # none: every parked notification


def render_notification(n: Notification, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(n.id),
        "href": f"{base_url}{PREFIX}/notification/{n.id}",
        "@type": "EscalationNotificationDelivery",
        "troubleTicket": {"id": n.ticket_id, "href": ticket_href_v4(base_url, n.ticket_id)},
        "escalationLevel": n.level,
        "notificationList": n.list_id,
        "channel": n.channel,
        "address": n.address,
        "subject": n.subject,
        "state": n.state,
        "attempts": n.attempts,
    }
    if n.state == "pending":
        out["nextAttemptDate"] = fmt(n.next_attempt_at)
    put(out, "lastError", n.last_error)
    put(out, "sentDate", n.sent_at)
    return out


def render_step(step: Step, told: list[Notification], base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "EscalationStep", "level": step.level, "cause": step.cause}
    put(out, "threshold", step.threshold)
    put(out, "role", step.role)
    put(out, "workgroup", step.workgroup)
    put(out, "notificationList", step.list_id)
    out["actor"] = step.actor
    put(out, "reason", step.reason)
    out["date"] = fmt(step.at)
    out["notification"] = [render_notification(n, base_url) for n in told]
    return out


def render_escalation(
    ticket: TroubleTicket, steps: list[escalation.StepTold], base_url: str
) -> dict[str, Any]:
    state = ticket.tracking
    out: dict[str, Any] = {
        "@type": "Escalation",
        "troubleTicket": {"id": ticket.id, "href": ticket_href_v4(base_url, ticket.id), "name": ticket.name},
        "status": ticket.status.value,
        "escalationLevel": state.escalation_level if state else 0,
    }
    if state is not None:
        put(out, "priority", state.priority)
        put(out, "escalationWorkgroup", state.escalation_workgroup)
        put(out, "restorationCommitment", state.commitment)
        if state.forecast_breach is not None:
            fb = state.forecast_breach
            out["forecastBreach"] = {"source": fb.source, "eta": fmt(fb.eta), "since": fmt(fb.since)}
    if ticket.jeopardy is not None:
        out["jeopardy"] = {"threshold": ticket.jeopardy.threshold, "since": fmt(ticket.jeopardy.since)}
    out["step"] = [render_step(s.step, s.notifications, base_url) for s in steps]
    return out


def _escalated(ticket: TroubleTicket, level: int, at: datetime, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "troubleTicket": {"id": ticket.id, "href": ticket_href_v4(base_url, ticket.id), "name": ticket.name},
        "status": ticket.status.value,
        "severity": ticket.severity,
        "priority": ticket.priority,
        "escalationLevel": level,
        "escalationDate": fmt(at),
    }
    state = ticket.tracking
    if state is not None:
        put(out, "escalationWorkgroup", state.escalation_workgroup)
        put(out, "restorationCommitment", state.commitment)
    return out


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Escalations (troubleflow)"])
    db, clock = runtime.db, runtime.clock

    async def show(request: Request, id: str) -> Response:
        ticket, steps = await runtime.read(escalation.report_escalation, db, id)
        return Response(_encode(render_escalation(ticket, steps, runtime.base_url(request))), media_type=JSON)

    async def raise_level(request: Request, id: str) -> Response:
        model = validate(EscalationCreate, decode_body(await request.body()))
        await runtime.write(
            escalation.escalate,
            db,
            id,
            model.level,
            model.reason,
            clock=clock,
            actor=actor(request),
            policy=runtime.policy(),
            role=model.role,
            workgroup=model.workgroup,
            notify=model.notification_list,
        )
        ticket, steps = await runtime.read(escalation.report_escalation, db, id)
        body = render_escalation(ticket, steps, runtime.base_url(request))
        return Response(_encode(body), status_code=201, media_type=JSON)

    async def noc_view(request: Request) -> Response:
        q = tmf630.equality_filters(request.url.query, frozenset({"level", "state", "offset", "limit"}))
        if q.get("state", "open") != "open":
            raise InvalidInput("the NOC view lists open reports only (state=open)", field="state")
        level = tmf630.whole_number(q, "level", 1)
        offset = tmf630.whole_number(q, "offset", 0)
        limit = min(tmf630.whole_number(q, "limit", 100), tmf630.MAX_PAGE)
        found, total = await runtime.read(escalation.escalated_reports, db, level, offset, limit)
        base = runtime.base_url(request)
        return page([_escalated(t, lvl, at, base) for t, lvl, at in found], total)

    async def list_notifications(request: Request) -> Response:
        q = tmf630.equality_filters(request.url.query, frozenset({"state", "offset", "limit"}))
        offset = tmf630.whole_number(q, "offset", 0)
        limit = min(tmf630.whole_number(q, "limit", 100), tmf630.MAX_PAGE)
        found, total = await runtime.read(escalation.list_notifications, db, q.get("state"), offset, limit)
        base = runtime.base_url(request)
        return page([render_notification(n, base) for n in found], total)

    async def replay(request: Request) -> Response:
        raw = await request.body()
        model = validate(NotificationReplay, decode_body(raw) if raw.strip() else {})
        count = await runtime.write(escalation.replay_notifications, db, model.id, clock=clock)
        return Response(_encode({"replayed": count}), media_type=JSON)

    errors: dict[int | str, dict[str, Any]] = {
        str(c): {"description": t} for c, t in ((400, "Bad Request"), (404, "Not Found"))
    }
    conflict = {**errors, "409": {"description": "Conflict: not higher than the current level"}}
    router.add_api_route(
        "/troubleTicket/{id}/escalation", show, methods=["GET"], summary="A report's escalation steps",
        responses=errors,
    )  # fmt: skip
    router.add_api_route(
        "/troubleTicket/{id}/escalation", raise_level, methods=["POST"], status_code=201,
        summary="Escalate a report by hand (raises only)", responses=conflict,
    )  # fmt: skip
    router.add_api_route(
        "/escalation", noc_view, methods=["GET"], summary="Open reports escalated at or above a level",
        responses=errors,
    )  # fmt: skip
    router.add_api_route(
        "/notification", list_notifications, methods=["GET"], summary="Escalation notifications",
        responses=errors,
    )  # fmt: skip
    router.add_api_route(
        "/notification/replay", replay, methods=["POST"], summary="Replay parked notifications",
        responses=errors,
    )  # fmt: skip
    return router
