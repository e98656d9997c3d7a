"""Correct & Recover Customer Problem (1.3.7.6) over HTTP, a troubleflow extension beside TMF621
(docs/restoration.md). Under a report, `/tmf-api/troubleflow/v1/troubleTicket/{id}/…`: its restoration trail
(`restorationAction`, `feasibilityDecision`, `solutionValidation`, `majorProblemReview`) and the requests it
sends (`productOrderRequest`, `processRequest`); on their own, the items that outlive the report
(`changeRequest`, `productOrderRequest`, `processRequest`) with their state lifecycle. TMF630 style:
`id`/`href`/`@type`, If-Match against `version`, TMF error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.http import actor, decode_body, error_responses, if_match, page
from troubleflow.api.representation import validate
from troubleflow.api.restoration_wire import (
    ITEM_TYPES,
    PREFIX,
    RECORD_PATHS,
    TYPES,
    ChangeRequestCreate,
    Completion,
    FeasibilityCreate,
    ItemUpdate,
    ProcessRequestCreate,
    ProductOrderRequestCreate,
    RestorationActionCreate,
    ReviewCreate,
    ValidationCreate,
    action_values,
    item_id_of,
    render_item,
    render_record,
)
from troubleflow.api.runtime import Runtime
from troubleflow.domain import restoration as rs
from troubleflow.errors import InvalidInput
from troubleflow.processes import restoration_actions, restoration_items, restoration_steps

_encode = msgspec.json.Encoder().encode


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Restoration (troubleflow)"])
    db, clock = runtime.db, runtime.clock

    def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(_encode(body), status_code=status, media_type=JSON, headers=headers)

    def created(request: Request, body: dict[str, Any]) -> Response:
        return json(body, 201, {"Location": body["href"]})

    def item_response(request: Request, item: rs.Item, status: int = 200) -> Response:
        body = render_item(item, runtime.base_url(request))
        headers = {"ETag": f'"{item.version}"'} | ({"Location": body["href"]} if status == 201 else {})
        return json(body, status, headers)

    def record_routes(
        kind: rs.Kind,
        model: type[BaseModel],
        use: Callable[..., Any],
        values: Callable[[Any], dict[str, Any]],
    ) -> None:
        path = f"/troubleTicket/{{id}}/{RECORD_PATHS[kind]}"
        name = TYPES[kind]

        async def create(request: Request, id: str) -> Response:
            m = validate(model, decode_body(await request.body()))
            done = await runtime.write(
                use, db, id, values(m), clock=clock, actor=actor(request), policy=runtime.policy()
            )
            return created(request, render_record(done.record, runtime.base_url(request)))

        async def listing(request: Request, id: str) -> Response:
            found = await runtime.read(restoration_steps.list_records, db, id, kind)
            base = runtime.base_url(request)
            return json([render_record(r, base) for r in found])

        async def one(request: Request, id: str, record_id: str) -> Response:
            found = await runtime.read(restoration_steps.get_record, db, id, kind, record_id)
            return json(render_record(found, runtime.base_url(request)))

        errors = error_responses(400, 404, 409)
        router.add_api_route(
            path,
            create,
            methods=["POST"],
            status_code=201,
            summary=f"Record a {name}",
            responses=errors,
            name=f"create{name}",
        )
        router.add_api_route(
            path,
            listing,
            methods=["GET"],
            summary=f"List the {name} records of a report",
            responses=error_responses(404),
            name=f"list{name}",
        )
        router.add_api_route(
            f"{path}/{{record_id}}",
            one,
            methods=["GET"],
            summary=f"Retrieve a {name}",
            responses=error_responses(404),
            name=f"retrieve{name}",
        )

    record_routes(rs.Kind.ACTION, RestorationActionCreate, restoration_actions.record_action, action_values)
    record_routes(
        rs.Kind.FEASIBILITY,
        FeasibilityCreate,
        restoration_steps.decide_feasibility,
        lambda m: {"feasible": m.feasible, "reason": m.reason},
    )
    record_routes(
        rs.Kind.VALIDATION,
        ValidationCreate,
        restoration_steps.validate_solution,
        lambda m: {"passed": m.passed, "method": m.method, "description": m.description},
    )
    record_routes(
        rs.Kind.REVIEW,
        ReviewCreate,
        restoration_steps.review_major_problem,
        lambda m: {"description": m.description, "lessonsLearned": m.lessons_learned},
    )

    def request_routes(
        kind: rs.ItemKind,
        model: type[BaseModel],
        use: Callable[..., Any],
        values: Callable[[Any], dict[str, Any]],
    ) -> None:
        path = f"/troubleTicket/{{id}}/{kind.value}"
        name = ITEM_TYPES[kind]

        async def create(request: Request, id: str) -> Response:
            m = validate(model, decode_body(await request.body()))
            item = await runtime.write(
                use, db, id, values(m), clock=clock, actor=actor(request), policy=runtime.policy()
            )
            return item_response(request, item, 201)

        async def listing(request: Request, id: str) -> Response:
            found = await runtime.read(restoration_items.items_of_report, db, id, kind)
            base = runtime.base_url(request)
            return json([render_item(i, base) for i in found])

        router.add_api_route(
            path,
            create,
            methods=["POST"],
            status_code=201,
            summary=f"Send a {name}",
            responses=error_responses(400, 404, 409),
            name=f"create{name}",
        )
        router.add_api_route(
            path,
            listing,
            methods=["GET"],
            summary=f"List the {name}s of a report",
            responses=error_responses(404),
            name=f"list{name}s",
        )

    request_routes(
        rs.ItemKind.PRODUCT_ORDER,
        ProductOrderRequestCreate,
        restoration_items.request_product_order,
        lambda m: {
            "action": m.action,
            "description": m.description,
            "product_id": m.product.id if m.product else None,
        },
    )
    request_routes(
        rs.ItemKind.PROCESS_REQUEST,
        ProcessRequestCreate,
        restoration_items.request_process,
        lambda m: {"target_process": m.target_process, "description": m.description},
    )

    def item_routes(kind: rs.ItemKind) -> None:
        path = f"/{kind.value}/{{item_id}}"
        name = ITEM_TYPES[kind]

        async def one(request: Request, item_id: str) -> Response:
            item = await runtime.read(restoration_items.get_item, db, kind, item_id_of(item_id, kind))
            return item_response(request, item)

        async def patch(request: Request, item_id: str) -> Response:
            m = validate(ItemUpdate, decode_body(await request.body()))
            item = await runtime.write(
                restoration_items.move_item,
                db,
                kind,
                item_id_of(item_id, kind),
                {"state": m.state, "reason": m.reason},
                clock=clock,
                actor=actor(request),
                if_match=if_match(request),
                policy=runtime.policy(),
            )
            return item_response(request, item)

        async def listing(request: Request) -> Response:
            params = dict(request.query_params)
            unknown = set(params) - {"state", "offset", "limit"}
            if unknown:
                raise InvalidInput(
                    f"cannot filter by '{sorted(unknown)[0]}' (use state, offset, limit)",
                    field=sorted(unknown)[0],
                )
            state = rs.parse_item_state(params["state"]) if "state" in params else None
            offset = tmf630.whole_number(params, "offset", 0)
            limit = min(tmf630.whole_number(params, "limit", 100), tmf630.MAX_PAGE)
            found, total = await runtime.read(
                restoration_items.find_items, db, kind, state, offset=offset, limit=limit
            )
            base = runtime.base_url(request)
            return page([render_item(i, base) for i in found], total)

        router.add_api_route(
            f"/{kind.value}",
            listing,
            methods=["GET"],
            summary=f"List {name}s",
            responses=error_responses(400),
            name=f"find{name}s",
        )
        router.add_api_route(
            path,
            one,
            methods=["GET"],
            summary=f"Retrieve a {name}",
            responses=error_responses(400, 404),
            name=f"retrieve{name}",
        )
        router.add_api_route(
            path,
            patch,
            methods=["PATCH"],
            summary=f"Move a {name} along its lifecycle",
            responses=error_responses(400, 404, 409, 412),
            name=f"patch{name}",
        )

    for kind in rs.ItemKind:
        item_routes(kind)

    async def complete_order(request: Request, item_id: str) -> Response:
        raw = await request.body()
        m = validate(Completion, decode_body(raw)) if raw.strip() else Completion()
        item = await runtime.write(
            restoration_items.move_item,
            db,
            rs.ItemKind.PRODUCT_ORDER,
            item_id_of(item_id, rs.ItemKind.PRODUCT_ORDER),
            {"state": m.state, "reason": m.reason},
            clock=clock,
            actor=actor(request),
            if_match=if_match(request),
            policy=runtime.policy(),
        )
        return item_response(request, item)

    async def create_change_request(request: Request) -> Response:
        m = validate(ChangeRequestCreate, decode_body(await request.body()))
        item = await runtime.write(
            restoration_items.initiate_change_request,
            db,
            str(m.trouble_ticket.id),
            {"description": m.description},
            clock=clock,
            actor=actor(request),
            policy=runtime.policy(),
        )
        return item_response(request, item, 201)

    router.add_api_route(
        "/productOrderRequest/{item_id}/completion",
        complete_order,
        methods=["POST"],
        summary="Report the completion (or failure) of a product order request",
        responses=error_responses(400, 404, 409, 412),
    )
    router.add_api_route(
        "/changeRequest",
        create_change_request,
        methods=["POST"],
        status_code=201,
        summary="Initiate a change request (1.3.7.6.6)",
        responses=error_responses(400, 409),
    )
    return router
