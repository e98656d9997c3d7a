"""Mass outages over HTTP, a read-only troubleflow extension beside TMF621 (docs/mass-outage.md): how far
the proactive handling of a network-side cause got (children opened, linked, notified, cleared)."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from troubleflow.api.errors import JSON
from troubleflow.api.escalation_event import ticket_href_v4
from troubleflow.api.http import error_responses
from troubleflow.api.representation import fmt, put
from troubleflow.api.runtime import Runtime
from troubleflow.processes import mass_outage
from troubleflow.processes.mass_outage import Progress

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


def render_progress(shown: Progress, base_url: str) -> dict[str, Any]:
    o, c = shown.outage, shown.counts
    cause: dict[str, Any] = {"id": o.cause.id, "@referredType": o.cause.referred_type}
    put(cause, "href", o.cause.href)
    put(cause, "name", o.cause.name)
    out: dict[str, Any] = {
        "id": o.cause.id,
        "href": f"{base_url}{PREFIX}/massOutage/{o.cause.id}",
        "@type": "MassOutage",
        "cause": cause,
        "masterTicket": {"id": o.master_id, "href": ticket_href_v4(base_url, o.master_id)},
        "service": o.services,
        "state": o.state,
        "declaredDate": fmt(o.declared_at),
        "children": {
            "total": c["opened"] + c["linked"],
            "opened": c["opened"],
            "linked": c["linked"],
            "notified": c["notified"],
            "updated": c["updated"],
            "open": c["open"],
            "cleared": c["cleared"],
            "leftAlone": c["left"],
            "restoreNotified": c["restoreNotified"],
        },
        "pendingJobs": shown.pending,
    }
    put(out, "resolution", o.resolution)
    put(out, "restoredDate", o.restored_at)
    return out


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Mass outages (troubleflow)"])
    db = runtime.db

    async def show(request: Request, cause_id: str) -> Response:
        shown = await runtime.read(mass_outage.progress, db, cause_id)
        return Response(_encode(render_progress(shown, runtime.base_url(request))), media_type=JSON)

    router.add_api_route(
        "/massOutage/{cause_id}",
        show,
        methods=["GET"],
        summary="A mass outage's progress",
        responses=error_responses(400, 404),
    )
    return router
