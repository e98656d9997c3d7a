"""Idempotency keys for create: a retried POST with the same key returns the first result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from troubleflow.storage.tables import idempotency_key

K = idempotency_key.c


def lookup(conn: Connection, key: str) -> tuple[str, str] | None:
    """(fingerprint, ticket document) stored for `key`, if any."""
    row = conn.execute(select(K.fingerprint, K.doc).where(K.key == key)).first()
    return (str(row[0]), str(row[1])) if row else None


def remember(conn: Connection, key: str, fingerprint: str, ticket_id: str, doc: str, now: datetime) -> None:
    conn.execute(
        insert(idempotency_key),
        [{"key": key, "fingerprint": fingerprint, "ticket_id": ticket_id, "doc": doc, "created_at": now}],
    )


def expire(conn: Connection, older_than: datetime) -> int:
    return conn.execute(delete(idempotency_key).where(K.created_at < older_than)).rowcount
