"""Customer inventory repository: upsert by id, read one, page through a kind, and resolve what a report
names into the records of its configuration (1.3.7.5.2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from troubleflow.domain.inventory import (
    Configuration,
    Customer,
    Partner,
    Product,
    Record,
    References,
    Service,
)
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import placeholders, select_rows
from troubleflow.storage.tables import (
    inventory_customer,
    inventory_partner,
    inventory_product,
    inventory_service,
)

TABLES: dict[str, Table] = {
    "partner": inventory_partner,
    "customer": inventory_customer,
    "product": inventory_product,
    "service": inventory_service,
}
_TYPES: dict[str, type[Record]] = {
    "partner": Partner,
    "customer": Customer,
    "product": Product,
    "service": Service,
}


def kind_of(record: Record) -> str:
    return next(kind for kind, cls in _TYPES.items() if isinstance(record, cls))


def _row(record: Record) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in record.__slots__}
    if "contact" in row:
        row["contact"] = encode_json(row["contact"]) if row["contact"] else None
    return row


def _record(kind: str, row: Any) -> Record:
    return _record_of(kind, dict(row._mapping))


def _record_of(kind: str, values: dict[str, Any]) -> Record:
    if "contact" in values:
        values["contact"] = decode_json(values["contact"]) if values["contact"] else {}
    return _TYPES[kind](**values)


def upsert(conn: Connection, kind: str, records: Sequence[Record]) -> None:
    """Insert new records and overwrite existing ones (by id) in one statement."""
    if not records:
        return
    table = TABLES[kind]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    columns = [c.name for c in table.columns if c.name != "id"]
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id], set_={c: stmt.excluded[c] for c in columns}
    )
    conn.execute(stmt, [_row(r) for r in records])


def existing(conn: Connection, kind: str, ids: Iterable[str]) -> set[str]:
    """Which of `ids` are in the inventory already."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    table = TABLES[kind]
    return {str(i) for i in conn.execute(select(table.c.id).where(table.c.id.in_(wanted))).scalars()}


def get(conn: Connection, kind: str, record_id: str) -> Record:
    table = TABLES[kind]
    row = conn.execute(select(table).where(table.c.id == record_id)).one_or_none()
    if row is None:
        raise NotFound(f"no {kind} with id '{record_id}' in the inventory", field="id")
    return _record(kind, row)


def page(conn: Connection, kind: str, offset: int, limit: int) -> tuple[list[Record], int]:
    """One page of a kind in id order, and how many there are."""
    table = TABLES[kind]
    rows = conn.execute(select(table).order_by(table.c.id).offset(offset).limit(limit)).all()
    if offset == 0 and len(rows) < limit:
        return [_record(kind, r) for r in rows], len(rows)
    total = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return [_record(kind, r) for r in rows], total


def services_of(conn: Connection, product_ids: Sequence[str]) -> list[Service]:
    """The services under these products, in id order (one query for a whole page of products)."""
    if not product_ids:
        return []
    t = inventory_service
    rows = conn.execute(select(t).where(t.c.product_id.in_(sorted(set(product_ids)))).order_by(t.c.id))
    return [Service(**dict(r._mapping)) for r in rows]


def resolve(conn: Connection, refs: References) -> Configuration:
    """The inventory records behind a report's references; those with no match are listed as unknown.

    A named service brings its product (and the product its customer); a named product brings all its
    services; a customer named alone brings its product when it has exactly one (unambiguous)."""
    unknown: list[str] = []
    services = _many(conn, "service", refs.services, unknown)
    product_ids = [*refs.products, *(s.product_id for s in services)]
    products = _many(conn, "product", tuple(dict.fromkeys(product_ids)), unknown)
    if refs.products and not refs.services:
        services = services_of(conn, [p.id for p in products])
    customer_id = refs.customer or next((p.customer_id for p in products), None)
    customer = _one(conn, "customer", customer_id, unknown)
    if customer is not None and not products:
        owned = conn.execute(
            select(inventory_product).where(inventory_product.c.customer_id == customer.id).limit(2)
        ).all()
        if len(owned) == 1:
            products = [_record("product", owned[0])]
            services = services_of(conn, [products[0].id])
    partner_ids = tuple(dict.fromkeys(p.partner_id for p in products if p.partner_id))
    partners = _many(conn, "partner", partner_ids, unknown)
    return Configuration(
        customer=customer,
        products=tuple(products),
        services=tuple(services),
        partners=tuple(partners),
        unknown=tuple(unknown),
    )


def _one(conn: Connection, kind: str, record_id: str | None, unknown: list[str]) -> Any:
    if record_id is None:
        return None
    found = _many(conn, kind, (record_id,), unknown)
    return found[0] if found else None


def _many(conn: Connection, kind: str, ids: tuple[str, ...], unknown: list[str]) -> list[Any]:
    """Records by id, on the driver (every create that names a customer, product or service runs these:
    through Core an IN query cost 350 us, most of it statement handling)."""
    if not ids:
        return []
    table = TABLES[kind]
    wanted = sorted(set(ids))
    names = [c.name for c in table.columns]
    sql = f"SELECT {', '.join(names)} FROM {table.name} WHERE id IN ({placeholders(len(wanted))})"
    found = {
        str(r[0]): _record_of(kind, dict(zip(names, r, strict=True))) for r in select_rows(conn, sql, wanted)
    }
    unknown += [f"{kind} {i}" for i in ids if i not in found]
    return [found[i] for i in ids if i in found]
