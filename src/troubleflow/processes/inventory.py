"""Customer inventory use cases: import (all or nothing, upsert by id) and read. Maintaining it belongs to
Customer Support & Readiness (1.3.1); Create Customer Problem Report reads it (processes/intake.py)."""

from __future__ import annotations

from collections import Counter

from troubleflow.domain.inventory import KINDS, Product, Record, Service
from troubleflow.errors import InvalidInput
from troubleflow.storage import inventory as store
from troubleflow.storage.db import Database

Located = tuple[str, Record]
_REFERENCES = {
    "product": (("customer_id", "customer"), ("partner_id", "partner")),
    "service": (("product_id", "product"),),
}


def import_inventory(db: Database, located: list[Located]) -> dict[str, int]:
    """Write the records (each with where it was read) in one transaction, partners, customers, products
    then services, overwriting those with the same id. A duplicate id or a reference to a record that is
    neither in the batch nor in the inventory refuses the whole batch, naming every place."""
    by_kind: dict[str, list[Located]] = {k: [] for k in KINDS}
    for where, record in located:
        by_kind[store.kind_of(record)].append((where, record))
    errors = _duplicates(by_kind)
    with db.begin() as conn:
        for kind, links in _REFERENCES.items():
            for attribute, target in links:
                wanted = {getattr(r, attribute) for _, r in by_kind[kind]} - {None}
                known = {r.id for _, r in by_kind[target]} | store.existing(conn, target, wanted)
                errors += [
                    f"{where}: '{_wire(attribute)}' names {target} '{getattr(r, attribute)}', which is "
                    "neither in the inventory nor in this import"
                    for where, r in by_kind[kind]
                    if getattr(r, attribute) is not None and getattr(r, attribute) not in known
                ]
        if errors:
            raise InvalidInput("inventory import refused, nothing changed:\n  " + "\n  ".join(errors[:20]))
        for kind in KINDS:
            store.upsert(conn, kind, [r for _, r in by_kind[kind]])
    return {kind: len(by_kind[kind]) for kind in KINDS}


def _duplicates(by_kind: dict[str, list[Located]]) -> list[str]:
    errors = []
    for kind, items in by_kind.items():
        seen = Counter(r.id for _, r in items)
        places: dict[str, list[str]] = {}
        for where, r in items:
            if seen[r.id] > 1:
                places.setdefault(r.id, []).append(where)
        errors += [f"{kind} '{i}' appears more than once: {', '.join(w)}" for i, w in places.items()]
    return errors


def _wire(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(p.capitalize() for p in rest)


def get_record(db: Database, kind: str, record_id: str) -> Record:
    with db.read() as conn:
        return store.get(conn, kind, record_id)


def list_records(db: Database, kind: str, offset: int, limit: int) -> tuple[list[Record], int]:
    with db.read() as conn:
        return store.page(conn, kind, offset, limit)


def services_of(db: Database, products: list[Product]) -> list[Service]:
    """The services realizing these products (rendered with a page of products)."""
    with db.read() as conn:
        return store.services_of(conn, [p.id for p in products])
