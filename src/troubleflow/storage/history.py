"""The append-only audit trail: every action on a report with its eTOM process, actor and reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from troubleflow.domain import etom
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.status import Status
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import ticket_history

H = ticket_history.c


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    ticket_id: str
    at: datetime
    actor: str
    process_id: str
    action: str
    old_status: str | None = None
    new_status: str | None = None
    reason: str | None = None
    fields: tuple[str, ...] = ()


def of_change(ticket_id: str, events: Sequence[TicketEvent], actor: str, now: datetime) -> list[HistoryEntry]:
    """The audit entries of a report change: attribute changes under Coordinate (1.3.7.3.1), a status change
    under the process that performs it (etom.process_for_status)."""
    entries = []
    for event in events:
        if event.kind is EventKind.ATTRIBUTES_CHANGED:
            entries.append(
                HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "changed", fields=event.fields)
            )
        elif event.kind is EventKind.STATUS_CHANGED:
            target = Status(event.new_status) if event.new_status else None
            entries.append(
                HistoryEntry(
                    ticket_id,
                    now,
                    actor,
                    etom.process_for_status(target),
                    "statusChanged",
                    old_status=event.old_status,
                    new_status=event.new_status,
                    reason=event.reason,
                )
            )
    return entries


def append(conn: Connection, entry: HistoryEntry) -> None:
    append_many(conn, [entry])


def append_many(conn: Connection, entries: list[HistoryEntry]) -> None:
    if not entries:
        return
    insert_rows(conn, ticket_history, [_row(e) for e in entries])


def _row(entry: HistoryEntry) -> dict[str, object]:
    return {
        "ticket_id": entry.ticket_id,
        "at": entry.at,
        "actor": entry.actor,
        "process_id": entry.process_id,
        "action": entry.action,
        "old_status": entry.old_status,
        "new_status": entry.new_status,
        "reason": entry.reason,
        "fields": encode_json(list(entry.fields)) if entry.fields else None,
    }


def for_ticket(conn: Connection, ticket_id: str) -> list[HistoryEntry]:
    rows = conn.execute(select(ticket_history).where(H.ticket_id == ticket_id).order_by(H.id)).mappings()
    return [
        HistoryEntry(
            ticket_id=r["ticket_id"],
            at=r["at"],
            actor=r["actor"],
            process_id=r["process_id"],
            action=r["action"],
            old_status=r["old_status"],
            new_status=r["new_status"],
            reason=r["reason"],
            fields=tuple(decode_json(r["fields"])) if r["fields"] else (),
        )
        for r in rows
    ]
