"""Close Customer Problem Report over HTTP, a troubleflow extension beside TMF621 (docs/closure.md):
the customer's answer `POST …/troubleTicket/{id}/customerConfirmation`, an improvement opportunity
`POST …/troubleTicket/{id}/improvementOpportunity`, and `GET …/restorationMetrics`."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from troubleflow.api.errors import JSON
from troubleflow.api.http import actor, decode_body
from troubleflow.api.representation import fmt, put, ticket_href, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain.close import RestorationMetrics
from troubleflow.domain.closure import Answer, Improvement
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.processes import close

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerConfirmationInput(_Body):
    """The customer's answer on a cleared report: fixed or not, a satisfaction score 1..5, a comment."""

    fixed: bool
    score: int | None = Field(None, ge=1, le=5)
    comment: str | None = Field(None, max_length=4000)


class ImprovementOpportunityInput(_Body):
    """A lesson learned; its author is the caller (`X-Troubleflow-Actor`), its date the server's clock."""

    text: str = Field(min_length=1, max_length=4000)


def render_confirmation(t: TroubleTicket, answer: Answer, base_url: str) -> dict[str, Any]:
    closure = t.closure
    out: dict[str, Any] = {"@type": "CustomerConfirmation", "fixed": answer.fixed}
    put(out, "score", answer.score)
    put(out, "comment", answer.comment)
    if closure is not None and closure.satisfaction is not None:
        out["answeredDate"] = fmt(closure.satisfaction.answered)
    out["troubleTicket"] = {
        "id": t.id,
        "href": ticket_href(base_url, "v4", t.id),
        "status": t.status.value,
        "reopenCount": closure.reopen_count if closure else 0,
        "@referredType": "TroubleTicket",
    }
    put(out["troubleTicket"], "closureMethod", closure.method if closure else None)
    return out


def render_improvement(item: Improvement, ticket_id: str, base_url: str) -> dict[str, Any]:
    return {
        "@type": "ImprovementOpportunity",
        "id": item.id,
        "text": item.text,
        "author": item.author,
        "date": fmt(item.date),
        "troubleTicket": {"id": ticket_id, "href": ticket_href(base_url, "v4", ticket_id)},
    }


def render_metrics(m: RestorationMetrics) -> dict[str, Any]:
    """The figures as plain values (durations in seconds)."""
    mttr = m.mean_time_to_restore
    return {
        "@type": "RestorationMetrics",
        "restored": m.restored,
        "cancelledExcluded": m.cancelled_excluded,
        "meanTimeToRestoreSeconds": mttr.total_seconds() if mttr is not None else None,
        "reopened": m.reopened,
        "reopenRate": m.reopen_rate,
        "satisfactionAnswers": m.satisfaction_answers,
        "meanSatisfaction": m.mean_satisfaction,
        "closedBy": m.closed_by,
    }


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Close (troubleflow)"])
    db, clock = runtime.db, runtime.clock

    async def customer_confirmation(request: Request, id: str) -> Response:
        model = validate(CustomerConfirmationInput, decode_body(await request.body()))
        answer = Answer(model.fixed, model.score, model.comment)
        ticket = await runtime.write(
            close.confirm, db, id, answer, clock=clock, actor=actor(request), policy=runtime.policy()
        )
        body = render_confirmation(ticket, answer, runtime.base_url(request))
        return Response(
            _encode(body), status_code=201, media_type=JSON, headers={"ETag": f'"{ticket.version}"'}
        )

    async def improvement_opportunity(request: Request, id: str) -> Response:
        model = validate(ImprovementOpportunityInput, decode_body(await request.body()))
        item = await runtime.write(
            close.record_improvement, db, id, model.text, clock=clock, actor=actor(request)
        )
        body = render_improvement(item, id, runtime.base_url(request))
        return Response(_encode(body), status_code=201, media_type=JSON)

    async def restoration_metrics(request: Request) -> Response:
        figures = await runtime.read(close.restoration_metrics, db)
        return Response(_encode(render_metrics(figures)), media_type=JSON)

    errors: dict[int | str, dict[str, Any]] = {
        str(c): {"description": t} for c, t in ((400, "Bad Request"), (404, "Not Found"), (409, "Conflict"))
    }
    router.add_api_route(
        "/troubleTicket/{id}/customerConfirmation",
        customer_confirmation,
        methods=["POST"],
        status_code=201,
        summary="Record the customer's answer on a cleared report (fixed closes, not fixed reopens)",
        responses=errors,
    )
    router.add_api_route(
        "/troubleTicket/{id}/improvementOpportunity",
        improvement_opportunity,
        methods=["POST"],
        status_code=201,
        summary="Record an improvement opportunity on a report",
        responses=errors,
    )
    router.add_api_route(
        "/restorationMetrics",
        restoration_metrics,
        methods=["GET"],
        summary="MTTR, reopen rate and satisfaction; cancelled reports excluded",
    )
    return router
