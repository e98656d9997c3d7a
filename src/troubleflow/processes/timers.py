"""Durable timers of customer problem reports: arm them, and fire the due ones (worker).

A firing runs its effect, its audit-trail entry, its outbox events and the timer's own `fired` mark in
one transaction, so every due timer fires exactly once, also across restarts and several workers.
Kinds:
- `jeopardy` (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4): payload `{"threshold": 75}`; the
  report's `jeopardy` is raised to that threshold (never lowered) and subscribers hear of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain.jeopardy import raise_jeopardy
from troubleflow.errors import InvalidInput, NotFound
from troubleflow.storage import history, outbox, tickets, timers
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.timers import ArmRequest, Timer

log = logging.getLogger(__name__)

ACTOR = "timer"
JEOPARDY = "jeopardy"
KINDS = {JEOPARDY: etom.MONITOR_JEOPARDY}


@dataclass(frozen=True, slots=True)
class Fired:
    fired: int  # timers consumed this pass
    changed: int  # reports whose state changed (a timer of a cleared report changes nothing)


def jeopardy_timer(ticket_id: str, due_at: datetime, threshold: int) -> ArmRequest:
    if not 0 < threshold <= 100:
        raise InvalidInput(f"a jeopardy threshold is a percentage in 1..100, not {threshold}")
    return ArmRequest(ticket_id, JEOPARDY, KINDS[JEOPARDY], due_at, {"threshold": threshold})


def arm(db: Database, requests: Sequence[ArmRequest], *, clock: Clock) -> None:
    with db.begin() as conn:
        timers.arm_many(conn, requests, clock.now())


def fire_due(db: Database, *, clock: Clock, limit: int = 500) -> Fired:
    """Fire up to `limit` due timers in one transaction."""
    with db.begin() as conn:
        now = clock.now()
        due = timers.claim_due(conn, now, limit)
        changed = 0
        for item in due:
            changed += _fire(conn, item, now)
        timers.mark_fired(conn, [t.id for t in due], now)
    return Fired(len(due), changed)


def _fire(conn: Connection, item: Timer, now: datetime) -> int:
    if item.kind != JEOPARDY:
        log.error("timer %s has unknown kind %r; marked fired without effect", item.id, item.kind)
        return 0
    try:
        current = tickets.get_for_update(conn, item.ticket_id)
    except NotFound:  # the report was deleted: nothing left to act on
        return 0
    threshold = int(item.payload["threshold"])
    updated, events = raise_jeopardy(current, threshold, now=now)
    if not events:
        return 0
    doc = tickets.save(conn, updated, expected_version=current.version)
    if doc is None:  # cannot happen under the row lock; refuse to write over a concurrent change
        raise RuntimeError(f"ticket {item.ticket_id} changed while its timer fired")
    history.append(
        conn,
        HistoryEntry(
            item.ticket_id,
            now,
            ACTOR,
            item.process_id,
            "jeopardy",
            reason=f"{threshold} % of the committed restoration time elapsed",
            fields=("jeopardy",),
        ),
    )
    outbox.add(conn, events, doc, now)
    return 1
