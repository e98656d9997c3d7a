"""An external service problem manager round trip over real HTTP between two troubleflow instances (H4/H5):
ours (the ASGI app on uvicorn on this test's database and fixed clock, its worker run by the test) hands a
service-layer report's problem to the manager of its service domain (`troubleflow serve` in its own
process, serving TMF656 v4, its own worker), which posts its events to our listener; our report takes the
manager's estimate, is cleared by its resolution, and our cancellation cancels the manager's problem."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import ticket_body
from tests.running import free_port, served
from tests.spm_peers import ROOT, iptv_domain, policy_dir
from troubleflow.api.app import create_app
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

X = "/tmf-api/troubleflow/v1"
V4 = "/tmf-api/troubleTicket/v4"


class Ours:
    def __init__(self, base: str, worker: Worker) -> None:
        self.http = httpx.Client(base_url=base, timeout=10)
        self.worker = worker

    def report(self, ticket_id: str) -> dict[str, Any]:
        return dict(self.http.get(f"{V4}/troubleTicket/{ticket_id}").json())


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[httpx.Client]:
    with served(tmp_path, "manager.db") as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


@pytest.fixture
def ours(
    db: Database, settings: Settings, clock: FixedClock, manager: httpx.Client, tmp_path: Path
) -> Iterator[Ours]:
    port = free_port()
    endpoint = f"{str(manager.base_url).rstrip('/')}{ROOT}"
    policies = policy_dir(tmp_path / "policies", iptv_domain(endpoint))
    mine = replace(settings, base_url=f"http://127.0.0.1:{port}", policy_dir=str(policies))
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


def wait_for(what: Callable[[], bool], seconds: float = 30) -> None:
    """Until the other process has done something (no assertion on how long it took)."""
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("the service problem manager did not act in time")
        time.sleep(0.1)


def handed_over(ours: Ours) -> tuple[str, str, str]:
    r = ours.http.post(
        f"{V4}/troubleTicket", json=ticket_body(description="IPTV service platform fault, no channels")
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    (pid,) = [e["id"] for e in ticket["relatedEntity"] if e.get("role") == "serviceProblem"]
    ours.worker.run_once()  # the create; its 201 queues the hub subscription
    ours.worker.run_once()  # the subscription
    record = ours.http.get(f"{X}/serviceProblem/{pid}/external").json()
    assert record.get("hubId"), record
    return ticket["id"], pid, record["remoteServiceProblem"]["id"]


def test_the_managers_estimate_and_resolution_reach_our_report_through_its_hub(
    ours: Ours, manager: httpx.Client
) -> None:
    ticket_id, pid, theirs = handed_over(ours)
    remote = manager.get(f"{ROOT}/serviceProblem/{theirs}").json()
    assert remote["externalIdentifier"][0]["id"] == pid and remote["status"] == "acknowledged"

    eta = "2026-03-02T15:30:00.000Z"
    r = manager.patch(
        f"{ROOT}/serviceProblem/{theirs}", json={"status": "inProgress", "expectedResolutionDate": eta}
    )
    assert r.status_code == 200, r.text
    wait_for(lambda: ours.report(ticket_id).get("expectedResolutionDate") == eta)

    r = manager.patch(
        f"{ROOT}/serviceProblem/{theirs}", json={"status": "resolved", "statusChangeReason": "fixed"}
    )
    assert r.status_code == 200, r.text
    wait_for(lambda: ours.report(ticket_id)["status"] == "resolved")
    assert (
        ours.http.get(f"/tmf-api/serviceProblemManagement/v4/serviceProblem/{pid}").json()["status"]
        == "resolved"
    )


def test_our_cancellation_cancels_the_managers_problem(ours: Ours, manager: httpx.Client) -> None:
    ticket_id, _, theirs = handed_over(ours)
    r = ours.http.patch(
        f"{V4}/troubleTicket/{ticket_id}", json={"status": "cancelled", "statusChangeReason": "false report"}
    )
    assert r.status_code == 200, r.text
    ours.worker.run_once()
    remote = manager.get(f"{ROOT}/serviceProblem/{theirs}").json()
    assert remote["status"] == "cancelled"
    assert remote["statusChangeReason"].endswith("false report")
