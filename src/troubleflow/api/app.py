"""`create_app(settings)`: the ASGI application with TMF621 v4 and v5, docs and health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.responses import Response

from troubleflow import __version__
from troubleflow.api import closure, escalations, known_errors, schemas_v4, schemas_v5, work_plan
from troubleflow.api import errors as http_errors
from troubleflow.api import external_problems as external_problems_api
from troubleflow.api import inventory as inventory_api
from troubleflow.api import mass_outage as mass_outage_api
from troubleflow.api import partners as partners_api
from troubleflow.api import restoration as restoration_api
from troubleflow.api.runtime import Runtime
from troubleflow.api.schemas_tmf656 import MODELS as TMF656_MODELS
from troubleflow.api.tmf621 import make_router
from troubleflow.api.tmf621_v4 import V4
from troubleflow.api.tmf621_v5 import V5
from troubleflow.api.tmf656 import make_report_router as make_problem_link_router
from troubleflow.api.tmf656 import make_router as make_problem_router
from troubleflow.api.tmf656_representation import REPRESENTATIONS as TMF656
from troubleflow.api.wire import Error
from troubleflow.clock import Clock, SystemClock
from troubleflow.config import Settings
from troubleflow.policy_files import load_policies
from troubleflow.storage.db import Database

_SCHEMA_MODELS: dict[str, list[type[BaseModel]]] = {
    "v4": [
        schemas_v4.TroubleTicket,
        schemas_v4.TroubleTicketCreate,
        schemas_v4.TroubleTicketUpdate,
        schemas_v4.EventSubscriptionInput,
        schemas_v4.EventSubscription,
    ],
    "v5": [
        schemas_v5.TroubleTicket,
        schemas_v5.TroubleTicketFVO,
        schemas_v5.TroubleTicketMVO,
        schemas_v5.HubFVO,
        schemas_v5.Hub,
    ],
    "tmf656": list(TMF656_MODELS),
}
_JSON_PATCH = {
    "type": "object",
    "required": ["op", "path"],
    "properties": {
        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": {"type": "string"},
        "value": {},
        "from": {"type": "string"},
    },
}


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or Settings.from_env()
    runtime = Runtime(
        db=db or Database.from_url(settings.database_url),
        clock=clock or SystemClock(),
        settings=settings,
        policies=load_policies(settings.policy_dir or None),
    )
    app = FastAPI(
        title="troubleflow",
        version=__version__,
        description="Customer problem management (eTOM 1.3.7) behind TMF621 Trouble Ticket v4 and v5.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    http_errors.install(app)
    app.include_router(make_router(V4(), runtime))
    app.include_router(make_router(V5(), runtime))
    app.include_router(inventory_api.make_router(runtime))
    app.include_router(known_errors.make_router(runtime))
    app.include_router(work_plan.make_router(runtime))  # tasks of a report (docs/work-plan.md)
    app.include_router(closure.make_router(runtime))  # customer confirmation, improvements (docs/closure.md)
    app.include_router(escalations.make_router(runtime))  # escalations, notifications (docs/escalation.md)
    for problem_rep in TMF656.values():  # Service Problem Management (docs/service-problems.md)
        app.include_router(make_problem_router(problem_rep, runtime))
    app.include_router(make_problem_link_router(runtime))  # a report raises service problems (1.4.6.1)
    app.include_router(restoration_api.make_router(runtime))  # restoration 1.3.7.6 (docs/restoration.md)
    app.include_router(mass_outage_api.make_router(runtime))  # mass outages (docs/mass-outage.md)
    app.include_router(partners_api.make_router(runtime))  # partner tickets, hand-offs (docs/partners.md)
    app.include_router(external_problems_api.make_router(runtime))  # external TMF656 managers' events

    @app.get("/health", include_in_schema=False)
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type=http_errors.JSON)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for version, models in _SCHEMA_MODELS.items():
        _, defs = models_json_schema(
            [(m, "validation") for m in models],
            ref_template=f"#/components/schemas/{version}_{{model}}",
            by_alias=True,
        )
        for name, schema in defs.get("$defs", {}).items():
            components[f"{version}_{name}"] = schema
    components["Error"] = Error.model_json_schema(by_alias=True)
    components["JsonPatch"] = _JSON_PATCH
    app.openapi_schema = doc
    return doc
