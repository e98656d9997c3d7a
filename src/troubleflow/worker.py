"""The worker: fans outbox events out to matching hub subscriptions and delivers them.

`run_once` does one bounded pass and is what tests drive; `run_forever` loops until told to stop.
Several workers may run against PostgreSQL (leases + SKIP LOCKED); on SQLite run one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from troubleflow import b2b, customer_notifier, webhooks
from troubleflow.api import tmf630
from troubleflow.clock import Clock, SystemClock
from troubleflow.config import Settings
from troubleflow.domain.policy import active_policy
from troubleflow.domain.query import Condition, matches
from troubleflow.errors import TroubleflowError
from troubleflow.notifier import Notifier
from troubleflow.policy_files import load_policies
from troubleflow.processes import external_problems, handoffs, outage_jobs, partner_tickets, timers
from troubleflow.storage import hubs, idempotency, outbox, tally, workload
from troubleflow.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8621"
IDEMPOTENCY_TTL = timedelta(hours=24)
HOUSEKEEPING_EVERY = timedelta(minutes=1)
ENVELOPES_KEPT = 4 * 200  # a few batches: what fan-out rendered, delivery posts in the same pass


@dataclass(slots=True)
class _Line:
    """A batch's new events for one (subscription, ticket) line, with their envelopes, in order."""

    sub: hubs.Subscription
    events: list[tuple[outbox.OutboxEvent, dict[str, Any]]] = field(default_factory=list)
    blocked: bool = False  # an earlier delivery of the line is still pending: queue behind it


@dataclass(frozen=True, slots=True)
class _Batch:
    events: list[outbox.OutboxEvent]
    lines: list[_Line]


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did."""

    dispatched: int = 0
    delivered: int = 0
    failed: int = 0
    parked: int = 0
    fired: int = 0
    notified: int = 0  # escalation notifications sent, failed or parked (notifier.py)
    swept: int = 0  # reports a mass-outage job chunk looked at (processes/outage_jobs.py)
    handed_off: int = 0  # B2B hand-offs sent, failed or parked (processes/handoffs.py)

    @property
    def idle(self) -> bool:
        busy = self.dispatched or self.delivered or self.failed or self.fired or self.notified
        return not (busy or self.swept or self.handed_off)


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
        self.peers = b2b.client(settings.webhook_timeout_seconds, max(1, settings.webhook_concurrency))
        self.base_url = settings.base_url.rstrip("/") or DEFAULT_BASE_URL
        self.policies = load_policies(settings.policy_dir or None)
        self._next_housekeeping = self.clock.now()
        self._posting: ThreadPoolExecutor | None = None
        self._envelopes: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self.notifier = Notifier(db, settings, self.clock, self.http, self.base_url)

    def run_once(self) -> Pass:
        self.housekeeping()
        self.fold_tally()
        fired = self.fire_timers()
        swept = self.sweep_outages()
        dispatched, delivered, failed, parked = self.dispatch()
        retried, retries_failed, retries_parked = self.deliver()
        told = self.notifier.send_due(self._pool())
        told_customers = customer_notifier.send_due(self.db, self.settings, self.clock, self._pool())
        handed = self.hand_off()
        return Pass(
            dispatched, delivered + retried, failed + retries_failed, parked + retries_parked, fired,
            told.sent + told.failed + told_customers, swept, handed.sent + handed.failed,
        )  # fmt: skip

    def hand_off(self) -> handoffs.Sent:
        """Send the due B2B hand-offs (partner tickets, docs/partners.md); each target's handler reads the
        peer's answer in the transaction marking it sent."""
        policy = active_policy(self.policies, self.clock.now()) if self.policies else None

        def partner_answer(conn: Connection, item: Any, reply: handoffs.Reply, now: Any) -> None:
            partner_tickets.answered(conn, item, reply, now, base_url=self.base_url, policy=policy)

        def external_answer(conn: Connection, item: Any, reply: handoffs.Reply, now: Any) -> None:
            external_problems.answered(conn, item, reply, now, base_url=self.base_url)

        return handoffs.send_due(
            self.db, clock=self.clock, settings=self.settings, call=lambda h: b2b.call(self.peers, h),
            handlers={"partnerTroubleTicket": partner_answer, "externalServiceProblem": external_answer},
            pool=self._pool(),
        )  # fmt: skip

    def fold_tally(self) -> int:
        """Fold the ticket tally's and the workgroup load's deltas once enough have piled up, so a count
        stays a short sum."""
        folded = 0
        for store in (tally, workload):
            with self.db.read() as conn:
                if store.pending_rows(conn) < store.FOLD_AFTER_ROWS:
                    continue
            with self.db.begin() as conn:
                folded += store.fold(conn)
        return folded

    def fire_timers(self) -> int:
        """Fire due timers (jeopardy, ...) in one transaction with their effects; returns how many."""
        policy = active_policy(self.policies, self.clock.now()) if self.policies else None
        return timers.fire_due(
            self.db, clock=self.clock, limit=self.settings.worker_timer_batch_size, policy=policy
        ).fired

    def sweep_outages(self) -> int:
        """One chunk of the oldest pending mass-outage job (sweep, restore, propagate); returns how many
        reports it looked at."""
        policy = active_policy(self.policies, self.clock.now()) if self.policies else None
        return outage_jobs.work(self.db, clock=self.clock, policy=policy)

    def close(self) -> None:
        if self._posting is not None:
            self._posting.shutdown(wait=True)
            self._posting = None
        self.http.clear()
        self.peers.clear()

    def housekeeping(self) -> int:
        """Forget Idempotency-Keys older than a day (at most once a minute); returns how many."""
        now = self.clock.now()
        if now < self._next_housekeeping:
            return 0
        self._next_housekeeping = now + HOUSEKEEPING_EVERY
        with self.db.begin() as conn:
            return idempotency.expire(conn, now - IDEMPOTENCY_TTL)

    def dispatch(self) -> tuple[int, int, int, int]:
        """Fan new outbox events out to the matching subscriptions and post them at once; returns
        (events, delivered, failed, parked). A (subscription, ticket) line's events are posted in order
        and lines concurrently; a line whose earlier delivery is still pending (backing off) is queued
        behind it unposted. Deliveries are written afterwards with their outcome, in the transaction that
        marks the events dispatched: a crash before it sends the events again (at least once, receivers
        deduplicate by event id), and a failure goes to `deliver`'s retries with backoff."""
        if self.db.dialect == "postgresql":
            # Workers fan out one at a time (advisory lock), holding it while they post.
            with self.db.begin() as conn:
                if not outbox.lock_fan_out(conn):
                    return 0, 0, 0, 0
                batch = self._fan_out(conn)
                if batch is None:
                    return 0, 0, 0, 0
                return self._record(conn, batch, self._post_lines(batch))
        # SQLite: one worker, and no write transaction (the single writer lock) held during the posts.
        with self.db.read() as conn:
            batch = self._fan_out(conn)
        if batch is None:
            return 0, 0, 0, 0
        outcomes = self._post_lines(batch)
        with self.db.begin() as conn:
            return self._record(conn, batch, outcomes)

    def _fan_out(self, conn: Connection) -> _Batch | None:
        events = outbox.undispatched(conn, self.settings.worker_batch_size)
        if not events:
            return None
        subs = [(s, _conditions(s.query)) for s in hubs.all_subscriptions(conn)]
        lines: dict[tuple[str, str], _Line] = {}
        for event in events:
            for sub, conds in subs:
                heard = webhooks.heard_by(event, sub.api, sub.api_version)
                if sub.created_at > event.occurred_at or not heard:
                    continue  # it hears what happens after it was made, in its own API
                body = self._envelope(event, sub.api_version)
                if matches(body, conds):
                    line = lines.setdefault((sub.id, event.ticket_id), _Line(sub))
                    line.events.append((event, body))
        for key in outbox.pending_lines(conn, {event.ticket_id for event in events}):
            if key in lines:
                lines[key].blocked = True
        return _Batch(events, list(lines.values()))

    def _post_lines(self, batch: _Batch) -> list[list[webhooks.Outcome]]:
        """Post each unblocked line's events in order, stopping at its first failure."""

        def post_line(line: _Line) -> list[webhooks.Outcome]:
            outcomes: list[webhooks.Outcome] = []
            for event, body in line.events:
                outcomes.append(self._post(line.sub, event, body))
                if not outcomes[-1].ok:
                    break
            return outcomes

        return list(self._pool().map(post_line, [line for line in batch.lines if not line.blocked]))

    def _record(
        self, conn: Connection, batch: _Batch, outcomes: list[list[webhooks.Outcome]]
    ) -> tuple[int, int, int, int]:
        now = self.clock.now()
        posted = iter(outcomes)
        rows: list[outbox.NewDelivery] = []
        delivered = failed = parked = 0
        for line in batch.lines:
            results = [] if line.blocked else next(posted)
            for i, (event, _) in enumerate(line.events):
                outcome = results[i] if i < len(results) else None
                if outcome is None:  # queued behind an earlier pending delivery of its line
                    rows.append(outbox.NewDelivery(event, line.sub.id, outbox.PENDING, 0, now))
                elif outcome.ok:
                    rows.append(outbox.NewDelivery(event, line.sub.id, outbox.DELIVERED, 1, now, now))
                    delivered += 1
                else:
                    park = self._failed(line.sub, event, 1, outcome)
                    state = outbox.PARKED if park else outbox.PENDING
                    retry = now + self.settings.retry_delay(1)
                    rows.append(outbox.NewDelivery(event, line.sub.id, state, 1, retry, error=outcome.error))
                    failed += 1
                    parked += int(park)
        outbox.record_dispatch(conn, batch.events, rows)
        return len(batch.events), delivered, failed, parked

    def _envelope(self, event: outbox.OutboxEvent, api_version: str) -> dict[str, Any]:
        """The event's envelope for an API version, rendered once: fan-out matches subscription queries
        against it and delivery posts it, usually in the same pass."""
        key = (event.id, api_version)
        body = self._envelopes.get(key)
        if body is None:
            body = webhooks.envelope(event, api_version, self.base_url)
            self._envelopes[key] = body
            if len(self._envelopes) > ENVELOPES_KEPT:
                self._envelopes.popitem(last=False)
        return body

    def deliver(self) -> tuple[int, int, int]:
        now = self.clock.now()
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.db.begin() as conn:
            batch = outbox.claim(conn, now, lease, self.settings.worker_batch_size)
            subs = {s.id: s for s in hubs.all_subscriptions(conn)} if batch else {}
        work = []
        for item in batch:
            sub = subs.get(item.subscription_id)
            if sub is None:
                continue  # unsubscribed meanwhile: its deliveries went with it
            work.append((item, sub, self._envelope(item.event, sub.api_version)))
        if not work:
            return 0, 0, 0

        def post(job: tuple[outbox.Delivery, hubs.Subscription, dict[str, Any]]) -> webhooks.Outcome:
            item, sub, body = job
            return self._post(sub, item.event, body)

        # A claimed batch holds at most one delivery per (subscription, ticket) line, so posting them
        # concurrently keeps each line in order. Outcomes are recorded together afterwards; a crash in
        # between re-sends after the lease (at least once: receivers deduplicate by event id).
        outcomes = list(self._pool().map(post, work))
        ok: list[int] = []
        failed = parked = 0
        with self.db.begin() as conn:
            now = self.clock.now()
            for (item, sub, _), outcome in zip(work, outcomes, strict=True):
                if outcome.ok:
                    ok.append(item.id)
                    continue
                attempts = item.attempts + 1
                park = self._failed(sub, item.event, attempts, outcome)
                error = outcome.error or "failed"
                outbox.mark_failed(conn, item.id, error, now + self.settings.retry_delay(attempts), park)
                failed += 1
                parked += int(park)
            outbox.mark_delivered(conn, ok, now)
        return len(ok), failed, parked

    def _post(
        self, sub: hubs.Subscription, event: outbox.OutboxEvent, body: dict[str, Any]
    ) -> webhooks.Outcome:
        return webhooks.post(
            self.http,
            sub.callback,
            body,
            secret=sub.secret or self.settings.webhook_secret,
            event_id=event.event_id,
            timestamp=int(self.clock.now().timestamp()),
        )

    def _pool(self) -> ThreadPoolExecutor:
        if self._posting is None:
            self._posting = ThreadPoolExecutor(max(1, self.settings.webhook_concurrency), "webhook")
        return self._posting

    def _failed(
        self, sub: hubs.Subscription, event: outbox.OutboxEvent, attempts: int, outcome: webhooks.Outcome
    ) -> bool:
        """Log a failed post; True when the delivery is parked (no attempts left)."""
        park = attempts >= self.settings.webhook_max_attempts
        log.warning(
            "delivery of event %s to %s failed (attempt %s%s): %s",
            event.event_id,
            sub.callback,
            attempts,
            ", parked" if park else "",
            outcome.error,
        )
        return park

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
