"""Service problems handed to an external TMF656 service problem manager of a service domain (Track &
Manage 1.3.7.3 → Service Problem Management 1.4.6 elsewhere, hand-offs H4/H5): the remote problem is created
through the durable hand-off outbox, our local problem mirrors it, the manager's events reach our report
through our listener (estimate, clearing), our cancellation cascades, and a failing manager never loses
a hand-off. Through the public API, the CLI and the worker, against a faked manager over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.conftest import BASE, api, ticket_body
from tests.spm_peers import FakeManager, iptv_domain, policy_dir, start_manager
from troubleflow.api.app import create_app
from troubleflow.cli import main
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

X = "/tmf-api/troubleflow/v1"
SP = "/tmf-api/serviceProblemManagement/v4/serviceProblem"
LISTENER = f"{X}/listener/serviceProblem/iptv-platform"
SERVICE_FAULT = "IPTV service platform fault since 08:00, no channels"


@pytest.fixture
def manager() -> Iterator[FakeManager]:
    fake = FakeManager()
    server = start_manager(fake)
    yield fake
    server.shutdown()


@pytest.fixture
def external(settings: Settings, manager: FakeManager, tmp_path: Path) -> Settings:
    """Our settings with a policy giving the IPTV platform's problems to the faked manager."""
    return replace(settings, policy_dir=str(policy_dir(tmp_path / "policies", iptv_domain(manager.url))))


@pytest.fixture
def ours(db: Database, external: Settings, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(external, db=db, clock=clock)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def worker(db: Database, external: Settings, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(db, external, clock=clock)
    yield w
    w.close()


def report(client: TestClient, description: str = SERVICE_FAULT) -> dict[str, Any]:
    r = client.post(f"{api('v4')}/troubleTicket", json=ticket_body(description=description))
    assert r.status_code == 201, r.text
    return dict(r.json())


def get_report(client: TestClient, rid: str) -> dict[str, Any]:
    r = client.get(f"{api('v4')}/troubleTicket/{rid}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def mirror_of(ticket: dict[str, Any]) -> str:
    (pid,) = [e["id"] for e in ticket.get("relatedEntity", []) if e.get("role") == "serviceProblem"]
    return str(pid)


def handed_over(client: TestClient, worker: Worker) -> tuple[dict[str, Any], str, str]:
    """A service-fault report whose problem the manager accepted and whose hub we subscribed to."""
    ticket = report(client)
    worker.run_once()  # the create; its 201 queues the hub subscription
    worker.run_once()  # the subscription
    pid = mirror_of(ticket)
    remote = client.get(f"{X}/serviceProblem/{pid}/external").json()["remoteServiceProblem"]["id"]
    return ticket, pid, str(remote)


def event(remote: dict[str, Any], event_type: str = "ServiceProblemStateChangeEvent") -> dict[str, Any]:
    return {
        "eventId": f"e-{remote.get('status')}-{remote.get('expectedResolutionDate')}",
        "eventTime": "2026-03-02T10:00:00.000Z",
        "eventType": event_type,
        "event": {"serviceProblem": remote},
    }


def test_a_problem_in_an_external_service_domain_is_created_on_the_remote_manager_and_mirrored(
    ours: TestClient, worker: Worker, manager: FakeManager, db: Database
) -> None:
    ticket = report(ours)
    pid = mirror_of(ticket)
    mirror = ours.get(f"{SP}/{pid}").json()
    assert mirror["status"] == "acknowledged" and mirror["troubleTicket"][0]["id"] == ticket["id"]
    (pending,) = ours.get(f"{X}/handoff", params={"target": "externalServiceProblem"}).json()
    assert pending["state"] == "pending" and pending["action"] == "create"
    assert (
        pending["url"] == f"{manager.url}/serviceProblem" and pending["troubleTicket"]["id"] == ticket["id"]
    )

    worker.run_once()
    (created,) = manager.problems.values()
    assert created["category"] == "service-fault" and created["description"] == SERVICE_FAULT
    assert {"id": pid, "owner": "troubleflow", "externalIdentifierType": "serviceProblem"} in created[
        "externalIdentifier"
    ]
    assert created["relatedEntity"] == [
        {"id": ticket["id"], "role": "troubleTicket", "@referredType": "TroubleTicket"}
    ]
    mirror = ours.get(f"{SP}/{pid}").json()
    assert mirror["externalIdentifier"] == [
        {"id": created["id"], "owner": "iptv-platform", "externalIdentifierType": "remoteServiceProblem"}
    ]

    worker.run_once()
    (hub,) = manager.hubs
    assert hub["callback"] == f"{BASE}{LISTENER}"
    assert hub["query"] == f"event.serviceProblem.id={created['id']}"
    record = ours.get(f"{X}/serviceProblem/{pid}/external").json()
    assert record["remoteServiceProblem"]["id"] == created["id"] and record["hubId"] == "H-1"
    trail = [(e.process_id, e.action) for e in report_history(db, ticket["id"])]
    assert ("1.3.7.3.1", "serviceProblemHandedOver") in trail


def test_the_remote_resolution_reaches_our_listener_and_clears_the_report(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket, pid, remote_id = handed_over(ours, worker)
    remote = {**manager.problems[remote_id], "status": "resolved", "statusChangeReason": "platform fixed"}

    r = ours.post(LISTENER, json=event(remote))
    assert r.status_code == 201, r.text
    assert ours.get(f"{SP}/{pid}").json()["status"] == "resolved"  # through inProgress
    cleared = get_report(ours, ticket["id"])
    assert cleared["status"] == "resolved"
    assert cleared["statusChangeReason"].startswith("cleared: service problems resolved")

    again = ours.post(LISTENER, json=event(remote))
    assert again.status_code == 201
    assert get_report(ours, ticket["id"])["lastUpdate"] == cleared["lastUpdate"]


def test_the_remote_estimate_becomes_the_reports_expected_resolution_date(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket, pid, remote_id = handed_over(ours, worker)
    eta = "2026-03-02T15:30:00.000Z"
    remote = {**manager.problems[remote_id], "status": "inProgress", "expectedResolutionDate": eta}

    r = ours.post(LISTENER, json=event(remote, "ServiceProblemAttributeValueChangeEvent"))
    assert r.status_code == 201, r.text
    assert ours.get(f"{SP}/{pid}").json()["status"] == "inProgress"
    assert get_report(ours, ticket["id"])["expectedResolutionDate"] == eta
    assert get_report(ours, ticket["id"])["status"] != "resolved"


def test_an_event_about_a_problem_we_did_not_hand_over_is_404_and_a_bad_event_is_400(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket, pid, remote_id = handed_over(ours, worker)
    unknown = ours.post(LISTENER, json=event({"id": "SP-999", "status": "resolved"}))
    assert unknown.status_code == 404 and unknown.json()["code"] and unknown.json()["reason"]
    elsewhere = ours.post(f"{X}/listener/serviceProblem/other-domain", json=event({"id": remote_id}))
    assert elsewhere.status_code == 404
    for bad in (
        {"event": {}},
        event({"id": remote_id, "status": "fixed"}),
        event({"id": remote_id, "expectedResolutionDate": "soon"}),
        [1, 2],
    ):
        r = ours.post(LISTENER, json=bad)
        assert r.status_code == 400, r.text
        assert r.json()["status"] == "400" or r.json().get("code")
    assert ours.get(f"{SP}/{pid}").json()["status"] == "acknowledged"
    assert get_report(ours, ticket["id"])["status"] == ticket["status"]


def test_cancelling_our_report_cancels_the_remote_problem(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket, pid, remote_id = handed_over(ours, worker)
    r = ours.patch(
        f"{api('v4')}/troubleTicket/{ticket['id']}",
        json={"status": "cancelled", "statusChangeReason": "false report"},
    )
    assert r.status_code == 200, r.text
    assert ours.get(f"{SP}/{pid}").json()["status"] == "cancelled"

    worker.run_once()
    remote = manager.problems[remote_id]
    assert remote["status"] == "cancelled"
    assert remote["statusChangeReason"] == f"customer problem report {ticket['id']} cancelled: false report"
    record = ours.get(f"{X}/serviceProblem/{pid}/external").json()
    assert record["remoteStatus"] == "cancelled"
    echo = ours.post(LISTENER, json=event(remote))  # the manager's own event about it changes nothing
    assert echo.status_code == 201


def test_a_report_cancelled_before_the_manager_answered_cancels_the_remote_problem_once_it_exists(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket = report(ours)
    ours.patch(
        f"{api('v4')}/troubleTicket/{ticket['id']}", json={"status": "cancelled", "statusChangeReason": "x"}
    )
    worker.run_once()  # the create; its 201 queues the cancellation instead of a subscription
    worker.run_once()
    (remote,) = manager.problems.values()
    assert remote["status"] == "cancelled" and not manager.hubs


def test_a_manager_that_is_down_gets_the_hand_off_retried_until_it_is_delivered(
    ours: TestClient, worker: Worker, manager: FakeManager, clock: FixedClock
) -> None:
    manager.failures_left = 2
    ticket = report(ours)
    worker.run_once()
    (failed,) = ours.get(f"{X}/handoff", params={"ticketId": ticket["id"]}).json()
    assert failed["state"] == "pending" and failed["attempts"] == 1 and "500" in failed["lastError"]
    assert not manager.problems
    for _ in range(2):
        clock.advance(timedelta(minutes=5))
        worker.run_once()
    assert len(manager.problems) == 1  # created once, never lost, never doubled
    create = ours.get(f"{X}/handoff/{failed['id']}").json()
    assert create["state"] == "sent" and create["attempts"] == 3


def test_a_hand_off_parked_after_the_last_attempt_is_listed_and_replayed(
    ours: TestClient, worker: Worker, manager: FakeManager, clock: FixedClock, external: Settings
) -> None:
    manager.failures_left = external.webhook_max_attempts
    ticket = report(ours)
    for _ in range(external.webhook_max_attempts):
        worker.run_once()
        clock.advance(timedelta(minutes=10))
    (parked,) = ours.get(f"{X}/handoff", params={"state": "parked"}).json()
    assert parked["target"] == "externalServiceProblem" and parked["troubleTicket"]["id"] == ticket["id"]

    result = CliRunner().invoke(
        main, ["--database-url", external.database_url, "handoff", "list", "--state", "parked"]
    )
    assert result.exit_code == 0 and "externalServiceProblem" in result.output

    assert ours.post(f"{X}/handoff/replay", json={"id": [parked["id"]]}).json() == {"replayed": 1}
    worker.run_once()
    assert len(manager.problems) == 1
    assert ours.get(f"{X}/handoff/{parked['id']}").json()["state"] == "sent"


def test_an_explicitly_raised_problem_in_an_external_domain_is_handed_over_too(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket = report(ours, "Slow broadband in the evening")
    assert not [e for e in ticket.get("relatedEntity", []) if e.get("role") == "serviceProblem"]
    r = ours.post(f"{X}/troubleTicket/{ticket['id']}/serviceProblem", json={"category": "service-fault"})
    assert r.status_code == 201, r.text
    worker.run_once()
    (created,) = manager.problems.values()
    assert created["externalIdentifier"][0]["id"] == r.json()["id"]


def test_a_problem_outside_every_external_service_domain_is_managed_here(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    ticket = report(ours, "Slow broadband in the evening")
    r = ours.post(f"{X}/troubleTicket/{ticket['id']}/serviceProblem", json={})
    assert r.status_code == 201, r.text
    assert ours.get(f"{X}/handoff", params={"target": "externalServiceProblem"}).json() == []
    assert ours.get(f"{X}/serviceProblem/{r.json()['id']}/external").status_code == 404
    worker.run_once()
    assert not manager.calls


def test_a_remote_status_our_mirror_cannot_reach_is_409_and_changes_nothing(
    ours: TestClient, worker: Worker, manager: FakeManager
) -> None:
    _, pid, remote_id = handed_over(ours, worker)
    ours.patch(SP + f"/{pid}", json={"status": "rejected"})
    before = ours.get(f"{X}/serviceProblem/{pid}/external").json()
    r = ours.post(LISTENER, json=event({**manager.problems[remote_id], "status": "resolved"}))
    assert r.status_code == 409, r.text
    assert ours.get(f"{SP}/{pid}").json()["status"] == "rejected"
    assert ours.get(f"{X}/serviceProblem/{pid}/external").json() == before
