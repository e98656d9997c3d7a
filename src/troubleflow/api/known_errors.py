"""The known-error database over HTTP: `/tmf-api/troubleflow/v1/knownError` (troubleflow's own extension
API, TMF630 style: `id`/`href`/`@type`, merge-patch with If-Match, offset/limit with X-Total-Count,
TMF error bodies). See docs/known-errors.md."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.http import (
    MERGE_TYPES,
    actor,
    decode_body,
    error_responses,
    if_match,
    page,
    raise_unsupported_media,
)
from troubleflow.api.representation import fmt, known_error_href, put, ticket_href, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain.known_error import KnownError
from troubleflow.domain.merge_patch import apply_merge_patch
from troubleflow.domain.query import Op
from troubleflow.errors import InvalidInput, NotFound
from troubleflow.processes import known_errors
from troubleflow.processes.known_errors import Record
from troubleflow.storage.known_errors import Filters

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode
# Wire attribute -> domain attribute, for what a client may set.
WIRE_TO_DOMAIN = {
    "title": "title",
    "symptom": "symptom",
    "workaround": "workaround",
    "category": "category",
    "product": "product",
    "rootCause": "root_cause",
    "permanentFixStatus": "permanent_fix_status",
    "status": "status",
    "changeRequest": "change_request",
}
SERVER_OWNED = frozenset(
    {"id", "href", "@type", "creationDate", "lastUpdate", "sourceTroubleTicket", "hitCount", "version"}
)
_FILTERS = {"category": "category", "permanentFixStatus": "permanent_fix_status", "status": "status"}
_LIST_PARAMS = frozenset({"offset", "limit", "fields", "q", *_FILTERS})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class TroubleTicketRef(_Wire):
    id: str = Field(min_length=1, max_length=40)
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class _KnownErrorFields(_Wire):
    """What a client may say of a known error, on create and by merge patch."""

    title: str | None = None
    symptom: str | None = None
    workaround: str | None = None
    category: str | None = None
    product: str | None = None
    root_cause: str | None = Field(None, alias="rootCause")
    permanent_fix_status: Literal["open", "inProgress", "fixed", "wontFix"] | None = Field(
        None, alias="permanentFixStatus"
    )


class KnownErrorCreate(_KnownErrorFields):
    """A known error to record. With `sourceTroubleTicket` the title, symptom, category and (for a
    cleared report) workaround default to what the diagnosed report says."""

    type_: Literal["KnownError"] | None = Field(None, alias="@type")
    change_request: str | None = Field(None, alias="changeRequest")
    source_trouble_ticket: TroubleTicketRef | None = Field(None, alias="sourceTroubleTicket")


class KnownErrorUpdate(_KnownErrorFields):
    """Merge-patch body (documentation; the patch is checked attribute by attribute)."""

    status: Literal["active", "retired"] | None = None
    change_request: str | None = Field(None, alias="changeRequest")


class KnownErrorResource(BaseModel):
    """A known error as returned (documentation of the responses)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    href: str
    type_: Literal["KnownError"] = Field(alias="@type")
    title: str
    symptom: str
    category: str | None = None
    product: str | None = None
    root_cause: str | None = Field(None, alias="rootCause")
    workaround: str
    permanent_fix_status: Literal["open", "inProgress", "fixed", "wontFix"] = Field(
        alias="permanentFixStatus"
    )
    status: Literal["active", "retired"]
    change_request: str | None = Field(None, alias="changeRequest")
    source_trouble_ticket: TroubleTicketRef | None = Field(None, alias="sourceTroubleTicket")
    hit_count: int = Field(alias="hitCount", description="reports linked to it (offered or its source)")
    creation_date: str = Field(alias="creationDate")
    last_update: str = Field(alias="lastUpdate")


def render(record: Record, base: str) -> dict[str, Any]:
    k: KnownError = record.known_error
    out: dict[str, Any] = {"id": str(k.id), "href": known_error_href(base, k.id), "@type": "KnownError"}
    out.update(title=k.title, symptom=k.symptom)
    put(out, "category", k.category)
    put(out, "product", k.product)
    put(out, "rootCause", k.root_cause)
    out["workaround"] = k.workaround
    out["permanentFixStatus"] = k.permanent_fix_status.value
    out["status"] = k.status.value
    put(out, "changeRequest", k.change_request)
    if k.source_ticket_id is not None:
        out["sourceTroubleTicket"] = {
            "id": k.source_ticket_id,
            "href": ticket_href(base, "v4", k.source_ticket_id),
            "@referredType": "TroubleTicket",
        }
    out["hitCount"] = record.hits
    out["creationDate"] = fmt(k.created)
    out["lastUpdate"] = fmt(k.updated)
    return out


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Known errors (troubleflow extension)"])
    db, clock = runtime.db, runtime.clock

    def respond(request: Request, record: Record, status: int = 200) -> Response:
        base = runtime.base_url(request)
        body = tmf630.project(render(record, base), tmf630.fields_of(request.url.query), frozenset({"id"}))
        headers = {"ETag": f'"{record.known_error.version}"'}
        if status == 201:
            headers["Location"] = known_error_href(base, record.known_error.id)
        return Response(_encode(body), status_code=status, media_type=JSON, headers=headers)

    async def create(request: Request) -> Response:
        model = validate(KnownErrorCreate, decode_body(await request.body()))
        values = {
            WIRE_TO_DOMAIN[k]: v
            for k, v in model.model_dump(by_alias=True, exclude_none=True).items()
            if k in WIRE_TO_DOMAIN
        }
        if model.source_trouble_ticket is not None:
            record = await runtime.write(
                known_errors.record_from_report,
                db,
                model.source_trouble_ticket.id,
                values,
                clock=clock,
                actor=actor(request),
                policy=runtime.policy(),
            )
        else:
            record = await runtime.write(
                known_errors.record_known_error, db, values, clock=clock, policy=runtime.policy()
            )
        return respond(request, record, 201)

    async def list_all(request: Request) -> Response:
        filters, q, offset, limit, fields = _list_query(request.url.query)
        found, total = await runtime.read(
            known_errors.find_known_errors, db, filters, q=q, offset=offset, limit=limit
        )
        base = runtime.base_url(request)
        body = [tmf630.project(render(r, base), fields, frozenset({"id"})) for r in found]
        return page(body, total)

    async def get_one(request: Request, id: str) -> Response:
        record = await runtime.read(known_errors.get_known_error, db, _id(id))
        return respond(request, record)

    async def patch(request: Request, id: str) -> Response:
        ke_id = _id(id)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in MERGE_TYPES:
            raise_unsupported_media(media)
        body = decode_body(await request.body())
        if not isinstance(body, dict):
            raise InvalidInput("a merge-patch body must be a JSON object")
        base = runtime.base_url(request)

        def compute(current: Record) -> dict[str, Any]:
            wire = render(current, base)
            patched = apply_merge_patch(wire, body)
            assert isinstance(patched, dict)
            return _changes(wire, patched)

        record = await runtime.write(
            known_errors.change_known_error,
            db,
            ke_id,
            compute,
            clock=clock,
            if_match=if_match(request),
            policy=runtime.policy(),
        )
        return respond(request, record)

    async def retire(request: Request, id: str) -> Response:
        await runtime.write(
            known_errors.retire_known_error, db, _id(id), clock=clock, if_match=if_match(request)
        )
        return Response(status_code=204)

    errors_doc = error_responses(400, 404, 409, 412)
    router.add_api_route(
        "/knownError",
        create,
        methods=["POST"],
        status_code=201,
        responses={"201": _ok("Recorded"), **errors_doc},
        summary="Record a known error (from a diagnosed report with sourceTroubleTicket)",
        openapi_extra=_body(KnownErrorCreate),
    )
    router.add_api_route(
        "/knownError",
        list_all,
        methods=["GET"],
        responses={
            "200": _ok("The matching known errors", many=True),
            "206": {"description": "One page"},
            **errors_doc,
        },
        summary="List or search known errors (q = full text)",
        openapi_extra=_list_doc(),
    )
    router.add_api_route(
        "/knownError/{id}", get_one, methods=["GET"], responses=errors_doc, summary="Retrieve a known error"
    )
    router.add_api_route(
        "/knownError/{id}",
        patch,
        methods=["PATCH"],
        responses={"200": _ok("Updated"), **errors_doc},
        summary="Update a known error (merge patch; If-Match honoured)",
        openapi_extra=_body(KnownErrorUpdate, "application/merge-patch+json"),
    )
    router.add_api_route(
        "/knownError/{id}",
        retire,
        methods=["DELETE"],
        status_code=204,
        responses={"204": {"description": "Retired"}, **errors_doc},
        summary="Retire a known error (kept for its linked reports, never offered again)",
    )
    return router


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"no known error with id '{raw}'", field="id")
    return int(raw)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    owned = [k for k in changed if k in SERVER_OWNED]
    if owned:
        raise InvalidInput(f"not patchable: {', '.join(owned)}", field=owned[0])
    unknown = [k for k in changed if k not in WIRE_TO_DOMAIN]
    if unknown:
        raise InvalidInput(f"unknown attribute: {', '.join(unknown)}", field=unknown[0])
    return {WIRE_TO_DOMAIN[k]: after.get(k) for k in changed}


def _list_query(raw: str) -> tuple[Filters, str | None, int, int, tuple[str, ...] | None]:
    values: dict[str, list[str]] = {}
    for key, op, value in tmf630.split_query(raw):
        if key not in _LIST_PARAMS or op is not Op.EQ:
            allowed = ", ".join(sorted(_LIST_PARAMS))
            raise InvalidInput(f"cannot filter known errors by '{key}' (use {allowed})", field=key)
        values.setdefault(key, []).append(value)
    single = {k: v[-1] for k, v in values.items()}
    offset = tmf630.whole_number(single, "offset", 0)
    limit = min(tmf630.whole_number(single, "limit", 100), tmf630.MAX_PAGE)
    filters = Filters(
        **{
            _FILTERS[k]: tuple(x for v in values[k] for x in v.split(",") if x)
            for k in _FILTERS
            if k in values
        }
    )
    return filters, single.get("q"), offset, limit, tmf630.parse_fields(single.get("fields"))


def _body(model: type[BaseModel], media: str = "application/json") -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media: {"schema": _schema(model)}}}}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written inline (a `#/$defs/…` reference would
    not resolve from the root of the OpenAPI document)."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    result = inline(schema)
    assert isinstance(result, dict)
    return result


def _ok(description: str, *, many: bool = False) -> dict[str, Any]:
    schema = _schema(KnownErrorResource)
    body = {"type": "array", "items": schema} if many else schema
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _list_doc() -> dict[str, Any]:
    params = [
        ("q", "string", "Full-text search of title, symptom and product (any significant word, stemmed)"),
        ("category", "string", "Filter by category (comma = OR)"),
        ("permanentFixStatus", "string", "open, inProgress, fixed or wontFix (comma = OR)"),
        ("status", "string", "active or retired (comma = OR)"),
        ("offset", "integer", "Index of the first item"),
        ("limit", "integer", "Page size (at most 1000; default 100)"),
        ("fields", "string", "Comma-separated attributes to return"),
    ]
    return {
        "parameters": [
            {"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
            for n, t, d in params
        ]
    }
