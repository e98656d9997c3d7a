"""The worker's notification pass: sends due escalation notifications (signed webhook POST or SMTP email)
outside any transaction, then records each outcome: sent (with a "notified" audit entry), retried with
exponential backoff, or parked once the attempts are used up, exactly as hub deliveries are."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from troubleflow import mail, webhooks
from troubleflow.api.escalation_event import notification_body
from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.domain import etom
from troubleflow.keep_alive import KeepAlivePool
from troubleflow.storage import history, notifications
from troubleflow.storage.codec import decode_json
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.notifications import Notification

log = logging.getLogger(__name__)

ACTOR = "worker"


@dataclass(frozen=True, slots=True)
class Sent:
    sent: int = 0
    failed: int = 0
    parked: int = 0


class Notifier:
    def __init__(
        self, db: Database, settings: Settings, clock: Clock, http: KeepAlivePool, base_url: str
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.http = http
        self.base_url = base_url

    def send_due(self, pool: ThreadPoolExecutor) -> Sent:
        """One bounded pass: lease the due notifications, send them concurrently, record the outcomes."""
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.db.begin() as conn:
            due = notifications.claim(conn, self.clock.now(), lease, self.settings.worker_batch_size)
        if not due:
            return Sent()
        outcomes = list(pool.map(self._send, due))
        sent: list[int] = []
        entries: list[HistoryEntry] = []
        failed = parked = 0
        with self.db.begin() as conn:
            now = self.clock.now()
            for item, outcome in zip(due, outcomes, strict=True):
                if outcome.ok:
                    sent.append(item.id)
                    entries.append(_notified(item, now))
                    continue
                attempts = item.attempts + 1
                # Without an SMTP server no retry can succeed: park at once, with the reason, never drop.
                park = attempts >= self.settings.webhook_max_attempts or outcome.error == mail.NOT_CONFIGURED
                retry = now if park else now + self.settings.retry_delay(attempts)
                notifications.mark_failed(conn, item.id, outcome.error or "failed", retry, park)
                log.warning(
                    "notification %s (%s %s) failed (attempt %s%s): %s",
                    item.id, item.channel, item.address, attempts, ", parked" if park else "", outcome.error,
                )  # fmt: skip
                failed += 1
                parked += int(park)
            notifications.mark_sent(conn, sent, now)
            history.append_many(conn, entries)
        return Sent(len(sent), failed, parked)

    def _send(self, item: Notification) -> webhooks.Outcome:
        if item.channel == "email":
            return mail.send(
                self.settings.smtp_url,
                self.settings.smtp_from,
                item.address,
                item.subject,
                item.body,
                timeout_seconds=self.settings.webhook_timeout_seconds,
            )
        body = notification_body(item.id, decode_json(item.payload), self.base_url)
        return webhooks.post(
            self.http,
            item.address,
            body,
            secret=self.settings.webhook_secret,
            event_id=f"notification-{item.id}",
            timestamp=int(self.clock.now().timestamp()),
        )


def _notified(item: Notification, now: datetime) -> HistoryEntry:
    """Distribute Customer Problem Notifications (1.3.7.2.2): who was told of which step."""
    why = f"level {item.level} (list {item.list_id}): {item.channel} {item.address}"
    return HistoryEntry(item.ticket_id, now, ACTOR, etom.NOTIFY, "notified", reason=why)
