"""The customer inventory, read-only, as TMF-shaped subsets: TMF629 Customer, TMF637 Product, TMF638
Service and TMF632 Organization (the partners). GET a collection (TMF630 `offset`/`limit`, `fields`,
`X-Total-Count`) or one by id; every other method is 405, since the inventory is imported (CLI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from troubleflow.api import tmf630
from troubleflow.api.errors import JSON
from troubleflow.api.http import check_id, error_responses, page
from troubleflow.api.representation import put
from troubleflow.api.runtime import Runtime
from troubleflow.domain.inventory import Customer, Partner, Product, Record, Service
from troubleflow.errors import InvalidInput
from troubleflow.processes import inventory

_encode = msgspec.json.Encoder().encode
_IDENTITY = frozenset({"id", "href", "@type"})

# kind -> (TMF API path, resource name in that API); hrefs are built from these.
PATHS: dict[str, tuple[str, str]] = {
    "customer": ("/tmf-api/customerManagement/v4", "customer"),
    "product": ("/tmf-api/productInventory/v4", "product"),
    "service": ("/tmf-api/serviceInventory/v4", "service"),
    "partner": ("/tmf-api/partyManagement/v4", "organization"),
}
Renderer = Callable[[Record, str, dict[str, list[Service]]], dict[str, Any]]


def href(base: str, kind: str, record_id: str) -> str:
    api, resource = PATHS[kind]
    return f"{base}{api}/{resource}/{record_id}"


def _characteristics(pairs: dict[str, str | None]) -> list[dict[str, str]]:
    return [{"name": k, "value": v, "valueType": "string"} for k, v in pairs.items() if v is not None]


def _contact_medium(contact: dict[str, Any]) -> list[dict[str, Any]]:
    """TMF ContactMedium: one per e-mail address and phone number, the contact's name as contactType."""
    media = []
    for medium, key, attribute in (("email", "email", "emailAddress"), ("phone", "phone", "phoneNumber")):
        if contact.get(key):
            characteristic = {attribute: contact[key]}
            put(characteristic, "contactType", contact.get("name"))
            media.append({"mediumType": medium, "characteristic": characteristic})
    return media


def render_customer(c: Record, base: str, _services: dict[str, list[Service]]) -> dict[str, Any]:
    assert isinstance(c, Customer)
    out: dict[str, Any] = {
        "id": c.id,
        "href": href(base, "customer", c.id),
        "@type": "Customer",
        "name": c.name,
    }
    put(out, "contactMedium", _contact_medium(c.contact))
    put(
        out,
        "characteristic",
        _characteristics({"segment": c.segment, "slaClass": c.sla_class, "region": c.region}),
    )
    return out


def render_product(p: Record, base: str, services: dict[str, list[Service]]) -> dict[str, Any]:
    assert isinstance(p, Product)
    out: dict[str, Any] = {
        "id": p.id,
        "href": href(base, "product", p.id),
        "@type": "Product",
        "name": p.name,
        "status": p.status,
    }
    if p.offering:
        out["productOffering"] = {"id": p.offering, "@referredType": "ProductOffering"}
    parties = [
        {
            "id": p.customer_id,
            "href": href(base, "customer", p.customer_id),
            "role": "customer",
            "@referredType": "Customer",
        }
    ]
    if p.partner_id:
        parties.append(
            {
                "id": p.partner_id,
                "href": href(base, "partner", p.partner_id),
                "role": "partner",
                "@referredType": "Organization",
            }
        )
    out["relatedParty"] = parties
    put(out, "productCharacteristic", _characteristics({"region": p.region, "slaClass": p.sla_class}))
    put(
        out,
        "realizingService",
        [
            {"id": s.id, "href": href(base, "service", s.id), "name": s.name, "@referredType": "Service"}
            for s in services.get(p.id, [])
        ],
    )
    return out


def render_service(s: Record, base: str, _services: dict[str, list[Service]]) -> dict[str, Any]:
    assert isinstance(s, Service)
    out: dict[str, Any] = {
        "id": s.id,
        "href": href(base, "service", s.id),
        "@type": "Service",
        "name": s.name,
    }
    put(out, "category", s.category)
    out["state"] = s.status
    if s.specification:
        out["serviceSpecification"] = {"id": s.specification, "@referredType": "ServiceSpecification"}
    out["relatedEntity"] = [
        {
            "id": s.product_id,
            "href": href(base, "product", s.product_id),
            "role": "realizes",
            "@referredType": "Product",
        }
    ]
    return out


def render_partner(o: Record, base: str, _services: dict[str, list[Service]]) -> dict[str, Any]:
    assert isinstance(o, Partner)
    out: dict[str, Any] = {
        "id": o.id,
        "href": href(base, "partner", o.id),
        "@type": "Organization",
        "name": o.name,
        "organizationType": "partner",
    }
    put(out, "contactMedium", _contact_medium(o.contact))
    # The restoration time the partner agreement requires (Track & Manage compares a delegate's ETA to it),
    # and the partner's TMF621 API root problems are submitted to (docs/partners.md).
    traits = {"restorationTime": o.restoration_time, "endpoint": o.endpoint}
    put(out, "partyCharacteristic", _characteristics(traits))
    return out


RENDERERS: dict[str, Renderer] = {
    "customer": render_customer,
    "product": render_product,
    "service": render_service,
    "partner": render_partner,
}


def _paging(raw: str) -> tuple[int, int, tuple[str, ...] | None]:
    params = dict(parse_qsl(raw, keep_blank_values=True))
    unknown = sorted(set(params) - {"offset", "limit", "fields"})
    if unknown:
        raise InvalidInput(
            f"the inventory is listed by offset/limit only; not supported here: {', '.join(unknown)}",
            field=unknown[0],
        )
    offset, limit = (
        tmf630.whole_number(params, name, default)
        for name, default in (("offset", 0), ("limit", tmf630.MAX_PAGE))
    )
    return offset, min(limit, tmf630.MAX_PAGE), tmf630.parse_fields(params.get("fields"))


_ERRORS = error_responses(400, 404)
_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
    for name, schema, text in (
        ("offset", {"type": "integer", "minimum": 0}, "Index of the first item"),
        ("limit", {"type": "integer", "minimum": 0}, "Page size (at most 1000)"),
        ("fields", {"type": "string"}, "Comma-separated first-level attributes to return"),
    )
]


def make_router(runtime: Runtime) -> APIRouter:
    """GET routes for the four inventory resources (their other methods answer 405)."""
    router = APIRouter(tags=["Customer inventory (read-only)"])
    db = runtime.db

    def services_by_product(kind: str, records: list[Record]) -> dict[str, list[Service]]:
        if kind != "product":
            return {}
        grouped: dict[str, list[Service]] = {}
        products = [r for r in records if isinstance(r, Product)]
        for s in inventory.services_of(db, products):
            grouped.setdefault(s.product_id, []).append(s)
        return grouped

    def add(kind: str) -> None:
        api, resource = PATHS[kind]
        render = RENDERERS[kind]

        async def list_records(request: Request) -> Response:
            offset, limit, fields = _paging(request.url.query)
            records, total = await runtime.read(inventory.list_records, db, kind, offset, limit)
            base = runtime.base_url(request)
            services = await runtime.read(services_by_product, kind, records)
            body = [tmf630.project(render(r, base, services), fields, _IDENTITY) for r in records]
            return page(body, total)

        async def get_record(request: Request, id: str) -> Response:
            check_id(id)
            record = await runtime.read(inventory.get_record, db, kind, id)
            services = await runtime.read(services_by_product, kind, [record])
            fields = tmf630.fields_of(request.url.query)
            body = tmf630.project(render(record, runtime.base_url(request), services), fields, _IDENTITY)
            return Response(_encode(body), media_type=JSON)

        router.add_api_route(
            f"{api}/{resource}",
            list_records,
            methods=["GET"],
            summary=f"List {resource}s (customer inventory, read-only)",
            responses={"206": {"description": "One page (see X-Total-Count)"}, **_ERRORS},
            openapi_extra={"parameters": _PARAMETERS},
        )
        router.add_api_route(
            f"{api}/{resource}/{{id}}",
            get_record,
            methods=["GET"],
            summary=f"Retrieve a {resource} (customer inventory, read-only)",
            responses=_ERRORS,
            openapi_extra={"parameters": _PARAMETERS[2:]},
        )

    for kind in PATHS:
        add(kind)
    return router
