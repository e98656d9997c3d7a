"""External service problem managers over HTTP, a troubleflow extension beside TMF656
(docs/service-problems.md "External service problem manager"): the listener a manager's TMF656 hub posts
its events to, and our record of the remote problem a mirror stands for."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from troubleflow.api.errors import JSON
from troubleflow.api.http import decode_body, error_responses
from troubleflow.api.representation import fmt, put
from troubleflow.api.runtime import Runtime
from troubleflow.api.tmf656_representation import V4
from troubleflow.domain.external_problem import ExternalProblem
from troubleflow.processes import external_problems

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


def render_external(r: ExternalProblem, base_url: str) -> dict[str, Any]:
    """Our record of a remote problem (`@type: ExternalServiceProblem`, docs/extensions.md)."""
    out: dict[str, Any] = {
        "@type": "ExternalServiceProblem",
        "serviceProblem": {"id": r.problem_id, "href": V4.href(base_url, r.problem_id)},
        "serviceDomain": r.domain_id,
        "endpoint": r.endpoint,
    }
    if r.remote_id is not None:
        out["remoteServiceProblem"] = {"id": r.remote_id, "href": r.remote_href}
    for key, value in (
        ("troubleTicket", r.ticket_id),
        ("remoteStatus", r.remote_status),
        ("hubId", r.hub_id),
        ("cancellationReason", r.cancel_reason),
        ("lastHeardDate", fmt(r.last_heard_at) if r.last_heard_at else None),
        ("creationDate", fmt(r.created_at) if r.created_at else None),
        ("lastUpdate", fmt(r.updated_at) if r.updated_at else None),
    ):
        put(out, key, value)
    out["version"] = r.version
    return out


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Service problems"])
    db, clock = runtime.db, runtime.clock

    async def listener(request: Request, domain_id: str) -> Response:
        envelope = decode_body(await request.body())
        await runtime.write(
            external_problems.heard, db, domain_id, envelope, clock=clock, policy=runtime.policy()
        )
        return Response(status_code=201)  # TMF656 v4 listener: 201 Notified

    async def one(request: Request, problem_id: str) -> Response:
        record = await runtime.read(external_problems.get_record, db, problem_id)
        body = render_external(record, runtime.base_url(request))
        return Response(_encode(body), media_type=JSON)

    router.add_api_route(
        "/listener/serviceProblem/{domain_id}", listener, methods=["POST"], status_code=201,
        summary="TMF656 events from an external service problem manager's hub",
        responses=error_responses(400, 404, 409),
    )  # fmt: skip
    router.add_api_route(
        "/serviceProblem/{problem_id}/external", one, methods=["GET"],
        summary="The remote problem a service problem was handed to", responses=error_responses(404),
    )  # fmt: skip
    return router
