"""Event delivery rules: hub subscriptions, the transactional outbox and the webhook worker.

The webhook receiver is a real HTTP server on 127.0.0.1 (the only faked peer); the worker talks to it
with a real httpx client. Time is the fixed test clock, advanced explicitly for backoff and leases.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from troubleflow import webhooks
from troubleflow.cli import main as cli_main
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.storage import outbox
from troubleflow.storage.db import Database
from troubleflow.storage.tables import delivery as delivery_table
from troubleflow.storage.tables import outbox as outbox_table
from troubleflow.worker import Worker

from .conftest import api, finish_work_plan, ticket_body

SIGNATURE = "X-Troubleflow-Signature"
TIMESTAMP = "X-Troubleflow-Timestamp"
EVENT_ID = "X-Troubleflow-Event-Id"


# --------------------------------------------------------------------------- the fake network peer


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    status: int

    @property
    def event_id(self) -> str:
        return str(self.body["eventId"])

    @property
    def ticket_id(self) -> str:
        return str(self.body["event"]["troubleTicket"]["id"])

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Receiver:
    """A webhook endpoint: records every request; answers 500 while `fails(request_no, body)` is true."""

    url: str = ""
    fails: Callable[[int, dict[str, Any]], bool] = lambda _n, _b: False
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], raw: bytes) -> int:
        body = json.loads(raw)
        with self.lock:
            status = 500 if self.fails(len(self.requests), body) else 201
            self.requests.append(Received(headers, raw, body, status))
        return status

    @property
    def successes(self) -> list[Received]:
        return [r for r in self.requests if r.ok]


def _start(receiver: Receiver) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(dict(self.headers.items()), raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/listener"
    return server, thread


MakeReceiver = Callable[..., Receiver]


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Factory of running receivers; all are stopped at teardown."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def make(fails: Callable[[int, dict[str, Any]], bool] = lambda _n, _b: False) -> Receiver:
        receiver = Receiver(fails=fails)
        running.append(_start(receiver))
        return receiver

    yield make
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def worker(db: Database, settings: Settings, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(db, settings, clock=clock)
    yield w
    w.close()


# --------------------------------------------------------------------------- helpers


def subscribe(
    client: TestClient, version: str, callback: str, query: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"callback": callback, **extra}
    if query is not None:
        body["query"] = query
    if version == "v5":
        body["@type"] = "Hub"
    response = client.post(f"{api(version)}/hub", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def create_ticket(client: TestClient, version: str, **overrides: Any) -> str:
    response = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version, **overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def patch(
    client: TestClient,
    version: str,
    ticket_id: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    response: httpx.Response = client.patch(
        f"{api(version)}/troubleTicket/{ticket_id}",
        json=body,
        headers={"Content-Type": "application/merge-patch+json", **(headers or {})},
    )
    return response


def move(client: TestClient, version: str, ticket_id: str, status: str, reason: str | None = None) -> None:
    body: dict[str, Any] = {"status": status}
    if reason:
        body["statusChangeReason"] = reason
    response = patch(client, version, ticket_id, body)
    assert response.status_code == 200, response.text


LIFECYCLE: list[dict[str, Any]] = [
    {"status": "inProgress"},
    {"priority": "Low"},
    {"status": "pending", "statusChangeReason": "need the modem serial number"},
    {"status": "inProgress"},
    {"status": "resolved", "statusChangeReason": "line card replaced"},
]


def run_lifecycle(client: TestClient, version: str, ticket_ids: list[str]) -> None:
    """Move every ticket through several statuses, interleaving the tickets step by step."""
    for step in LIFECYCLE:
        for tid in ticket_ids:
            if step.get("status") == "resolved":
                finish_work_plan(client, tid)  # no clearing with mandatory tasks open (1.3.7.3.1)
            response = patch(client, version, tid, step)
            assert response.status_code == 200, response.text


def drain(
    worker: Worker,
    db: Database,
    clock: FixedClock,
    *,
    step: timedelta = timedelta(seconds=60),
    max_passes: int = 60,
) -> int:
    """Run worker passes, advancing the clock past any backoff, until nothing is pending."""
    for passes in range(1, max_passes + 1):
        worker.run_once()
        with db.read() as conn:
            counts = outbox.counts(conn)
        if counts.get(outbox.PENDING, 0) == 0 and counts["undispatched"] == 0:
            return passes
        clock.advance(step)
    raise AssertionError(f"deliveries still pending after {max_passes} passes: {counts}")


def outbox_rows(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(outbox_table).order_by(outbox_table.c.id)).mappings()]


def outbox_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox_table)).scalar_one())


def deliveries(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(select(delivery_table).order_by(delivery_table.c.id)).mappings()
        return [dict(r) for r in rows]


def first_seen_order(requests: list[Received]) -> dict[str, list[str]]:
    """Per ticket, event ids in the order they first reached the receiver."""
    order: dict[str, list[str]] = defaultdict(list)
    for r in requests:
        if r.event_id not in order[r.ticket_id]:
            order[r.ticket_id].append(r.event_id)
    return dict(order)


def produced_order(db: Database) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for row in outbox_rows(db):
        order[row["ticket_id"]].append(row["event_id"])
    return dict(order)


def cli(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(cli_main, ["--database-url", settings.database_url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def verify_signature(r: Received, secret: str) -> bool:
    return r.headers[SIGNATURE] == webhooks.sign(secret, int(r.headers[TIMESTAMP]), r.raw)


# --------------------------------------------------------------------------- 1. subscribing


def test_v4_hub_subscription_is_created_read_and_removed(client: TestClient) -> None:
    response = client.post(
        f"{api('v4')}/hub",
        json={"callback": "http://listener.example/cb", "query": "eventType=TroubleTicketCreateEvent"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"]
    assert body["callback"] == "http://listener.example/cb"
    assert body["query"] == "eventType=TroubleTicketCreateEvent"
    assert response.headers["Location"].endswith(f"{api('v4')}/hub/{body['id']}")

    got = client.get(f"{api('v4')}/hub/{body['id']}")
    assert got.status_code == 200
    assert got.json()["id"] == body["id"] and got.json()["callback"] == body["callback"]

    assert client.delete(f"{api('v4')}/hub/{body['id']}").status_code == 204
    gone = client.get(f"{api('v4')}/hub/{body['id']}")
    assert gone.status_code == 404
    error = gone.json()
    assert {"code", "reason", "message", "status", "@type"} <= error.keys()
    assert error["status"] == "404" and error["@type"] == "Error"


def test_v5_hub_subscription_is_a_typed_hub_with_href(client: TestClient) -> None:
    response = client.post(
        f"{api('v5')}/hub", json={"@type": "Hub", "callback": "https://listener.example/cb"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["@type"] == "Hub"
    assert body["id"] and body["callback"] == "https://listener.example/cb"
    assert body["href"] == response.headers["Location"]
    assert body["href"].endswith(f"{api('v5')}/hub/{body['id']}")
    got = client.get(f"{api('v5')}/hub/{body['id']}")
    assert got.status_code == 200 and got.json()["@type"] == "Hub"
    assert client.delete(f"{api('v5')}/hub/{body['id']}").status_code == 204
    assert client.get(f"{api('v5')}/hub/{body['id']}").status_code == 404


def test_hub_secret_is_not_echoed_back(client: TestClient) -> None:
    body = subscribe(client, "v4", "http://listener.example/cb", secret="s3cr3t")

    assert "secret" not in body
    assert "secret" not in client.get(f"{api('v4')}/hub/{body['id']}").json()


@pytest.mark.parametrize("callback", ["ftp://listener.example/cb", "listener.example/cb", "http://"])
def test_hub_callback_must_be_an_http_url(client: TestClient, callback: str) -> None:
    response = client.post(f"{api('v4')}/hub", json={"callback": callback})

    assert response.status_code == 400
    assert response.json()["status"] == "400"


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_hub_query_must_be_well_formed(client: TestClient, version: str) -> None:
    body: dict[str, Any] = {"callback": "http://listener.example/cb", "query": "eventType"}
    if version == "v5":
        body["@type"] = "Hub"

    response = client.post(f"{api(version)}/hub", json=body)

    assert response.status_code == 400
    assert response.json()["code"]


# --------------------------------------------------------------------------- 2. delivery end to end


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_every_event_is_delivered_once_in_ticket_order_despite_failures(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    worker: Worker,
    receivers: MakeReceiver,
    version: str,
) -> None:
    receiver = receivers(fails=lambda n, _b: n < 3)  # the first three requests fail
    subscribe(client, version, receiver.url)
    ticket_ids = [create_ticket(client, version) for _ in range(3)]
    run_lifecycle(client, version, ticket_ids)

    drain(worker, db, clock)

    produced = outbox_rows(db)
    assert len(produced) >= 3 * (1 + len(LIFECYCLE))
    assert sum(not r.ok for r in receiver.requests) == 3
    # exactly once after de-duplication, and never two successful receipts of one event
    assert {r.event_id for r in receiver.requests} == {row["event_id"] for row in produced}
    assert all(n == 1 for n in Counter(r.event_id for r in receiver.successes).values())
    assert len(receiver.successes) == len(produced)
    # per ticket, in production order (first sight and successful receipts alike)
    assert first_seen_order(receiver.requests) == produced_order(db)
    assert first_seen_order(receiver.successes) == produced_order(db)
    history_key = "statusChange" if version == "v4" else "statusChangeHistory"
    for tid in ticket_ids:
        lengths = [
            len(r.body["event"]["troubleTicket"][history_key])
            for r in receiver.successes
            if r.ticket_id == tid
        ]
        assert lengths == sorted(lengths) and lengths[-1] == 5  # acknowledged + 4 moves
    # signed with the server secret; the event id header repeats the envelope's
    for r in receiver.requests:
        assert verify_signature(r, settings.webhook_secret)
        assert r.headers[EVENT_ID] == r.event_id
        assert r.headers["Content-Type"].startswith("application/json")
    assert {row["state"] for row in deliveries(db)} == {outbox.DELIVERED}


def test_v4_event_envelope_has_the_v4_fields(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    subscribe(client, "v4", receiver.url)
    tid = create_ticket(client, "v4")
    move(client, "v4", tid, "inProgress")

    drain(worker, db, clock)

    assert [r.body["eventType"] for r in receiver.requests] == [
        "TroubleTicketCreateEvent",
        "TroubleTicketStatusChangeEvent",
    ]
    for r in receiver.requests:
        assert {"eventId", "eventTime", "eventType", "timeOcurred"} <= r.body.keys()
        assert r.body["event"]["troubleTicket"]["id"] == tid
        assert r.body["event"]["troubleTicket"]["href"].endswith(f"{api('v4')}/troubleTicket/{tid}")
    assert receiver.requests[1].body["event"]["troubleTicket"]["status"] == "inProgress"


def test_v5_event_envelope_is_typed_with_time_occurred(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    subscribe(client, "v5", receiver.url)
    tid = create_ticket(client, "v5")
    move(client, "v5", tid, "inProgress")

    drain(worker, db, clock)

    assert len(receiver.requests) == 2
    for r in receiver.requests:
        assert r.body["@type"] == r.body["eventType"]
        assert {"eventId", "eventTime", "timeOccurred"} <= r.body.keys()
        assert "timeOcurred" not in r.body
        assert r.body["event"]["troubleTicket"]["id"] == tid
        assert r.body["event"]["troubleTicket"]["@type"] == "TroubleTicket"


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_a_subscription_secret_signs_its_webhooks(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    worker: Worker,
    receivers: MakeReceiver,
    version: str,
) -> None:
    receiver = receivers()
    subscribe(client, version, receiver.url, secret="hub-own-secret")
    create_ticket(client, version)

    drain(worker, db, clock)

    assert len(receiver.requests) == 1
    r = receiver.requests[0]
    assert verify_signature(r, "hub-own-secret")
    assert not verify_signature(r, settings.webhook_secret)
    assert int(r.headers[TIMESTAMP]) == int(clock.now().timestamp())


# --------------------------------------------------------------------------- 3. fan-out and filters


def test_every_subscription_gets_every_event_once(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    first, second = receivers(), receivers()
    subscribe(client, "v4", first.url)
    subscribe(client, "v5", second.url)
    ticket_ids = [create_ticket(client, "v4") for _ in range(2)]
    run_lifecycle(client, "v4", ticket_ids)

    drain(worker, db, clock)

    produced = [row["event_id"] for row in outbox_rows(db)]
    for receiver in (first, second):
        assert sorted(r.event_id for r in receiver.requests) == sorted(produced)
        assert first_seen_order(receiver.requests) == produced_order(db)


def test_an_event_type_query_selects_only_status_changes(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    everything, changes = receivers(), receivers()
    subscribe(client, "v4", everything.url)
    subscribe(client, "v4", changes.url, query="eventType=TroubleTicketStatusChangeEvent")
    ticket_ids = [create_ticket(client, "v4") for _ in range(2)]
    run_lifecycle(client, "v4", ticket_ids)

    drain(worker, db, clock)

    status_change = "TroubleTicketStatusChangeEvent"
    expected = [r.event_id for r in everything.requests if r.body["eventType"] == status_change]
    assert len(expected) == 2 * 4
    assert {r.body["eventType"] for r in changes.requests} == {"TroubleTicketStatusChangeEvent"}
    assert sorted(r.event_id for r in changes.requests) == sorted(expected)


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_a_severity_query_selects_only_events_of_critical_tickets(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver, version: str
) -> None:
    receiver = receivers()
    subscribe(client, version, receiver.url, query="event.troubleTicket.severity=Critical")
    critical = create_ticket(client, version, severity="Critical")
    major = create_ticket(client, version, severity="Major")
    run_lifecycle(client, version, [critical, major])

    drain(worker, db, clock)

    expected = [row["event_id"] for row in outbox_rows(db) if row["ticket_id"] == critical]
    assert [r.event_id for r in receiver.requests] == expected
    assert {r.body["event"]["troubleTicket"]["severity"] for r in receiver.requests} == {"Critical"}
    assert major not in {r.ticket_id for r in receiver.requests}


def test_a_failing_subscriber_does_not_hold_back_another(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    down, up = receivers(fails=lambda _n, _b: True), receivers()
    subscribe(client, "v4", down.url)
    subscribe(client, "v4", up.url)
    tid = create_ticket(client, "v4")
    run_lifecycle(client, "v4", [tid])

    drain(worker, db, clock)

    assert [r.event_id for r in up.successes] == produced_order(db)[tid]
    assert not down.successes
    states = Counter(row["state"] for row in deliveries(db))
    assert states[outbox.DELIVERED] == states[outbox.PARKED] == len(produced_order(db)[tid])


def test_an_unsubscribed_listener_gets_no_further_events(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers(fails=lambda _n, _b: True)
    sub = subscribe(client, "v4", receiver.url)
    tid = create_ticket(client, "v4")
    worker.run_once()  # first attempt fails; the delivery waits for its retry
    assert len(receiver.requests) == 1

    assert client.delete(f"{api('v4')}/hub/{sub['id']}").status_code == 204
    move(client, "v4", tid, "inProgress")
    drain(worker, db, clock)

    assert len(receiver.requests) == 1
    assert deliveries(db) == []


# --------------------------------------------------------------------------- 4. crashes lose nothing


def test_a_worker_crash_after_posting_before_recording_loses_no_event(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    receivers: MakeReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = receivers()
    subscribe(client, "v4", receiver.url)
    ticket_ids = [create_ticket(client, "v4") for _ in range(3)]
    run_lifecycle(client, "v4", ticket_ids)

    def crash(*_args: object) -> None:
        raise RuntimeError("the worker died after posting")

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "record_dispatch", crash)
        with pytest.raises(RuntimeError):
            Worker(db, settings, clock=clock).dispatch()
    posted_before_crash = {r.event_id for r in receiver.requests}
    assert posted_before_crash
    with db.read() as conn:
        assert outbox.undispatched(conn, 500), "the events stay undispatched: nothing was recorded"

    drain(Worker(db, settings, clock=clock), db, clock)

    produced = produced_order(db)
    assert {r.event_id for r in receiver.requests} == {e for ids in produced.values() for e in ids}
    duplicated = {e for e, n in Counter(r.event_id for r in receiver.requests).items() if n > 1}
    assert duplicated <= posted_before_crash  # at least once: only what was posted is posted again
    assert first_seen_order(receiver.requests) == produced
    assert {row["state"] for row in deliveries(db)} == {outbox.DELIVERED}


def test_a_worker_crash_after_claiming_a_retry_loses_no_event(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    receivers: MakeReceiver,
) -> None:
    receiver = receivers(fails=lambda n, _body: n <= 3)  # the first posts fail: deliveries go to retry
    subscribe(client, "v4", receiver.url)
    ticket_ids = [create_ticket(client, "v4") for _ in range(3)]
    run_lifecycle(client, "v4", ticket_ids)
    Worker(db, settings, clock=clock).dispatch()
    clock.advance(timedelta(seconds=settings.webhook_backoff_max_seconds))
    with db.begin() as conn:
        leased = outbox.claim(conn, clock.now(), timedelta(seconds=settings.delivery_lease_seconds), 200)
    assert leased  # the crash: claimed, never sent, never marked
    sent = len(receiver.requests)

    Worker(db, settings, clock=clock).run_once()
    assert len(receiver.requests) == sent  # leased deliveries (and those queued behind them) wait

    clock.advance(timedelta(seconds=settings.delivery_lease_seconds + 1))
    drain(Worker(db, settings, clock=clock), db, clock)

    produced = produced_order(db)
    delivered = {r.event_id for r in receiver.requests if r.ok}
    assert delivered == {e for ids in produced.values() for e in ids}
    assert first_seen_order([r for r in receiver.requests if r.ok]) == produced
    assert {row["state"] for row in deliveries(db)} == {outbox.DELIVERED}


def test_events_committed_before_any_worker_ran_are_delivered_later(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    receivers: MakeReceiver,
) -> None:
    receiver = receivers()
    subscribe(client, "v5", receiver.url)
    ticket_ids = [create_ticket(client, "v5") for _ in range(2)]
    run_lifecycle(client, "v5", ticket_ids)
    with db.read() as conn:
        assert outbox.counts(conn)["undispatched"] == outbox_count(db) > 0
    clock.advance(timedelta(hours=1))  # the process died; a new one starts much later

    drain(Worker(db, settings, clock=clock), db, clock)

    assert sorted(r.event_id for r in receiver.requests) == sorted(row["event_id"] for row in outbox_rows(db))
    assert first_seen_order(receiver.requests) == produced_order(db)


# --------------------------------------------------------------------------- 5. backoff, parking, replay


def test_failed_deliveries_back_off_exponentially_then_park_without_blocking_others_and_replay(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    worker: Worker,
    receivers: MakeReceiver,
) -> None:
    rejected: set[str] = set()
    receiver = receivers(fails=lambda _n, body: body["event"]["troubleTicket"]["id"] in rejected)
    subscribe(client, "v4", receiver.url)
    broken = create_ticket(client, "v4")
    rejected.add(broken)

    # attempt 1 is made at once; each failure schedules the next one 1s, 2s, 4s, 8s later
    worker.run_once()
    delays = []
    for attempt in range(1, settings.webhook_max_attempts):
        [row] = deliveries(db)
        assert row["state"] == outbox.PENDING and row["attempts"] == attempt
        delay = row["next_attempt_at"] - clock.now()
        delays.append(delay.total_seconds())
        assert worker.run_once().delivered == 0  # not due yet: nothing is sent
        clock.advance(delay - timedelta(milliseconds=1))
        worker.run_once()
        assert len(receiver.requests) == attempt
        clock.advance(timedelta(milliseconds=1))
        worker.run_once()
        assert len(receiver.requests) == attempt + 1
    assert delays == [1.0, 2.0, 4.0, 8.0]

    [row] = deliveries(db)
    assert row["state"] == outbox.PARKED and row["attempts"] == settings.webhook_max_attempts
    with db.read() as conn:
        [parked] = outbox.list_deliveries(conn, outbox.PARKED)
    assert parked["ticket_id"] == broken and parked["last_error"].startswith("HTTP 500")
    listing = cli(settings, "outbox", "list", "--state", "parked")
    assert broken in listing and "parked=1" in listing

    # a parked delivery does not hold back other tickets' events
    clock.advance(timedelta(minutes=10))
    healthy = create_ticket(client, "v4")
    move(client, "v4", healthy, "inProgress")
    drain(worker, db, clock)
    assert [r.body["eventType"] for r in receiver.successes if r.ticket_id == healthy] == [
        "TroubleTicketCreateEvent",
        "TroubleTicketStatusChangeEvent",
    ]
    assert not [r for r in receiver.successes if r.ticket_id == broken]

    # the receiver recovers; an operator replays; the next passes deliver
    rejected.clear()
    assert "replayed 1" in cli(settings, "outbox", "replay", "--all")
    # the CLI stamps the replay with the wall clock; bring the test clock up to it
    clock.advance(max(timedelta(0), datetime.now(UTC) - clock.now()) + timedelta(seconds=1))
    drain(worker, db, clock)

    # (months pass on the test clock: the report's jeopardy timers fire too, as further events)
    replayed = [r for r in receiver.requests if r.ticket_id == broken and "Create" in r.body["eventType"]]
    assert [r.ok for r in replayed] == [False] * 5 + [True]
    assert {row["state"] for row in deliveries(db)} == {outbox.DELIVERED}
    assert "parked" not in cli(settings, "outbox", "list", "--state", "parked").replace("parked=", "")


# --------------------------------------------------------------------------- 6. rollback writes nothing


def test_an_illegal_transition_writes_no_event(client: TestClient, db: Database) -> None:
    tid = create_ticket(client, "v4")
    before = outbox_count(db)

    response = patch(client, "v4", tid, {"status": "closed"})

    assert response.status_code == 409
    assert outbox_count(db) == before
    assert client.get(f"{api('v4')}/troubleTicket/{tid}").json()["status"] == "acknowledged"


def test_a_stale_if_match_writes_no_event(client: TestClient, db: Database) -> None:
    tid = create_ticket(client, "v5")
    move(client, "v5", tid, "inProgress")
    before = outbox_count(db)

    response = patch(client, "v5", tid, {"priority": "Low"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert outbox_count(db) == before
    assert client.get(f"{api('v5')}/troubleTicket/{tid}").json()["priority"] == "High"


# --------------------------------------------------------------------------- 7. which events


def test_deleting_a_ticket_emits_a_delete_event(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    subscribe(client, "v4", receiver.url)
    tid = create_ticket(client, "v4")

    assert client.delete(f"{api('v4')}/troubleTicket/{tid}").status_code == 204
    drain(worker, db, clock)

    assert [r.body["eventType"] for r in receiver.requests] == [
        "TroubleTicketCreateEvent",
        "TroubleTicketDeleteEvent",
    ]
    assert receiver.requests[-1].ticket_id == tid


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_resolving_emits_status_change_then_resolved(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver, version: str
) -> None:
    receiver = receivers()
    tid = create_ticket(client, version)
    move(client, version, tid, "inProgress")
    drain(worker, db, clock)  # earlier events go out before the subscription exists
    subscribe(client, version, receiver.url)
    finish_work_plan(client, tid)  # task changes are not report events

    move(client, version, tid, "resolved", "fibre spliced")
    drain(worker, db, clock)

    assert [r.body["eventType"] for r in receiver.requests] == [
        "TroubleTicketStatusChangeEvent",
        "TroubleTicketResolvedEvent",
    ]
    assert {r.body["event"]["troubleTicket"]["status"] for r in receiver.requests} == {"resolved"}


def test_moving_to_pending_asks_for_information(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    tid = create_ticket(client, "v5")
    move(client, "v5", tid, "inProgress")
    drain(worker, db, clock)  # earlier events go out before the subscription exists
    subscribe(client, "v5", receiver.url)

    move(client, "v5", tid, "pending", "which modem model?")
    drain(worker, db, clock)

    assert [r.body["eventType"] for r in receiver.requests] == [
        "TroubleTicketStatusChangeEvent",
        "TroubleTicketInformationRequiredEvent",
    ]
    info = receiver.requests[1].body
    assert info["@type"] == "TroubleTicketInformationRequiredEvent"
    assert isinstance(info["event"]["informationRequired"], dict)
    assert {"op", "path"} <= info["event"]["informationRequired"].keys()
    assert info["event"]["troubleTicket"]["status"] == "pending"


def test_a_v4_attribute_change_event_names_the_changed_field(
    client: TestClient, db: Database, clock: FixedClock, worker: Worker, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    tid = create_ticket(client, "v4")
    drain(worker, db, clock)  # the create event goes out before the subscription exists
    subscribe(client, "v4", receiver.url)

    assert patch(client, "v4", tid, {"priority": "Low"}).status_code == 200
    drain(worker, db, clock)

    [r] = receiver.requests
    assert r.body["eventType"] == "TroubleTicketAttributeValueChangeEvent"
    assert r.body["fieldPath"] == "priority"
