"""A partner round trip over real HTTP between two troubleflow instances (checklist C9, C5): ours (the ASGI
app on uvicorn on this test's database and fixed clock, its worker run by the test) submits to the partner
(`troubleflow serve` in its own process, its own SQLite database, its own worker), follows the partner's
ticket by the hub events the partner posts to our listener, or by polling when no event comes, escalates
the partner's silence and cascades our cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.partner_peers import inventory_file, partner_report
from tests.running import free_port, served
from troubleflow.api.app import create_app
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

X = "/tmf-api/troubleflow/v1"
V4 = "/tmf-api/troubleTicket/v4"


class Ours:
    """Our troubleflow: the API on a real port, the worker run by the test."""

    def __init__(self, base: str, worker: Worker) -> None:
        self.base = base
        self.worker = worker
        self.http = httpx.Client(base_url=base, timeout=10)

    def record(self, ticket_id: str) -> dict[str, Any]:
        (found,) = self.http.get(f"{X}/troubleTicket/{ticket_id}/partnerTicket").json()
        return dict(found)

    def tasks(self, ticket_id: str) -> dict[str, str]:
        return {t["name"]: t["state"] for t in self.http.get(f"{X}/troubleTicket/{ticket_id}/task").json()}


@pytest.fixture
def ours(db: Database, settings: Settings, clock: FixedClock) -> Iterator[Ours]:
    port = free_port()
    mine = replace(settings, base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(create_app(mine, db=db, clock=clock), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    worker = Worker(db, mine, clock=clock)
    yield Ours(mine.base_url, worker)
    worker.close()
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[httpx.Client]:
    with served(tmp_path, "partner.db") as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


def wait_for(what: Callable[[], bool], seconds: float = 30) -> None:
    """Until the other process has done something (no assertion on how long it took)."""
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("the partner did not act in time")
        time.sleep(0.1)


def submit(ours: Ours, partner: httpx.Client, tmp_path: Path, database_url: str) -> tuple[str, str]:
    from click.testing import CliRunner

    from troubleflow.cli import main

    endpoint = f"{partner.base_url}{V4}".replace("//tmf-api", "/tmf-api")
    path = inventory_file(tmp_path, endpoint)
    result = CliRunner().invoke(main, ["--database-url", database_url, "inventory", "import", str(path)])
    assert result.exit_code == 0, result.output
    r = ours.http.post(f"{V4}/troubleTicket", json=partner_report())
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    ours.worker.run_once()  # submit; the 201 queues the hub subscription
    ours.worker.run_once()  # subscribe
    record = ours.record(ticket_id)
    assert record["hubId"], record
    return ticket_id, record["partnerTroubleTicket"]["id"]


def resolve_on_partner(partner: httpx.Client, theirs: str) -> None:
    """The partner's engineers work their plan and clear the ticket (their Track & Manage rules)."""
    url = f"{X}/troubleTicket/{theirs}/task"
    while open_tasks := [
        t for t in partner.get(url).json() if t["mandatory"] and t["state"] in ("ready", "inProgress")
    ]:
        for t in open_tasks:
            assert partner.patch(f"{url}/{t['id']}", json={"state": "done"}).status_code == 200
    r = partner.patch(
        f"{V4}/troubleTicket/{theirs}", json={"status": "resolved", "statusChangeReason": "splice repaired"}
    )
    assert r.status_code == 200, r.text


def test_the_partner_has_our_ticket_and_its_resolution_event_progresses_our_report(
    ours: Ours, partner: httpx.Client, tmp_path: Path, database_url: str
) -> None:
    ticket_id, theirs = submit(ours, partner, tmp_path, database_url)

    on_partner = partner.get(f"{V4}/troubleTicket/{theirs}").json()
    assert on_partner["externalId"] == ticket_id and on_partner["status"] == "acknowledged"
    resolve_on_partner(partner, theirs)

    wait_for(lambda: ours.record(ticket_id).get("partnerStatus") == "resolved")  # the hub event came
    assert ours.tasks(ticket_id)["Track partner restoration"] == "done"
    assert ours.tasks(ticket_id)["Verify service with the customer"] == "ready"
    report = ours.http.get(f"{V4}/troubleTicket/{ticket_id}").json()
    assert any("is resolved (splice repaired)" in n["text"] for n in report["note"])


def test_without_the_event_polling_finds_the_partners_resolution(
    ours: Ours, partner: httpx.Client, tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    ticket_id, theirs = submit(ours, partner, tmp_path, database_url)
    hub_id = ours.record(ticket_id)["hubId"]
    assert partner.delete(f"{V4}/hub/{hub_id}").status_code == 204  # no event will reach us
    resolve_on_partner(partner, theirs)

    clock.advance(timedelta(minutes=15))
    ours.worker.run_once()  # the poll timer queues a GET
    ours.worker.run_once()  # the GET, its answer read

    assert ours.record(ticket_id)["partnerStatus"] == "resolved"
    assert ours.tasks(ticket_id)["Track partner restoration"] == "done"


def test_a_silent_partner_is_escalated_once_and_our_cancel_cancels_its_ticket(
    ours: Ours, partner: httpx.Client, tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    ticket_id, theirs = submit(ours, partner, tmp_path, database_url)

    for _ in range(4):  # past the partner's 8 h commitment; it never says anything
        clock.advance(timedelta(hours=3))
        ours.worker.run_once()
        ours.worker.run_once()

    told = [
        n for n in ours.http.get(f"{X}/notification").json() if n["notificationList"] == "partner-managers"
    ]
    assert len(told) == 1 and told[0]["address"] == "partner-managers@operator.example"

    r = ours.http.patch(
        f"{V4}/troubleTicket/{ticket_id}",
        json={"status": "cancelled", "statusChangeReason": "customer withdrew"},
    )
    assert r.status_code == 200, r.text
    ours.worker.run_once()

    theirs_now = partner.get(f"{V4}/troubleTicket/{theirs}").json()
    assert theirs_now["status"] == "cancelled" and "customer withdrew" in theirs_now["statusChangeReason"]
    assert ours.record(ticket_id)["partnerStatus"] == "cancelled"
