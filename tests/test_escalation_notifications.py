"""Escalation notifications (Escalate Customer Problem 1.3.7.3.3, Distribute Customer Problem
Notifications 1.3.7.2.2): every step notifies its list once through the notification outbox, by email
(a real SMTP conversation with a sink) and signed webhook (a real HTTP receiver); retries with backoff,
parking, replay; and a delegate's ETA past the commitment as a jeopardy input (1.3.7.3.4)."""

from __future__ import annotations

import socketserver
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from troubleflow import webhooks
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.domain.escalation import THRESHOLD
from troubleflow.processes import escalation
from troubleflow.processes.reports import report_history
from troubleflow.storage import notifications, tickets
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

from .conftest import BASE, api, ticket_body
from .notify_peers import Hooks, Mailbox, policy_for, start_hooks, start_smtp

EXT = "/tmf-api/troubleflow/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    hooks = Hooks()
    server: ThreadingHTTPServer = start_hooks(hooks)
    yield hooks
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    server: socketserver.ThreadingTCPServer = start_smtp(box)
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, hooks: Hooks, mailbox: Mailbox) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE,
        webhook_secret="test-secret",
        webhook_backoff_seconds=1.0,
        webhook_max_attempts=3,
        policy_dir=str(policy_for(hooks.url, tmp_path)),
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
        smtp_from="noc-robot@operator.example",
    )


def _outage(client: TestClient) -> str:
    """A P1 on the 24x7 gold SLA: committed for 13:00 (4 h from the conftest clock's 09:00)."""
    body = ticket_body(
        "v4",
        slaClass="gold",
        severity="Critical",
        priority=None,
        description="Outage: all customers in the whole area lost internet",
    )
    r = client.post(api("v4") + "/troubleTicket", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _drain(worker: Worker) -> None:
    while not worker.run_once().idle:
        pass


def _told(db: Database, ticket_id: str) -> list[notifications.Notification]:
    with db.read() as conn:
        return notifications.for_ticket(conn, ticket_id)


def _get(client: TestClient, ticket_id: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{ticket_id}").json()  # type: ignore[no-any-return]


def test_the_75_percent_step_notifies_every_recipient_of_its_list_exactly_once(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock, hooks: Hooks, mailbox: Mailbox
) -> None:
    rid = _outage(client)
    clock.advance(timedelta(hours=3))  # 12:00 = 75 %: the 50 % step (noc-duty), then 75 % (duty-managers)
    worker = Worker(db, settings, clock=clock)
    _drain(worker)
    _drain(worker)
    worker.close()
    restarted = Worker(db, settings, clock=clock)  # a restart finds nothing left to send
    _drain(restarted)
    restarted.close()

    assert [m["Subject"] for m in mailbox.to("duty-managers@operator.example")] == [
        f"[troubleflow] {rid} escalated to level 2 (P1): No broadband"
    ]
    assert len(mailbox.to("noc-duty@operator.example")) == 1
    (duty,) = hooks.to("/duty")
    assert duty["@type"] == "EscalationNotification"
    assert duty["event"]["troubleTicket"]["href"] == f"{BASE}/tmf-api/troubleTicket/v4/troubleTicket/{rid}"
    assert {k: duty["event"][k] for k in ("escalationLevel", "threshold", "role", "workgroup")} == {
        "escalationLevel": 2,
        "threshold": 75,
        "role": "duty-manager",
        "workgroup": "core-network",
    }
    assert duty["event"]["restorationCommitment"] == "2026-03-02T13:00:00.000Z"
    assert duty["eventTime"] == "2026-03-02T12:00:00.000Z"
    _, headers, raw = next(p for p in hooks.posts if p[0] == "/duty")
    timestamp = int(headers["X-Troubleflow-Timestamp"])
    assert headers["X-Troubleflow-Signature"] == webhooks.sign("test-secret", timestamp, raw)
    assert len(hooks.to("/noc")) == 1
    assert {(n.level, n.channel, n.state) for n in _told(db, rid)} == {
        (1, "email", "sent"),
        (1, "webhook", "sent"),
        (2, "email", "sent"),
        (2, "webhook", "sent"),
    }
    notified = [h for h in report_history(db, rid) if h.action == "notified"]
    assert len(notified) == 4 and {h.process_id for h in notified} == {"1.3.7.2.2"}
    # Functional escalation: the 75 % step hands the report to its workgroup.
    assert _get(client, rid)["escalationWorkgroup"] == "core-network"


def test_a_step_taken_twice_notifies_nobody_twice(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    rid = _outage(client)
    clock.advance(timedelta(hours=2))
    _drain(Worker(db, settings, clock=clock))
    step = Worker(db, settings, clock=clock).policies[0].escalation[0]  # P1 at 50 %: level 1, noc-duty
    with db.begin() as conn:
        ticket = tickets.get(conn, rid)
        again = escalation.take(
            conn, ticket, step, None, cause=THRESHOLD, reason="again", actor="t", now=clock.now()
        )

    assert again is False
    assert len(_told(db, rid)) == 2


def test_a_step_at_the_same_level_notifies_nobody(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock, hooks: Hooks
) -> None:
    rid = _outage(client)
    clock.advance(timedelta(hours=3, minutes=36))  # 90 %: level 2 again, its list major-incident
    _drain(Worker(db, settings, clock=clock))

    assert hooks.to("/paging") == []
    assert {n.list_id for n in _told(db, rid)} == {"noc-duty", "duty-managers"}


def test_a_failing_webhook_recipient_is_retried_with_backoff_then_parked_and_replay_sends_it(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock, hooks: Hooks
) -> None:
    hooks.failing = lambda path: path == "/noc"
    rid = _outage(client)
    clock.advance(timedelta(hours=2))  # 50 %: noc-duty (email + webhook)
    worker = Worker(db, settings, clock=clock)
    worker.run_once()
    (hook,) = [n for n in _told(db, rid) if n.channel == "webhook"]
    assert (hook.state, hook.attempts, hook.next_attempt_at) == (
        "pending",
        1,
        clock.now() + timedelta(seconds=1),
    )
    assert hook.last_error is not None and hook.last_error.startswith("HTTP 500")
    worker.run_once()
    assert len(hooks.to("/noc")) == 1  # not due before its backoff
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    (hook,) = [n for n in _told(db, rid) if n.channel == "webhook"]
    assert (hook.attempts, hook.next_attempt_at) == (2, clock.now() + timedelta(seconds=2))  # doubled
    clock.advance(timedelta(seconds=2))
    worker.run_once()  # the third attempt of three: parked

    parked = client.get(f"{EXT}/notification?state=parked").json()
    assert [(p["channel"], p["address"], p["attempts"]) for p in parked] == [
        ("webhook", f"{hooks.url}/noc", 3)
    ]
    assert parked[0]["lastError"].startswith("HTTP 500")
    assert len(hooks.to("/noc")) == 3
    clock.advance(timedelta(minutes=10))
    worker.run_once()
    assert len(hooks.to("/noc")) == 3  # parked stays parked

    hooks.failing = lambda _path: False
    r = client.post(f"{EXT}/notification/replay", json={"id": [int(parked[0]["id"])]})
    assert r.status_code == 200 and r.json() == {"replayed": 1}
    worker.run_once()
    worker.close()
    assert len(hooks.to("/noc")) == 4
    assert {n.state for n in _told(db, rid)} == {"sent"}
    assert client.post(f"{EXT}/notification/replay", json={"id": [int(parked[0]["id"])]}).status_code == 404


def test_without_an_smtp_server_email_notifications_are_parked_with_a_clear_reason(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock, hooks: Hooks
) -> None:
    rid = _outage(client)
    clock.advance(timedelta(hours=2))
    worker = Worker(db, replace(settings, smtp_url=""), clock=clock)
    _drain(worker)
    worker.close()

    email = next(n for n in _told(db, rid) if n.channel == "email")
    assert (email.state, email.attempts) == ("parked", 1)
    assert email.last_error is not None and email.last_error.startswith("no SMTP server configured")
    shown = client.get(f"{EXT}/troubleTicket/{rid}/escalation").json()
    states = {(n["channel"], n["state"]) for n in shown["step"][0]["notification"]}
    assert states == {("email", "parked"), ("webhook", "sent")}


def test_a_task_eta_past_the_commitment_raises_jeopardy_and_escalates_once(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock, mailbox: Mailbox
) -> None:
    rid = _outage(client)  # committed for 13:00
    url = f"{EXT}/troubleTicket/{rid}/task/1"
    on_time = client.patch(url, json={"expectedCompletionDate": "2026-03-02T12:00:00Z"}, headers=MERGE)
    assert on_time.status_code == 200
    assert "forecastBreach" not in _get(client, rid)

    late = client.patch(url, json={"expectedCompletionDate": "2026-03-02T14:30:00Z"}, headers=MERGE)
    assert late.status_code == 200
    report = _get(client, rid)
    assert report["forecastBreach"] == {
        "source": "task 1 (core-network)",
        "eta": "2026-03-02T14:30:00.000Z",
        "since": "2026-03-02T09:00:00.000Z",
    }
    assert report["escalationLevel"] == 3  # the P1 row at 100 %: head-of-operations
    later = client.patch(url, json={"expectedCompletionDate": "2026-03-02T16:00:00Z"}, headers=MERGE)
    assert later.status_code == 200  # already marked: nothing more

    clock.advance(timedelta(hours=4))  # the real 50/75/90 % and the breach fire
    _drain(Worker(db, settings, clock=clock))

    assert _get(client, rid)["jeopardy"]["threshold"] == 100
    assert [(n.level, n.list_id) for n in _told(db, rid)] == [(3, "operations-management")]
    assert len(mailbox.to("operations-management@operator.example")) == 1
    trail = [(h.process_id, h.action, h.reason) for h in report_history(db, rid)]
    forecast = [t for t in trail if t[1] == "forecastBreach"]
    assert forecast == [
        (
            "1.3.7.3.4",
            "forecastBreach",
            "task 1 (core-network) expects restoration at 2026-03-02T14:30:00+00:00, "
            "after the commitment 2026-03-02T13:00:00+00:00",
        )
    ]
    assert [t[2] for t in trail if t[1] == "escalated"] == [
        "level 3 at 100 %: role head-of-operations; notify operations-management (forecast breach)"
    ]
