"""Coordinate Customer Problem (1.3.7.3.1): the work plan of a report, driven through the public API, the
worker and the CLI with the fixed clock (Monday 2026-03-02 09:00 UTC) and the default policy."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow.cli import main
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.reports import report_history
from troubleflow.storage import outbox
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

from .conftest import api, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}
TASKS = "/tmf-api/troubleflow/v1/troubleTicket/{}/task"
HOUR = timedelta(hours=1)


def _access_fault(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """access-fault (rule no-connection), priority High -> P2 (progress every 2 h), SLA bronze."""
    body = ticket_body("v4", description="No internet since 08:10", **overrides)
    r = client.post(api("v4") + "/troubleTicket", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["category"] == "access-fault"
    return r.json()  # type: ignore[no-any-return]


def _tasks(client: TestClient, rid: str) -> list[dict[str, Any]]:
    r = client.get(TASKS.format(rid))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _task(client: TestClient, rid: str, task_id: str) -> dict[str, Any]:
    return client.get(f"{TASKS.format(rid)}/{task_id}").json()  # type: ignore[no-any-return]


def _work(client: TestClient, rid: str, task_id: str, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(f"{TASKS.format(rid)}/{task_id}", json=body, headers={**MERGE, **headers})


def _report(client: TestClient, rid: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{rid}").json()  # type: ignore[no-any-return]


def _clear(client: TestClient, rid: str) -> Any:
    body = {"status": "resolved", "statusChangeReason": "line card replaced"}
    return client.patch(f"{api('v4')}/troubleTicket/{rid}", json=body, headers=MERGE)


def _finish(client: TestClient, rid: str, *task_ids: str) -> None:
    for task_id in task_ids:
        r = _work(client, rid, task_id, {"state": "done"})
        assert r.status_code == 200, r.text


def test_a_new_report_gets_the_plan_of_its_category_with_owners_dependencies_and_due_times(
    client: TestClient, db: Database
) -> None:
    rid = _access_fault(client)["id"]

    plan = _tasks(client, rid)

    assert [(t["id"], t["template"], t["state"], t["dependsOn"], t["mandatory"]) for t in plan] == [
        ("1", "line-test", "ready", [], True),
        ("2", "isolate", "waiting", ["1"], True),
        ("3", "field-repair", "waiting", ["2"], False),
        ("4", "verify", "waiting", ["2"], True),
    ]
    assert [t["workgroup"] for t in plan] == [
        "service-desk",
        "access-network",
        "field-ops-north",
        "service-desk",
    ]
    # Due = predecessors' due + effort in the owner's working time (all inside working hours here).
    assert [t["dueDate"] for t in plan] == [
        "2026-03-02T09:15:00.000Z",
        "2026-03-02T11:15:00.000Z",
        "2026-03-02T15:15:00.000Z",
        "2026-03-02T11:30:00.000Z",
    ]
    assert plan[0]["@type"] == "WorkTask" and plan[0]["href"].endswith(f"/troubleTicket/{rid}/task/1")
    planned = [h for h in report_history(db, rid) if h.action == "taskPlanned"]
    assert [h.process_id for h in planned] == ["1.3.7.3.1"] * 4
    assert planned[0].reason is not None and "skill remote-diagnosis" in planned[0].reason


def test_a_task_cannot_start_before_its_predecessors_are_done(client: TestClient) -> None:
    rid = _access_fault(client)["id"]
    before = _task(client, rid, "2")

    r = _work(client, rid, "2", {"state": "inProgress"})

    assert r.status_code == 409
    assert r.json()["@type"] == "Error" and "1 'Remote line test' (ready)" in r.json()["message"]
    assert _task(client, rid, "2") == before
    assert _report(client, rid)["status"] == "acknowledged"


def test_finishing_tasks_in_sequence_readies_successors_and_completes_the_plan(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rid = _access_fault(client)["id"]

    started = _work(client, rid, "1", {"state": "inProgress", "assignee": "agent-7"})
    assert started.status_code == 200 and started.json()["startDate"] == "2026-03-02T09:00:00.000Z"
    report = _report(client, rid)
    assert (report["status"], report["statusChangeReason"]) == (
        "inProgress",
        "task 1 'Remote line test' started",
    )
    clock.advance(HOUR)
    _finish(client, rid, "1")
    assert [t["state"] for t in _tasks(client, rid)] == ["done", "ready", "waiting", "waiting"]
    _finish(client, rid, "2")
    assert [t["state"] for t in _tasks(client, rid)] == ["done", "done", "ready", "ready"]
    r = _work(client, rid, "3", {"state": "cancelled", "stateChangeReason": "fixed remotely"})
    assert r.status_code == 200
    _finish(client, rid, "4")

    actions = [h.action for h in report_history(db, rid) if h.action.startswith(("task", "work"))]
    assert actions[4:] == [
        "taskStarted",
        "taskDone",
        "taskReady",
        "taskDone",
        "taskReady",
        "taskReady",
        "taskCancelled",
        "taskDone",
        "workPlanComplete",
    ]
    cancelled = next(h for h in report_history(db, rid) if h.action == "taskCancelled")
    assert (cancelled.reason, cancelled.old_status) == ("task 3 'Repair on site': fixed remotely", None)


def test_assignment_takes_the_skill_the_region_and_the_load(client: TestClient) -> None:
    first = _access_fault(client)["id"]  # region unknown: both field groups, equal load -> policy order
    second = _access_fault(client)["id"]  # field-ops-north now has more open tasks
    south = _access_fault(client, region="de-south")["id"]  # only field-ops-south serves de-south
    by_entity = _access_fault(
        client, relatedEntity=[{"id": "de-north", "role": "region", "@referredType": "GeographicSite"}]
    )["id"]

    assert _task(client, south, "3")["workgroup"] == "field-ops-south"
    assert _task(client, first, "3")["workgroup"] == "field-ops-north"
    assert [_task(client, r, "3")["workgroup"] for r in (first, second)] == [
        "field-ops-north",
        "field-ops-south",
    ]
    assert _task(client, by_entity, "3")["workgroup"] == "field-ops-north"


def test_clearing_with_mandatory_tasks_open_is_refused_and_changes_nothing(
    client: TestClient, db: Database
) -> None:
    rid = _access_fault(client)["id"]
    _work(client, rid, "1", {"state": "inProgress"})
    before, trail = _report(client, rid), report_history(db, rid)

    r = _clear(client, rid)

    assert r.status_code == 409
    message = r.json()["message"]
    assert "mandatory tasks are open" in message and "2 'Isolate in the access network'" in message
    assert "field-repair" not in message and "Repair on site" not in message  # optional
    assert _report(client, rid) == before and report_history(db, rid) == trail

    _finish(client, rid, "1", "2", "4")  # the optional repair on site stays open
    assert _clear(client, rid).status_code == 200
    leftover = _task(client, rid, "3")
    assert (leftover["state"], leftover["stateChangeReason"]) == (
        "cancelled",
        "report resolved: line card replaced",
    )


def test_a_task_update_rolls_its_note_and_eta_into_the_report_and_emits_an_event(
    client: TestClient, db: Database
) -> None:
    report = _access_fault(client)
    rid, commitment = report["id"], report["restorationCommitment"]
    with db.begin() as conn:
        outbox.undispatched(conn, 100)  # (the create event is already there)
    eta = "2026-03-02T12:00:00.000Z"

    r = _work(client, rid, "1", {"note": [{"text": "line test shows a cut"}], "expectedCompletionDate": eta})

    assert r.status_code == 200 and r.json()["expectedCompletionDate"] == eta
    after = _report(client, rid)
    assert after["note"][-1]["text"] == "[task 1 Remote line test] line test shows a cut"
    # The critical path: line test until 12:00, isolate 2 h, verify 15 min -> 14:15.
    assert after["expectedResolutionDate"] == "2026-03-02T14:15:00.000Z"
    assert after["restorationCommitment"] == commitment  # the SLA commitment does not move
    assert _task(client, rid, "4")["expectedCompletionDate"] == "2026-03-02T14:15:00.000Z"
    with db.read() as conn:
        events = outbox.undispatched(conn, 100)
    assert events[-1].kind == "attributesChanged"
    assert set(events[-1].fields or ()) == {"note", "expected_resolution_date"}


def test_progress_updates_fire_at_the_priority_interval_once_per_interval_and_stop_after_clearing(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    rid = _access_fault(client)["id"]  # P2: every 2 h

    clock.advance(HOUR)
    assert worker.run_once().fired == 0
    clock.advance(HOUR)  # 11:00
    assert worker.run_once().fired == 1
    assert worker.run_once().fired == 0  # once
    note = _report(client, rid)["note"][-1]
    assert note["author"] == "troubleflow"
    assert note["text"].startswith("Progress update: 0 of 4 steps done")
    clock.advance(6 * HOUR)  # the worker was down for three intervals: one update, not three
    assert worker.run_once().fired == 1
    assert worker.run_once().fired == 0
    updates = [h for h in report_history(db, rid) if h.action == "progressUpdate"]
    assert [(h.process_id, h.at.hour) for h in updates] == [("1.3.7.2.4", 11), ("1.3.7.2.4", 17)]

    _finish(client, rid, "1", "2", "4")
    assert _clear(client, rid).status_code == 200
    clock.advance(10 * HOUR)
    assert worker.run_once().fired == 0  # End stopped the progress updates


def test_a_note_the_customer_sees_moves_the_next_progress_update_one_interval_on(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    rid = _access_fault(client)["id"]  # P2: every 2 h, first due 11:00
    clock.advance(HOUR)  # 10:00: the engineer tells the customer something
    assert _work(client, rid, "1", {"note": [{"text": "technician booked"}]}).status_code == 200

    clock.advance(HOUR)  # 11:00: the customer heard from us an hour ago
    assert worker.run_once().fired == 0
    clock.advance(HOUR)  # 12:00: two hours of silence
    assert worker.run_once().fired == 1


def test_cancelling_the_report_cascades_to_its_open_tasks(client: TestClient, db: Database) -> None:
    rid = _access_fault(client)["id"]
    _finish(client, rid, "1")

    r = client.patch(
        f"{api('v4')}/troubleTicket/{rid}",
        json={"status": "cancelled", "statusChangeReason": "duplicate of an open report"},
        headers=MERGE,
    )

    assert r.status_code == 200
    assert [(t["state"], t.get("stateChangeReason")) for t in _tasks(client, rid)] == [
        ("done", None),
        *[("cancelled", "report cancelled: duplicate of an open report")] * 3,
    ]
    cancelled = [h for h in report_history(db, rid) if h.action == "taskCancelled"]
    assert [h.process_id for h in cancelled] == ["1.3.7.3.2"] * 3
    assert _work(client, rid, "2", {"state": "inProgress"}).status_code == 409


def test_a_stale_if_match_on_a_task_is_refused_and_changes_nothing(client: TestClient) -> None:
    rid = _access_fault(client)["id"]
    first = client.get(f"{TASKS.format(rid)}/1")
    etag = first.headers["ETag"]
    assert _work(client, rid, "1", {"assignee": "agent-7"}, **{"If-Match": etag}).status_code == 200

    r = _work(client, rid, "1", {"assignee": "agent-9"}, **{"If-Match": etag})

    assert r.status_code == 412 and r.json()["code"] == "preconditionFailed"
    assert _task(client, rid, "1")["assignee"] == "agent-7"


def test_a_mandatory_task_is_cancelled_only_with_its_report(client: TestClient) -> None:
    rid = _access_fault(client)["id"]

    r = _work(client, rid, "1", {"state": "cancelled", "stateChangeReason": "not needed"})

    assert r.status_code == 409 and "mandatory" in r.json()["message"]


def test_server_owned_task_attributes_and_bad_values_are_refused(client: TestClient) -> None:
    rid = _access_fault(client)["id"]

    for body in (
        {"expectedCompletionDate": "9999-12-31T23:59:59Z"},
        {"assignee": "x" * 201},
        {"dueDate": "2026-03-03T00:00:00Z"},
        {"state": "finished"},
        {"expectedCompletionDate": "soon"},
    ):
        r = _work(client, rid, "1", body)
        assert r.status_code == 400 and r.json()["@type"] == "Error", body
    for created in ({"name": "x" * 201}, {"name": "x", "expectedDuration": "P9999D"}, {"name": " "}):
        r = client.post(TASKS.format(rid), json=created)
        assert r.status_code == 400 and r.json()["@type"] == "Error", created
    assert client.get(f"{TASKS.format(rid)}/99").status_code == 404
    assert client.get(TASKS.format("no-such-report")).status_code == 404


def test_an_ad_hoc_task_waits_for_its_predecessors_and_guards_clearing(client: TestClient) -> None:
    rid = _access_fault(client)["id"]
    body = {
        "name": "Check the street cabinet",
        "skill": "field-repair",
        "dependsOn": ["2"],
        "expectedDuration": "PT2H",
    }

    r = client.post(TASKS.format(rid), json=body)

    assert r.status_code == 201, r.text
    added = r.json()
    assert (added["id"], added["state"], added["mandatory"], added["dependsOn"]) == (
        "5",
        "waiting",
        True,
        ["2"],
    )
    assert r.headers["Location"] == added["href"]
    assert added["workgroup"] == "field-ops-south"  # field-ops-north already holds task 3
    _finish(client, rid, "1", "2", "4")
    assert _clear(client, rid).status_code == 409
    _finish(client, rid, "5")
    assert _clear(client, rid).status_code == 200
    bad = client.post(TASKS.format(rid), json={"name": "x", "dependsOn": ["9"]})
    assert bad.status_code == 409  # the report is cleared: its plan is closed


def test_the_cli_lists_starts_updates_and_finishes_tasks(client: TestClient, database_url: str) -> None:
    rid = _access_fault(client)["id"]

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--database-url", database_url, "task", *args])
        return result.exit_code, result.output

    code, out = run("list", rid)
    assert code == 0 and "line-test" not in out and "Remote line test" in out and "waiting" in out
    code, out = run("start", rid, "2")
    assert code == 1 and "predecessors" in out
    assert run("assign", rid, "1", "agent-7")[0] == 0
    assert run("start", rid, "1")[0] == 0
    code, out = run("update", rid, "1", "--note", "cut found", "--eta", "2026-03-02T12:00:00Z")
    assert code == 0 and "eta 2026-03-02T12:00" in out
    code, out = run("done", rid, "1")
    assert code == 0 and "done" in out
    assert _report(client, rid)["note"][-1]["text"] == "[task 1 Remote line test] cut found"
    assert json.loads(json.dumps(_task(client, rid, "2")))["state"] == "ready"
