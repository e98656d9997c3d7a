"""Event subscriptions (TMF630 hub): register, look up and remove listeners."""

from __future__ import annotations

from typing import Any

from troubleflow.clock import Clock
from troubleflow.domain.events import TROUBLE_TICKET_API
from troubleflow.domain.ids import new_id
from troubleflow.storage import hubs
from troubleflow.storage.db import Database
from troubleflow.storage.hubs import Subscription


def subscribe(
    db: Database,
    *,
    api_version: str,
    callback: str,
    query: str | None,
    secret: str | None,
    extensions: dict[str, Any],
    clock: Clock,
    api: str = TROUBLE_TICKET_API,
) -> Subscription:
    sub = Subscription(
        id=new_id(),
        api_version=api_version,
        callback=callback,
        query=query or None,
        secret=secret,
        created_at=clock.now(),
        extensions=extensions,
        api=api,
    )
    with db.begin() as conn:
        hubs.add(conn, sub)
    return sub


def get_subscription(
    db: Database, sub_id: str, api_version: str | None = None, api: str | None = None
) -> Subscription:
    with db.read() as conn:
        return hubs.get(conn, sub_id, api_version, api)


def unsubscribe(db: Database, sub_id: str, api_version: str | None = None, api: str | None = None) -> None:
    with db.begin() as conn:
        hubs.remove(conn, sub_id, api_version, api)


def list_subscriptions(db: Database) -> list[Subscription]:
    with db.read() as conn:
        return hubs.all_subscriptions(conn)
