"""Hub subscriptions (TMF630 notification pattern): who wants which events, in which API version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from troubleflow.domain.events import TROUBLE_TICKET_API
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.tables import hub_subscription

S = hub_subscription.c


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    api_version: str
    callback: str
    query: str | None
    secret: str | None
    created_at: datetime
    extensions: dict[str, Any] = field(default_factory=dict)
    api: str = TROUBLE_TICKET_API  # whose events it hears: troubleTicket (TMF621) or serviceProblem (TMF656)


def add(conn: Connection, sub: Subscription) -> None:
    conn.execute(
        insert(hub_subscription),
        [
            {
                "id": sub.id,
                "api_version": sub.api_version,
                "callback": sub.callback,
                "query": sub.query,
                "secret": sub.secret,
                "created_at": sub.created_at,
                "doc": encode_json(sub.extensions),
                "api": sub.api,
            }
        ],
    )


def _from_row(r: Any) -> Subscription:
    return Subscription(
        id=r["id"],
        api_version=r["api_version"],
        callback=r["callback"],
        query=r["query"],
        secret=r["secret"],
        created_at=r["created_at"],
        extensions=decode_json(r["doc"]),
        api=r["api"],
    )


def get(
    conn: Connection, sub_id: str, api_version: str | None = None, api: str | None = None
) -> Subscription:
    stmt = select(hub_subscription).where(S.id == sub_id)
    if api_version is not None:
        stmt = stmt.where(S.api_version == api_version)
    if api is not None:
        stmt = stmt.where(S.api == api)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(f"no hub subscription with id '{sub_id}'", field="id")
    return _from_row(row)


def all_subscriptions(conn: Connection) -> list[Subscription]:
    return [_from_row(r) for r in conn.execute(select(hub_subscription).order_by(S.created_at)).mappings()]


def remove(conn: Connection, sub_id: str, api_version: str | None = None, api: str | None = None) -> None:
    stmt = delete(hub_subscription).where(S.id == sub_id)
    if api_version is not None:
        stmt = stmt.where(S.api_version == api_version)
    if api is not None:
        stmt = stmt.where(S.api == api)
    if conn.execute(stmt).rowcount != 1:
        raise NotFound(f"no hub subscription with id '{sub_id}'", field="id")
