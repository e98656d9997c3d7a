"""The small customer inventory Create Customer Problem Report reads (1.3.7.5.2 Obtain Configuration):
customers, their product instances, the services under them and the partners owning some products; and
the configuration snapshot a report keeps of them, as it was at intake (research/etom.md B3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from troubleflow.domain.ticket import Ref, TroubleTicket

KINDS = ("partner", "customer", "product", "service")  # in dependency order: an import writes them so


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner (supplier) owning products we resell; `restoration_time` is the restoration time its
    partner agreement requires (ISO 8601 duration, e.g. PT8H)."""

    id: str
    name: str
    contact: dict[str, Any] = field(default_factory=dict)  # name, email, phone of the partner's desk
    restoration_time: str | None = None
    endpoint: str | None = None  # its TMF621 API root, e.g. https://partner/tmf-api/troubleTicket/v4


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    segment: str | None = None  # e.g. residential, business, wholesale
    sla_class: str | None = None  # the SLA class the customer's products carry unless they name their own
    region: str | None = None
    contact: dict[str, Any] = field(default_factory=dict)  # TMF ContactMedium subset, stored as sent


@dataclass(frozen=True, slots=True)
class Product:
    """A product instance (TMF637 Product) the customer bought."""

    id: str
    customer_id: str
    name: str
    offering: str | None = None  # the product offering it was bought from
    status: str = "active"
    region: str | None = None
    partner_id: str | None = None  # the partner owning (delivering) it; None: our own
    sla_class: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A customer-facing service (TMF638 Service) realizing a product instance."""

    id: str
    product_id: str
    name: str
    category: str | None = None
    specification: str | None = None  # service specification id, e.g. "iptv"
    status: str = "active"


Record = Partner | Customer | Product | Service


@dataclass(frozen=True, slots=True)
class References:
    """What a new report names: its customer, affected products and services (ids as sent)."""

    customer: str | None = None
    products: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.customer or self.products or self.services)


@dataclass(frozen=True, slots=True)
class Configuration:
    """The inventory records a report's references resolve to (read by the storage adapter)."""

    customer: Customer | None = None
    products: tuple[Product, ...] = ()
    services: tuple[Service, ...] = ()  # the affected ones: those named, else all of the products named
    partners: tuple[Partner, ...] = ()
    unknown: tuple[str, ...] = ()  # references with no inventory match ("product prod-9")


def references_of(ticket: TroubleTicket) -> References:
    """The customer (relatedParty with role customer or @referredType Customer) and the products and
    services (relatedEntity with @referredType Product/Service, or a role naming them) of a report."""
    customer = next((r.id for r in ticket.related_party if _is(r, "customer")), None)
    products = tuple(r.id for r in ticket.related_entity if _is(r, "product"))
    services = tuple(r.id for r in ticket.related_entity if _is(r, "service"))
    return References(customer, _unique(products), _unique(services))


def _is(ref: Ref, kind: str) -> bool:
    """A customer is named by its role (the party itself is an Individual or Organization); products and
    services by `@referredType`, else by a role naming them (`affectedProduct`)."""
    referred, role = (ref.referred_type or "").lower(), (ref.role or "").lower()
    if kind == "customer":
        return "customer" in (referred, role)
    if referred:
        return referred == kind
    return kind in role and "specification" not in role


def _unique(ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def sla_class_of(config: Configuration) -> str | None:
    """The SLA class the inventory gives: the affected product's own, else the customer's default."""
    own = next((p.sla_class for p in config.products if p.sla_class), None)
    return own or (config.customer.sla_class if config.customer else None)


def region_of(config: Configuration) -> str | None:
    own = next((p.region for p in config.products if p.region), None)
    return own or (config.customer.region if config.customer else None)


def snapshot(config: Configuration) -> dict[str, Any]:
    """The configuration as the report keeps it (the `configurationSnapshot` extension attribute): a copy,
    so a later inventory change does not alter what the report was raised against."""
    out: dict[str, Any] = {}
    if config.customer is not None:
        c = config.customer
        out["customer"] = _plain(
            {"id": c.id, "name": c.name, "segment": c.segment, "region": c.region, "slaClass": c.sla_class}
        )
    partners = {p.id: p for p in config.partners}
    out["product"] = [_product(p, config.services, partners.get(p.partner_id or "")) for p in config.products]
    loose = [s for s in config.services if s.product_id not in {p.id for p in config.products}]
    if loose:
        out["service"] = [_service(s) for s in loose]
    out["region"] = region_of(config)
    out["slaClass"] = sla_class_of(config)
    out["unmatched"] = list(config.unknown)
    return _plain(out)


def _product(p: Product, services: tuple[Service, ...], partner: Partner | None) -> dict[str, Any]:
    out = _plain(
        {
            "id": p.id,
            "name": p.name,
            "productOffering": p.offering,
            "status": p.status,
            "region": p.region,
            "slaClass": p.sla_class,
            "service": [_service(s) for s in services if s.product_id == p.id],
        }
    )
    if partner is not None:
        out["partner"] = _plain(
            {"id": partner.id, "name": partner.name, "restorationTime": partner.restoration_time}
        )
    return out


def _service(s: Service) -> dict[str, Any]:
    return _plain(
        {
            "id": s.id,
            "name": s.name,
            "category": s.category,
            "serviceSpecification": s.specification,
            "status": s.status,
        }
    )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Absent attributes are omitted, not null (tmf-apis.md §9.8)."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def describe(config: Configuration) -> str:
    """The snapshot in words, for the audit trail."""
    parts = [f"customer {config.customer.id}"] if config.customer else []
    for p in config.products:
        owner = f", partner {p.partner_id}" if p.partner_id else ""
        parts.append(
            f"product {p.id} ({plural(sum(s.product_id == p.id for s in config.services), 'service')}{owner})"
        )
    parts += [
        f"service {s.id}" for s in config.services if s.product_id not in {p.id for p in config.products}
    ]
    if region_of(config):
        parts.append(f"region {region_of(config)}")
    if sla_class_of(config):
        parts.append(f"SLA class {sla_class_of(config)}")
    if config.unknown:
        parts.append("no inventory match for " + ", ".join(config.unknown))
    return "; ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
