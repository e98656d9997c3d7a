"""Track & Manage's start left to the worker (policy `intake.start_tracking: in_worker`, a storm's mode):
the 201 acknowledges the report (Generate Customer Problem Report, 1.3.7.5.1); the worker's next timer pass
diagnoses, prioritizes, commits from the creation instant, checks known errors, plans the work and tells
subscribers. Through the public API on the real database, with the fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from troubleflow.api.app import create_app
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.policy_files import default_policy_dir, load_policies
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database
from troubleflow.storage.tables import outbox
from troubleflow.worker import Worker

from .conftest import BASE, api, ticket_body

TASKS = "/tmf-api/troubleflow/v1/troubleTicket/{}/task"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _policies(tmp_path: Path, start: str) -> Path:
    text = default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8")
    folder = tmp_path / f"policies-{start}"
    folder.mkdir()
    text = text.replace("start_tracking: at_creation", f"start_tracking: {start}")
    (folder / "default.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def deferred(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, policy_dir=str(_policies(tmp_path, "in_worker")))


@pytest.fixture
def storm(db: Database, deferred: Settings, clock: FixedClock) -> Any:
    with TestClient(create_app(deferred, db=db, clock=clock), base_url=BASE) as c:
        yield c


def _create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _get(client: TestClient, ticket_id: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{ticket_id}").json()  # type: ignore[no-any-return]


def _actions(db: Database, ticket_id: str) -> list[tuple[str, str]]:
    return [(h.process_id, h.action) for h in report_history(db, ticket_id)]


def test_the_policy_section_accepts_only_the_two_documented_modes(tmp_path: Path) -> None:
    (policy,) = load_policies(_policies(tmp_path, "in_worker"))
    assert policy.intake.start_tracking == "in_worker"
    assert load_policies()[-1].intake.start_tracking == "at_creation"  # the packaged default
    with pytest.raises(Exception, match="start_tracking"):
        load_policies(_policies(tmp_path, "later"))


def test_the_created_report_is_acknowledged_and_tracking_is_queued_durably(
    storm: TestClient, db: Database
) -> None:
    report = _create(storm, priority=None)

    assert report["status"] == "acknowledged"
    assert "priority" not in report and "restorationCommitment" not in report
    assert storm.get(TASKS.format(report["id"])).json() == []
    assert _actions(db, report["id"])[-1] == ("1.3.7.3", "trackingQueued")


def test_the_worker_starts_tracking_with_the_sla_clock_running_from_creation(
    storm: TestClient, client: TestClient, db: Database, deferred: Settings, clock: FixedClock
) -> None:
    inline = _create(client, priority=None)  # the packaged policy: tracked at creation, same instant
    queued = _create(storm, priority=None)
    clock.advance(timedelta(seconds=40))  # a storm's backlog: the worker comes to it later

    assert Worker(db, deferred, clock=clock).run_once().fired == 1

    started = _get(storm, queued["id"])
    for key in ("priority", "category", "slaClass", "restorationCommitment", "expectedResolutionDate"):
        assert started[key] == inline[key], key
    assert started["slaClock"]["started"] == queued["creationDate"]
    assert started["status"] == "acknowledged"
    assert (
        len(storm.get(TASKS.format(queued["id"])).json())
        == len(client.get(TASKS.format(inline["id"])).json())
        > 0
    )
    steps = _actions(db, queued["id"])
    for step in [
        ("1.3.7.3", "trackingQueued"),
        ("1.3.7.3", "trackingStarted"),
        ("1.3.7.1.5", "diagnosed"),
        ("1.3.7.3.5", "prioritized"),
        ("1.3.7.3.4", "restorationCommitted"),
        ("1.3.7.3.1", "taskPlanned"),
    ]:
        assert step in steps, step
    with db.read() as conn:
        q = select(outbox.c.kind, outbox.c.fields).where(outbox.c.ticket_id == queued["id"])
        events = conn.execute(q.order_by(outbox.c.id)).all()
    assert [kind for kind, _ in events] == ["created", "attributesChanged"]
    for name in ("priority", "expected_resolution_date", "restoration_commitment"):
        assert name in events[1].fields


def test_a_start_is_done_once_even_when_the_worker_passes_again(
    storm: TestClient, db: Database, deferred: Settings, clock: FixedClock
) -> None:
    report = _create(storm)
    worker = Worker(db, deferred, clock=clock)
    worker.run_once()
    first = _get(storm, report["id"])

    worker.run_once()

    assert _get(storm, report["id"]) == first
    assert [a for _, a in _actions(db, report["id"])].count("trackingStarted") == 1


def test_a_report_cancelled_before_the_worker_came_is_never_started(
    storm: TestClient, db: Database, deferred: Settings, clock: FixedClock
) -> None:
    report = _create(storm, priority=None)
    r = storm.patch(
        f"{api('v4')}/troubleTicket/{report['id']}",
        json={"status": "cancelled", "statusChangeReason": "duplicate"},
        headers=MERGE,
    )
    assert r.status_code == 200, r.text

    Worker(db, deferred, clock=clock).run_once()

    after = _get(storm, report["id"])
    assert "priority" not in after and "restorationCommitment" not in after
    assert storm.get(TASKS.format(report["id"])).json() == []
    actions = [a for _, a in _actions(db, report["id"])]
    assert "timersStopped" in actions and "trackingStarted" not in actions  # End stopped the queued start


def test_the_worker_resolves_a_first_contact_report_and_offers_a_known_error(
    storm: TestClient, db: Database, deferred: Settings, clock: FixedClock
) -> None:
    known = storm.post(
        "/tmf-api/troubleflow/v1/knownError",
        json={
            "title": "Landline has no dial-tone after firmware upgrade",
            "symptom": "Telephony stays silent after the automatic firmware upgrade",
            "category": "access-fault",
            "workaround": "Restart the router twice with a 30 second pause.",
        },
    )
    assert known.status_code == 201, known.text
    wifi = _create(storm, priority=None, description="Customer forgot the wifi password")
    phone = _create(storm, priority=None, name="Phone line", description="No dial tone on the landline")

    Worker(db, deferred, clock=clock).run_once()

    resolved = _get(storm, wifi["id"])
    assert resolved["status"] == "resolved"
    assert resolved["statusChangeReason"].startswith("resolved at first contact")
    assert ("1.3.7.3.3", "trackingEnded") in _actions(db, wifi["id"])
    linked = _get(storm, phone["id"])
    assert linked["knownError"]["id"] == known.json()["id"]
    assert ("1.3.7.1.6", "knownErrorOffered") in _actions(db, phone["id"])
