"""The worker's customer-notification pass (Notify Customer Problem, 1.3.7.2.4): sends the due emails a
mass outage queued for affected customers (docs/mass-outage.md) outside any transaction, then records each
outcome: sent (a `customerNotified` audit entry), retried with backoff, or parked, as escalation
notifications are (notifier.py)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from troubleflow import mail, webhooks
from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.domain import etom
from troubleflow.storage import history
from troubleflow.storage import mass_outages as store
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

log = logging.getLogger(__name__)

ACTOR = "worker"


def send_due(db: Database, settings: Settings, clock: Clock, pool: ThreadPoolExecutor) -> int:
    """One bounded pass; returns how many emails were attempted."""
    lease = timedelta(seconds=settings.delivery_lease_seconds)
    with db.begin() as conn:
        due = store.claim_emails(conn, clock.now(), lease, settings.worker_batch_size)
    if not due:
        return 0

    def send(item: store.Email) -> webhooks.Outcome:
        return mail.send(
            settings.smtp_url,
            settings.smtp_from,
            item.address,
            item.subject,
            item.body,
            timeout_seconds=settings.webhook_timeout_seconds,
        )

    outcomes = list(pool.map(send, due))
    with db.begin() as conn:
        now = clock.now()
        sent = [item.id for item, outcome in zip(due, outcomes, strict=True) if outcome.ok]
        entries = [
            HistoryEntry(
                item.ticket_id,
                now,
                ACTOR,
                etom.NOTIFY_CUSTOMER,
                "customerNotified",
                reason=f"{item.kind}: email {item.address} sent",
            )
            for item, outcome in zip(due, outcomes, strict=True)
            if outcome.ok
        ]
        for item, outcome in zip(due, outcomes, strict=True):
            if outcome.ok:
                continue
            attempts = item.attempts + 1
            park = attempts >= settings.webhook_max_attempts or outcome.error == mail.NOT_CONFIGURED
            retry = now if park else now + settings.retry_delay(attempts)
            store.mark_failed(conn, item.id, outcome.error or "failed", retry, park)
            log.warning(
                "customer email %s to %s failed (attempt %s%s): %s",
                item.id,
                item.address,
                attempts,
                ", parked" if park else "",
                outcome.error,
            )
        store.mark_sent(conn, sent, now)
        history.append_many(conn, entries)
    return len(due)
