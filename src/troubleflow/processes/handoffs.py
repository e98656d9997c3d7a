"""B2B hand-offs (docs/partners.md): the small interface a delegation uses to talk to a peer durably.

A use case decides and calls `queue(conn, Request(...), now)` in its own transaction; the worker's pass
`send_due` leases due hand-offs, makes the calls outside any transaction (the HTTP call is injected:
`b2b.call`), and records each outcome in its own transaction: sent (and the target's handler reads the
answer there, e.g. the partner's ticket id from a 201), retried with `Settings.retry_delay` backoff, or
parked after `webhook_max_attempts` (at once when the peer refused the request: a 4xx other than
408/429 cannot succeed by retrying). Nothing is ever dropped: parked hand-offs are listed and replayed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.errors import InvalidInput, TroubleflowError
from troubleflow.storage import handoffs
from troubleflow.storage.db import Database
from troubleflow.storage.handoffs import Handoff, Request

log = logging.getLogger(__name__)

__all__ = ["Handler", "Reply", "Request", "Sent", "list_handoffs", "queue", "replay_handoffs", "send_due"]


@dataclass(frozen=True, slots=True)
class Reply:
    """The outcome of one call: `ok` for a 2xx; `retry` when another attempt may succeed."""

    ok: bool
    status: int | None = None
    body: Any = None  # the decoded JSON answer, if any
    error: str | None = None
    retry: bool = True


@dataclass(frozen=True, slots=True)
class Sent:
    sent: int = 0
    failed: int = 0
    parked: int = 0


Call = Callable[[Handoff], Reply]
# Reads a successful answer in the transaction that marks the hand-off sent (its effects commit with it).
Handler = Callable[[Connection, Handoff, Reply, datetime], None]


def queue(conn: Connection, request: Request, now: datetime) -> int:
    """Write a hand-off in the caller's transaction (with the decision that needs it); returns its id."""
    return handoffs.add(conn, request, now)


def send_due(
    db: Database,
    *,
    clock: Clock,
    settings: Settings,
    call: Call,
    handlers: Mapping[str, Handler],
    pool: ThreadPoolExecutor,
) -> Sent:
    """One bounded pass: lease the due hand-offs, call the peers concurrently, record each outcome."""
    lease = timedelta(seconds=settings.delivery_lease_seconds)
    with db.begin() as conn:
        due = handoffs.claim(conn, clock.now(), lease, settings.worker_batch_size)
    if not due:
        return Sent()
    replies = list(pool.map(call, due))
    sent = failed = parked = 0
    for item, reply in zip(due, replies, strict=True):
        if reply.ok:
            _record_sent(db, clock, item, reply, handlers.get(item.target))
            sent += 1
            continue
        attempts = item.attempts + 1
        park = not reply.retry or attempts >= settings.webhook_max_attempts
        with db.begin() as conn:
            now = clock.now()
            retry = now if park else now + settings.retry_delay(attempts)
            handoffs.mark_failed(conn, item.id, reply.error or "failed", reply.status, retry, park)
        log.warning(
            "hand-off %s (%s %s %s) failed (attempt %s%s): %s",
            item.id,
            item.target,
            item.method,
            item.url,
            attempts,
            ", parked" if park else "",
            reply.error,
        )
        failed += 1
        parked += int(park)
    return Sent(sent, failed, parked)


def _record_sent(db: Database, clock: Clock, item: Handoff, reply: Reply, handler: Handler | None) -> None:
    """Mark sent and let the target's handler read the answer, together. A handler that refuses the
    answer (a malformed body) still leaves the call made: marked sent with the refusal kept as its error,
    so the call is not repeated and the operator sees why nothing followed."""
    status = reply.status or 200
    try:
        with db.begin() as conn:
            now = clock.now()
            handoffs.mark_sent(conn, item.id, status, now)
            if handler is not None:
                handler(conn, item, reply, now)
    except TroubleflowError as exc:
        log.error("hand-off %s answered %s but its answer was refused: %s", item.id, status, exc.message)
        with db.begin() as conn:
            handoffs.mark_sent(conn, item.id, status, clock.now())
            handoffs.note_error(conn, item.id, f"answer refused: {exc.message}")


def list_handoffs(
    db: Database,
    state: str | None,
    ticket_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
    target: str | None = None,
) -> tuple[list[Handoff], int]:
    if state is not None and state not in handoffs.STATES:
        raise InvalidInput(f"state must be one of {', '.join(handoffs.STATES)}", field="state")
    with db.read() as conn:
        return handoffs.listed(conn, state, ticket_id, offset, limit, target)


def get_handoff(db: Database, handoff_id: int) -> Handoff:
    with db.read() as conn:
        return handoffs.get(conn, handoff_id)


def replay_handoffs(db: Database, ids: Sequence[int] | None, *, clock: Clock) -> int:
    """Put parked hand-offs back in line (all parked ones when `ids` is None); NotFound when one of the
    given ones is not parked, and then nothing changes."""
    with db.begin() as conn:
        return handoffs.replay(conn, ids, clock.now())
