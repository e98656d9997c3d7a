"""TMF656 Service Problem Management endpoints (`/tmf-api/serviceProblemManagement/v4|v5`), built once per
version: serviceProblem (list with TMF630 filters, fields, sort and paging; get; create; merge-patch with
If-Match; delete), the problemGroup / problemUngroup tasks, the read-only serviceProblemEventRecord and the
hub. Plus troubleflow's action on a report, `POST /tmf-api/troubleflow/v1/troubleTicket/{id}/serviceProblem`
(Create Service Trouble Report, 1.4.6.1). docs/service-problems.md."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from troubleflow.api import schemas_tmf656 as s
from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.http import (
    MERGE_TYPES,
    actor,
    check_callback,
    check_id,
    decode_body,
    error_responses,
    if_match,
    media_type,
    raise_unsupported_media,
)
from troubleflow.api.representation import validate
from troubleflow.api.runtime import Runtime
from troubleflow.api.tmf656_representation import V4, ProblemRepresentation
from troubleflow.domain import service_problem as sp
from troubleflow.domain.events import SERVICE_PROBLEM_API
from troubleflow.domain.merge_patch import apply_merge_patch
from troubleflow.domain.query import Condition, Op, matches
from troubleflow.errors import InvalidInput, Unsupported
from troubleflow.processes import hub, problem_groups, service_problems
from troubleflow.storage import service_problems as store

_encode = msgspec.json.Encoder().encode
EXTENSION_PREFIX = "/tmf-api/troubleflow/v1"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(body), status_code=status, media_type=JSON, headers=headers)


def make_router(rep: ProblemRepresentation, runtime: Runtime) -> APIRouter:
    router = APIRouter(
        prefix=f"/tmf-api/serviceProblemManagement/{rep.version}", tags=[f"TMF656 {rep.version}"]
    )
    db, clock = runtime.db, runtime.clock

    def problem_response(
        request: Request, problem: sp.ServiceProblem, status: int = 200, location: bool = False
    ) -> Response:
        base = runtime.base_url(request)
        body = tmf630.project(
            rep.render(problem, base), tmf630.fields_of(request.url.query), rep.identity_keys
        )
        headers = {"ETag": f'"{problem.version}"'}
        if location:
            headers["Location"] = rep.href(base, problem.id)
        return _json(body, status, headers)

    async def list_problems(request: Request) -> Response:
        base = runtime.base_url(request)
        docs = [rep.render(p, base) for p in await runtime.read(service_problems.list_problems, db)]
        return _page(request, rep, docs)

    async def create_problem(request: Request) -> Response:
        values = rep.parse(decode_body(await request.body()), create=True)
        problem = await runtime.write(
            service_problems.create_problem,
            db,
            values,
            clock=clock,
            actor=actor(request),
            policy=runtime.policy(),
        )
        return problem_response(request, problem, 201, location=True)

    async def get_problem(request: Request, id: str) -> Response:
        check_id(id)
        return problem_response(request, await runtime.read(service_problems.get_problem, db, id))

    async def patch_problem(request: Request, id: str) -> Response:
        check_id(id)
        media = media_type(request)
        if media not in MERGE_TYPES:
            raise_unsupported_media(media)
        patch = decode_body(await request.body())
        if not isinstance(patch, dict):
            raise InvalidInput("a merge-patch body must be a JSON object")
        base = runtime.base_url(request)

        def compute(current: sp.ServiceProblem) -> dict[str, Any]:
            wire = rep.render(current, base)
            if isinstance(patch.get("note"), list):  # notes are appended, as on a trouble ticket
                known = {n.get("id") for n in wire.get("note", [])}
                sent = [n for n in patch["note"] if not isinstance(n, dict) or n.get("id") not in known]
                patched_notes = {**patch, "note": [*wire.get("note", []), *sent]}
            else:
                patched_notes = patch
            return rep.changes(wire, apply_merge_patch(wire, patched_notes))

        problem = await runtime.write(
            service_problems.change_problem,
            db,
            id,
            compute,
            clock=clock,
            actor=actor(request),
            if_match=if_match(request),
            policy=runtime.policy(),
        )
        return problem_response(request, problem)

    async def delete_problem(request: Request, id: str) -> Response:
        check_id(id)
        await runtime.write(
            service_problems.delete_problem,
            db,
            id,
            clock=clock,
            actor=actor(request),
            if_match=if_match(request),
        )
        return Response(status_code=204)

    async def list_records(request: Request) -> Response:
        base = runtime.base_url(request)
        rows = await runtime.read(_records, runtime)
        return _page(request, rep, [rep.event_record(r, base) for r in rows])

    async def get_record(request: Request, id: str) -> Response:
        check_id(id)
        row = await runtime.read(_record, runtime, id)
        body = rep.event_record(row, runtime.base_url(request))
        return _json(tmf630.project(body, tmf630.fields_of(request.url.query), rep.identity_keys))

    def task_routes(kind: str) -> None:
        do = problem_groups.group if kind == problem_groups.GROUP else problem_groups.ungroup

        async def post_task(request: Request) -> Response:
            model = validate(s.ProblemGroupInput, decode_body(await request.body()))
            doc = await runtime.write(
                do,
                db,
                model.parent_problem.id,
                [c.id for c in model.child_problem],
                clock=clock,
                actor=actor(request),
            )
            body = rep.render_task(doc, runtime.base_url(request))
            return _json(body, 201, {"Location": body["href"]})

        async def list_task(request: Request) -> Response:
            base = runtime.base_url(request)
            docs = await runtime.read(problem_groups.list_tasks, db, kind)
            return _page(request, rep, [rep.render_task(d, base) for d in docs])

        async def get_task(request: Request, id: str) -> Response:
            check_id(id)
            doc = await runtime.read(problem_groups.get_task, db, kind, id)
            body = rep.render_task(doc, runtime.base_url(request))
            return _json(tmf630.project(body, tmf630.fields_of(request.url.query), rep.identity_keys))

        errors = error_responses(400, 409)
        router.add_api_route(
            f"/{kind}",
            post_task,
            methods=["POST"],
            status_code=201,
            responses=errors,
            summary=f"Create a {kind}",
        )
        if rep.v5:  # v4 offers the task resources as POST only
            router.add_api_route(f"/{kind}", list_task, methods=["GET"], summary=f"List {kind} tasks")
            router.add_api_route(
                f"/{kind}/{{id}}",
                get_task,
                methods=["GET"],
                responses=error_responses(404),
                summary=f"A {kind}",
            )

    async def create_hub(request: Request) -> Response:
        model = validate(s.HubInput, decode_body(await request.body()))
        check_callback(model.callback)
        if model.query:
            tmf630.conditions(tmf630.split_query(model.query), frozenset())  # refuse a malformed query now
        extensions = {k: v for k, v in (model.model_extra or {}).items()}
        extensions.pop("@type", None)
        secret = extensions.pop("secret", None)
        sub = await runtime.write(
            hub.subscribe,
            db,
            api_version=rep.version,
            callback=model.callback,
            query=model.query,
            secret=str(secret) if secret is not None else None,
            extensions=extensions,
            clock=clock,
            api=SERVICE_PROBLEM_API,
        )
        location = f"{rep.root(runtime.base_url(request))}/hub/{sub.id}"
        return _json(rep.render_hub(sub, location), 201, {"Location": location})

    async def get_hub(request: Request, id: str) -> Response:
        check_id(id)
        sub = await runtime.read(hub.get_subscription, db, id, rep.version, SERVICE_PROBLEM_API)
        location = f"{rep.root(runtime.base_url(request))}/hub/{sub.id}"
        return _json(rep.render_hub(sub, location))

    async def delete_hub(request: Request, id: str) -> Response:
        check_id(id)
        await runtime.write(hub.unsubscribe, db, id, rep.version, SERVICE_PROBLEM_API)
        return Response(status_code=204)

    errors = error_responses(400, 404, 409, 412)
    router.add_api_route(
        "/serviceProblem",
        list_problems,
        methods=["GET"],
        responses=errors,
        summary="List or find service problems",
    )
    router.add_api_route(
        "/serviceProblem",
        create_problem,
        methods=["POST"],
        status_code=201,
        responses=errors,
        summary="Create a service problem",
        openapi_extra=_body(rep.create_model),
    )
    router.add_api_route(
        "/serviceProblem/{id}",
        get_problem,
        methods=["GET"],
        responses=errors,
        summary="Retrieve a service problem",
    )
    router.add_api_route(
        "/serviceProblem/{id}",
        patch_problem,
        methods=["PATCH"],
        responses=errors,
        summary="Update a service problem (merge patch)",
        openapi_extra=_body(rep.update_model, "application/merge-patch+json"),
    )
    router.add_api_route(
        "/serviceProblem/{id}",
        delete_problem,
        methods=["DELETE"],
        status_code=204,
        responses=errors,
        summary="Delete a service problem",
    )
    router.add_api_route(
        "/serviceProblemEventRecord",
        list_records,
        methods=["GET"],
        responses=errors,
        summary="List event records",
    )
    router.add_api_route(
        "/serviceProblemEventRecord/{id}",
        get_record,
        methods=["GET"],
        responses=errors,
        summary="An event record",
    )
    task_routes(problem_groups.GROUP)
    task_routes(problem_groups.UNGROUP)
    router.add_api_route(
        "/hub",
        create_hub,
        methods=["POST"],
        status_code=201,
        responses=errors,
        summary="Subscribe to service problem events",
        openapi_extra=_body(s.HubInput),
    )
    router.add_api_route("/hub/{id}", get_hub, methods=["GET"], responses=errors, summary="A subscription")
    router.add_api_route(
        "/hub/{id}", delete_hub, methods=["DELETE"], status_code=204, responses=errors, summary="Unsubscribe"
    )
    return router


def _records(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.db.read() as conn:
        return store.event_records(conn)


def _record(runtime: Runtime, event_id: str) -> tuple[Any, ...]:
    with runtime.db.read() as conn:
        return store.event_record(conn, event_id)


def _page(request: Request, rep: ProblemRepresentation, docs: list[dict[str, Any]]) -> Response:
    """TMF630 on a rendered collection: attribute filters (operators, OR, dotted paths), sort, offset/limit
    (206 with X-Total-Count when partial) and fields. Service problems are few next to reports, so the
    filters run on the representation instead of being compiled to SQL."""
    parts = tmf630.split_query(request.url.query)
    for key, _op, _value in parts:
        if key in tmf630.UNSUPPORTED:
            raise Unsupported(f"the '{key}' query parameter is not supported; use attribute filters")
    params = {k: v for k, op, v in parts if k in tmf630.RESERVED and op is Op.EQ}
    if "after" in params or "before" in params:
        raise Unsupported("cursor paging is offered on trouble tickets only; use offset and limit")
    conditions = tuple(Condition(p, op, v) for p, op, v in tmf630.conditions(parts, tmf630.RESERVED))
    found = [d for d in docs if matches(d, conditions)]
    for key in reversed([k.strip() for k in (params.get("sort") or "").split(",") if k.strip()]):
        name = key.lstrip("+-")
        found.sort(key=lambda d: (d.get(name) is None, str(d.get(name, ""))), reverse=key.startswith("-"))
    offset = tmf630.whole_number(params, "offset", 0)
    limit = min(tmf630.whole_number(params, "limit", tmf630.MAX_PAGE), tmf630.MAX_PAGE)
    page = found[offset : offset + limit]
    fields = tmf630.parse_fields(params.get("fields"))
    body = [tmf630.project(d, fields, rep.identity_keys) for d in page]
    headers = {"X-Total-Count": str(len(found)), "X-Result-Count": str(len(page))}
    return _json(body, 206 if len(page) < len(found) else 200, headers)


def _body(model: type, media: str = "application/json") -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/tmf656_{model.__name__}"}
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


# -- troubleflow's action on a report: Create Service Trouble Report (1.4.6.1) ----------------------------


def make_report_router(runtime: Runtime) -> APIRouter:
    """`/tmf-api/troubleflow/v1/troubleTicket/{id}/serviceProblem`: POST raises a new service problem from
    the report (201; body: TMF656 attributes that add to or override what the report gives) or links an
    existing one (`{"id": ...}`, 200); GET lists the problems explaining the report (TMF656 v4 shape)."""
    router = APIRouter(
        prefix=f"{EXTENSION_PREFIX}/troubleTicket/{{id}}/serviceProblem", tags=["Service problems"]
    )
    db, clock = runtime.db, runtime.clock

    async def raise_problem(request: Request, id: str) -> Response:
        check_id(id)
        raw = await request.body()
        body = decode_body(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object")
        existing = body.get("id")
        if existing is not None and not isinstance(existing, str):
            raise InvalidInput("'id' names an existing service problem (a string)", field="id")
        values = None if existing else V4.parse(body, create=False)
        if values is not None and not values["extensions"]:
            del values["extensions"]
        problem, new = await runtime.write(
            service_problems.raise_for_report,
            db,
            id,
            values=values,
            problem_id=existing,
            clock=clock,
            actor=actor(request),
            policy=runtime.policy(),
        )
        base = runtime.base_url(request)
        headers = {"ETag": f'"{problem.version}"', "Location": V4.href(base, problem.id)}
        return _json(V4.render(problem, base), 201 if new else 200, headers)

    async def list_for_report(request: Request, id: str) -> Response:
        check_id(id)
        problems = await runtime.read(service_problems.problems_of_report, db, id)
        base = runtime.base_url(request)
        return _json([V4.render(p, base) for p in problems])

    router.add_api_route(
        "",
        raise_problem,
        methods=["POST"],
        status_code=201,
        responses=error_responses(400, 404, 409),
        summary="Raise or link a service problem for a report (Create Service Trouble Report, 1.4.6.1)",
    )
    router.add_api_route(
        "",
        list_for_report,
        methods=["GET"],
        responses=error_responses(404),
        summary="The report's service problems",
    )
    return router
