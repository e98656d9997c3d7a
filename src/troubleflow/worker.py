"""The worker: fans outbox events out to matching hub subscriptions and delivers them.

`run_once` does one bounded pass and is what tests drive; `run_forever` loops until told to stop.
Several workers may run against PostgreSQL (leases + SKIP LOCKED); on SQLite run one.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from troubleflow import webhooks
from troubleflow.api import tmf630
from troubleflow.clock import Clock, SystemClock
from troubleflow.config import Settings
from troubleflow.domain.policy import active_policy
from troubleflow.domain.query import Condition, matches
from troubleflow.errors import TroubleflowError
from troubleflow.policy_files import load_policies
from troubleflow.processes import timers
from troubleflow.storage import hubs, idempotency, outbox, tally
from troubleflow.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8621"
IDEMPOTENCY_TTL = timedelta(hours=24)
HOUSEKEEPING_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did."""

    dispatched: int = 0
    delivered: int = 0
    failed: int = 0
    parked: int = 0
    fired: int = 0

    @property
    def idle(self) -> bool:
        return not (self.dispatched or self.delivered or self.failed or self.fired)


class Worker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock or SystemClock()
        self.http = webhooks.client(settings.webhook_timeout_seconds, max(1, settings.webhook_concurrency))
        self.base_url = settings.base_url.rstrip("/") or DEFAULT_BASE_URL
        self.policies = load_policies(settings.policy_dir or None)
        self._next_housekeeping = self.clock.now()
        self._posting: ThreadPoolExecutor | None = None

    def run_once(self) -> Pass:
        self.housekeeping()
        self.fold_tally()
        fired = self.fire_timers()
        dispatched = self.dispatch()
        delivered, failed, parked = self.deliver()
        return Pass(dispatched, delivered, failed, parked, fired)

    def fold_tally(self) -> int:
        """Fold the ticket tally's deltas once enough have piled up, so a count stays a short sum."""
        with self.db.read() as conn:
            if tally.pending_rows(conn) < tally.FOLD_AFTER_ROWS:
                return 0
        with self.db.begin() as conn:
            return tally.fold(conn)

    def fire_timers(self) -> int:
        """Fire due timers (jeopardy, ...) in one transaction with their effects; returns how many."""
        policy = active_policy(self.policies, self.clock.now()) if self.policies else None
        return timers.fire_due(
            self.db, clock=self.clock, limit=self.settings.worker_batch_size, policy=policy
        ).fired

    def close(self) -> None:
        if self._posting is not None:
            self._posting.shutdown(wait=True)
            self._posting = None
        self.http.clear()

    def housekeeping(self) -> int:
        """Forget Idempotency-Keys older than a day (at most once a minute); returns how many."""
        now = self.clock.now()
        if now < self._next_housekeeping:
            return 0
        self._next_housekeeping = now + HOUSEKEEPING_EVERY
        with self.db.begin() as conn:
            return idempotency.expire(conn, now - IDEMPOTENCY_TTL)

    def dispatch(self) -> int:
        """Turn new outbox events into one delivery per matching subscription (in event order)."""
        with self.db.begin() as conn:
            if not outbox.lock_fan_out(conn):
                return 0
            events = outbox.undispatched(conn, self.settings.worker_batch_size)
            if not events:
                return 0
            subs = [(s, _conditions(s.query)) for s in hubs.all_subscriptions(conn)]
            now = self.clock.now()
            for event in events:
                envelopes: dict[str, dict[str, Any]] = {}
                targets = []
                for sub, conds in subs:
                    if sub.created_at > event.occurred_at:
                        continue  # a subscription hears what happens after it was made
                    if sub.api_version not in envelopes:
                        envelopes[sub.api_version] = webhooks.envelope(event, sub.api_version, self.base_url)
                    if matches(envelopes[sub.api_version], conds):
                        targets.append(sub.id)
                outbox.create_deliveries(conn, event, targets, now)
            return len(events)

    def deliver(self) -> tuple[int, int, int]:
        now = self.clock.now()
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.db.begin() as conn:
            batch = outbox.claim(conn, now, lease, self.settings.worker_batch_size)
            subs = {s.id: s for s in hubs.all_subscriptions(conn)} if batch else {}
        envelopes: dict[tuple[int, str], dict[str, Any]] = {}  # one rendering per event and version
        work = []
        for item in batch:
            sub = subs.get(item.subscription_id)
            if sub is None:
                continue  # unsubscribed meanwhile: its deliveries went with it
            key = (item.event.id, sub.api_version)
            if key not in envelopes:
                envelopes[key] = webhooks.envelope(item.event, sub.api_version, self.base_url)
            work.append((item, sub, envelopes[key]))
        if not work:
            return 0, 0, 0

        def post(job: tuple[outbox.Delivery, hubs.Subscription, dict[str, Any]]) -> webhooks.Outcome:
            item, sub, body = job
            return webhooks.post(
                self.http,
                sub.callback,
                body,
                secret=sub.secret or self.settings.webhook_secret,
                event_id=item.event.event_id,
                timestamp=int(self.clock.now().timestamp()),
            )

        # A claimed batch holds at most one delivery per (subscription, ticket) line, so posting them
        # concurrently keeps each line in order. Outcomes are recorded together afterwards; a crash in
        # between re-sends after the lease (at least once: receivers deduplicate by event id).
        if self._posting is None:
            self._posting = ThreadPoolExecutor(max(1, self.settings.webhook_concurrency), "webhook")
        outcomes = list(self._posting.map(post, work))
        ok: list[int] = []
        failed = parked = 0
        with self.db.begin() as conn:
            now = self.clock.now()
            for (item, sub, _), outcome in zip(work, outcomes, strict=True):
                if outcome.ok:
                    ok.append(item.id)
                    continue
                attempts = item.attempts + 1
                park = attempts >= self.settings.webhook_max_attempts
                delay = min(
                    self.settings.webhook_backoff_max_seconds,
                    self.settings.webhook_backoff_seconds * 2 ** (attempts - 1),
                )
                outbox.mark_failed(
                    conn, item.id, outcome.error or "failed", now + timedelta(seconds=delay), park
                )
                log.warning(
                    "delivery %s to %s failed (attempt %s%s): %s",
                    item.id,
                    sub.callback,
                    attempts,
                    ", parked" if park else "",
                    outcome.error,
                )
                failed += 1
                parked += int(park)
            outbox.mark_delivered(conn, ok, now)
        return len(ok), failed, parked

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker started")
        while not stop.is_set():
            try:
                done = self.run_once()
            except TroubleflowError as exc:
                log.error("worker pass failed: %s", exc.message)
                done = Pass()
            except Exception:  # the worker edge: log and keep going, never die silently
                log.exception("worker pass failed")
                done = Pass()
            if done.idle:
                stop.wait(self.settings.worker_poll_seconds)
        self.close()
        log.info("worker stopped")


def _conditions(query: str | None) -> tuple[Condition, ...]:
    if not query:
        return ()
    from troubleflow.domain.query import Condition as C

    return tuple(
        C(path, op, values) for path, op, values in tmf630.conditions(tmf630.split_query(query), frozenset())
    )
