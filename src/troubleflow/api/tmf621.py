"""TMF621 Trouble Ticket endpoints, built once per API version from its representation."""

from __future__ import annotations

import hashlib
from typing import Any

import jsonpatch
import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

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
from troubleflow.api.render_cache import RenderCache
from troubleflow.api.representation import Representation, hub_href, ticket_href, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain.events import TROUBLE_TICKET_API
from troubleflow.domain.query import Query
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput
from troubleflow.processes import hub, reports

_encode = msgspec.json.Encoder().encode
JSON_PATCH = "application/json-patch+json"


def make_router(rep: Representation, runtime: Runtime) -> APIRouter:
    """All TMF621 routes for one version; `runtime` carries the database, clock and settings."""
    router = APIRouter(prefix=f"/tmf-api/troubleTicket/{rep.version}", tags=[f"TMF621 {rep.version}"])
    db, clock = runtime.db, runtime.clock
    rendered = RenderCache(rep)

    def href(request: Request, ticket_id: str) -> str:
        return ticket_href(runtime.base_url(request), rep.version, ticket_id)

    def ticket_response(
        request: Request, ticket: TroubleTicket, status: int = 200, fields: tuple[str, ...] | None = None
    ) -> Response:
        body = tmf630.project(rep.render(ticket, href(request, ticket.id)), fields, rep.identity_keys)
        headers = {"ETag": f'"{ticket.version}"'}
        if status == 201:
            headers["Location"] = href(request, ticket.id)
        return Response(_encode(body), status_code=status, media_type=JSON, headers=headers)

    async def list_tickets(request: Request) -> Response:
        query = tmf630.parse_list(request.url.query, rep)
        found, total = await runtime.read(reports.find_reports, db, query)
        base = runtime.base_url(request)
        if query.fields is None:
            body = b"[" + b",".join(rendered.get(f, base) for f in found) + b"]"
        else:
            # Projecting the cached rendering (decoded again) beats rendering the ticket anew.
            keep = rep.identity_keys
            cached = (msgspec.json.decode(rendered.get(f, base)) for f in found)
            body = _encode([tmf630.project(doc, query.fields, keep) for doc in cached])
        partial = len(found) < total
        headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(found))}
        links = _page_links(f"{base}{request.url.path}", request.url.query, query, found, total)
        if links:
            headers["Link"] = links
        return Response(body, status_code=206 if partial else 200, media_type=JSON, headers=headers)

    async def create_ticket(request: Request) -> Response:
        raw = await request.body()
        values = rep.parse(decode_body(raw))
        key = request.headers.get("idempotency-key")
        created = await runtime.write(
            reports.create_report,
            db,
            values,
            clock=clock,
            actor=actor(request),
            idempotency_key=f"{rep.version}:{key}" if key else None,
            policy=runtime.policy(),
            fingerprint=hashlib.sha256(raw).hexdigest(),
        )
        response = ticket_response(request, created.ticket, 201, tmf630.fields_of(request.url.query))
        if created.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    async def get_ticket(request: Request, id: str) -> Response:
        check_id(id)
        found = await runtime.read(reports.find_report, db, id)
        body = rendered.get(found, runtime.base_url(request))
        fields = tmf630.fields_of(request.url.query)
        if fields is not None:
            body = _encode(tmf630.project(msgspec.json.decode(body), fields, rep.identity_keys))
        return Response(body, media_type=JSON, headers={"ETag": f'"{found.version}"'})

    async def patch_ticket(request: Request, id: str) -> Response:
        check_id(id)
        media = media_type(request)
        if media not in MERGE_TYPES and media != JSON_PATCH:
            raise_unsupported_media(media)
        patch = decode_body(await request.body())

        def compute(current: TroubleTicket) -> dict[str, Any]:
            wire = rep.render(current, href(request, current.id))
            patched = _apply(wire, patch, media)
            return _changes(rep, wire, patched)

        ticket = await runtime.write(
            reports.change_report,
            db,
            id,
            compute,
            clock=clock,
            actor=actor(request),
            if_match=if_match(request),
            policy=runtime.policy(),
        )
        return ticket_response(request, ticket, fields=tmf630.fields_of(request.url.query))

    async def delete_ticket(request: Request, id: str) -> Response:
        check_id(id)
        await runtime.write(
            reports.delete_report, db, id, clock=clock, actor=actor(request), if_match=if_match(request)
        )
        return Response(status_code=204)

    async def create_hub(request: Request) -> Response:
        body = decode_body(await request.body())
        model = validate(rep.hub_input_model, body)
        check_callback(model.callback)
        if model.query:
            tmf630.conditions(tmf630.split_query(model.query), frozenset())  # refuse a malformed query now
        extensions = dict(model.model_extra or {})
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
        )
        location = hub_href(runtime.base_url(request), rep.version, sub.id)
        return Response(
            _encode(rep.render_hub(sub, location)),
            status_code=201,
            media_type=JSON,
            headers={"Location": location},
        )

    async def get_hub(request: Request, id: str) -> Response:
        check_id(id)
        sub = await runtime.read(hub.get_subscription, db, id, rep.version, TROUBLE_TICKET_API)
        location = hub_href(runtime.base_url(request), rep.version, sub.id)
        return Response(_encode(rep.render_hub(sub, location)), media_type=JSON)

    async def delete_hub(request: Request, id: str) -> Response:
        check_id(id)
        await runtime.write(hub.unsubscribe, db, id, rep.version, TROUBLE_TICKET_API)
        return Response(status_code=204)

    ticket_doc: dict[int | str, dict[str, Any]] = {
        "200": {
            "description": "The trouble ticket",
            "content": {"application/json": {"schema": _projectable(rep)}},
        }
    }
    list_doc: dict[int | str, dict[str, Any]] = {
        "200": {
            "description": "All matching tickets",
            "content": {"application/json": {"schema": {"type": "array", "items": _projectable(rep)}}},
        },
        "206": {"description": "One page of the matching tickets (see X-Total-Count)"},
    }
    created_doc: dict[int | str, dict[str, Any]] = {
        "201": {
            "description": "Created",
            "content": {"application/json": {"schema": _ref(rep.resource_model)}},
        }
    }
    hub_doc: dict[int | str, dict[str, Any]] = {
        "201": {"description": "Subscribed", "content": {"application/json": {"schema": _ref(rep.hub_model)}}}
    }
    errors_doc = error_responses(400, 404, 409, 412)
    body = _body_doc
    for path in ("/troubleTicket", "/troubleTicket/"):
        shown = path == "/troubleTicket"
        router.add_api_route(
            path,
            list_tickets,
            methods=["GET"],
            include_in_schema=shown,
            responses={**list_doc, **errors_doc},
            openapi_extra=_list_params(),
            summary="List or find trouble tickets",
            operation_id=f"listTroubleTicket{rep.version}" if shown else None,
        )
        router.add_api_route(
            path,
            create_ticket,
            methods=["POST"],
            include_in_schema=shown,
            status_code=201,
            responses={**created_doc, **errors_doc},
            openapi_extra=body(rep.create_model, ["application/json"]),
            summary="Create a trouble ticket",
            operation_id=f"createTroubleTicket{rep.version}" if shown else None,
        )
    router.add_api_route(
        "/troubleTicket/{id}",
        get_ticket,
        methods=["GET"],
        responses={**ticket_doc, **errors_doc},
        summary="Retrieve a trouble ticket",
        openapi_extra=_fields_param(),
    )
    router.add_api_route(
        "/troubleTicket/{id}",
        patch_ticket,
        methods=["PATCH"],
        responses={**ticket_doc, **errors_doc},
        summary="Update a trouble ticket",
        openapi_extra=body(
            rep.update_model, ["application/merge-patch+json", "application/json"], json_patch=True
        ),
    )
    router.add_api_route(
        "/troubleTicket/{id}",
        delete_ticket,
        methods=["DELETE"],
        status_code=204,
        responses={"204": {"description": "Deleted"}, **errors_doc},
        summary="Delete a trouble ticket",
    )
    router.add_api_route(
        "/hub",
        create_hub,
        methods=["POST"],
        status_code=201,
        responses={**hub_doc, **errors_doc},
        summary="Subscribe to trouble ticket events",
        openapi_extra=body(rep.hub_input_model, ["application/json"]),
    )
    router.add_api_route(
        "/hub/{id}",
        get_hub,
        methods=["GET"],
        summary="Retrieve a subscription",
        responses={
            "200": {
                "description": "The subscription",
                "content": {"application/json": {"schema": _ref(rep.hub_model)}},
            },
            **errors_doc,
        },
    )
    router.add_api_route(
        "/hub/{id}",
        delete_hub,
        methods=["DELETE"],
        status_code=204,
        responses={"204": {"description": "Unsubscribed"}, **errors_doc},
        summary="Remove a subscription",
    )
    return router


def _apply(wire: dict[str, Any], patch: Any, media: str) -> dict[str, Any]:
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise InvalidInput("a JSON Patch body must be an array of operations")
        try:
            result = jsonpatch.JsonPatch(patch).apply(wire)
        except jsonpatch.JsonPatchTestFailed as exc:
            raise Conflict(f"JSON Patch test failed: {exc}") from None
        except (
            jsonpatch.JsonPatchException,
            jsonpatch.JsonPointerException,
            TypeError,
            KeyError,
            IndexError,
            ValueError,
        ) as exc:
            raise InvalidInput(f"cannot apply the JSON Patch: {exc}") from None
        if not isinstance(result, dict):
            raise InvalidInput("the JSON Patch must leave the ticket a JSON object")
        return result
    if not isinstance(patch, dict):
        raise InvalidInput("a merge-patch body must be a JSON object")
    from troubleflow.domain.merge_patch import apply_merge_patch

    if isinstance(patch.get("note"), list):
        # Merge patch replaces arrays, but notes are an append-only record: the notes sent are added
        # to those already there (an existing id must come back unchanged).
        known = {n.get("id") for n in wire.get("note", [])}
        patch = {
            **patch,
            "note": [
                *wire.get("note", []),
                *(n for n in patch["note"] if not isinstance(n, dict) or n.get("id") not in known),
            ],
        }
    result = apply_merge_patch(wire, patch)
    assert isinstance(result, dict)
    return result


def _changes(rep: Representation, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Domain values for the attributes the patch really changed (server-owned ones may not change)."""
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    owned = sorted(changed & rep.server_owned)
    if owned:
        raise InvalidInput(f"not patchable: {', '.join(owned)}", field=owned[0])
    values = rep.parse({k: v for k, v in after.items() if k not in rep.server_owned or k == "@type"})
    result: dict[str, Any] = {}
    for key in changed:
        if key == "statusChangeReason":
            result["status_change_reason"] = after.get(key)
            continue
        name = rep.domain_path((key,))[0]
        name = {"external_id": "external_identifier", "channel_id": "channel"}.get(name, name)
        result[name] = values.get(name)
    return result


def _projectable(rep: Representation) -> dict[str, Any]:
    """With `fields=` a GET returns only the selected attributes, so the document says so."""
    return {
        "anyOf": [
            _ref(rep.resource_model),
            {"type": "object", "description": "the attributes selected by `fields`"},
        ]
    }


def _ref(model: type) -> dict[str, str]:
    version = model.__module__.rsplit("_", 1)[-1]  # schemas_v4 / schemas_v5
    return {"$ref": f"#/components/schemas/{version}_{model.__name__}"}


def _body_doc(model: type, media: list[str], json_patch: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {m: {"schema": _ref(model)} for m in media}
    if json_patch:
        content[JSON_PATCH] = {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/JsonPatch"}}
        }
    return {"requestBody": {"required": True, "content": content}}


def _fields_param() -> dict[str, Any]:
    return {
        "parameters": [
            {
                "name": "fields",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Comma-separated first-level attributes to return",
            }
        ]
    }


def _page_links(url: str, raw_query: str, query: Query, found: list[reports.Found], total: int) -> str:
    """RFC 8288 `Link` header with the next and previous pages (TMF630: optional, rel next/prev).
    Where the sort allows it they are cursors (`after`/`before`), which stay fast at any depth and
    do not shift when reports are added meanwhile; otherwise offsets."""
    kept = [p for p in raw_query.split("&") if p and p.split("=", 1)[0] not in tmf630.PAGING]
    links: list[str] = []

    def link(param: str, rel: str) -> None:
        links.append(f'<{url}?{"&".join([*kept, param])}>; rel="{rel}"')

    full = query.limit is not None and len(found) == query.limit
    if found and found[0].key:  # keyset-pageable sort
        if full:
            link(f"after={tmf630.encode_cursor(query.sort, found[-1].key)}", "next")
        if query.cursor is not None or query.offset:
            link(f"before={tmf630.encode_cursor(query.sort, found[0].key)}", "prev")
    elif query.cursor is None and query.limit is not None:
        if query.offset + len(found) < total:
            link(f"offset={query.offset + len(found)}", "next")
        if query.offset:
            link(f"offset={max(0, query.offset - query.limit)}", "prev")
    return ", ".join(links)


def _list_params() -> dict[str, Any]:
    params = _fields_param()["parameters"]
    for name, kind, text in (
        ("offset", "integer", "Index of the first item"),
        ("limit", "integer", "Page size (at most 1000)"),
        ("sort", "string", "attr or -attr, comma-separated"),
        ("after", "string", "Cursor: the page after this position (from a Link rel=next)"),
        ("before", "string", "Cursor: the page before this position (from a Link rel=prev)"),
        ("status", "string", "Filter by status (comma = OR)"),
        ("severity", "string", "Filter by severity"),
    ):
        schema: dict[str, Any] = {"type": kind}
        if kind == "integer":
            schema["minimum"] = 0
        params.append({"name": name, "in": "query", "required": False, "schema": schema, "description": text})
    return {"parameters": params}
