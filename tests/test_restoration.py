"""Correct & Recover Customer Problem (1.3.7.6) through the public API with the fixed clock (Monday
2026-03-02 09:00 UTC): each restoration outcome, customer education, re-assessment by product order,
requests to other CRM processes, feasibility, solution validation before clearing and the review of a
major problem before it closes. The default policy, or a strict one (validation required, severity
Major is a major problem) where a rule needs it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow.api.app import create_app
from troubleflow.cli import main
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.policy_files import default_policy_dir
from troubleflow.processes.reports import report_history
from troubleflow.storage import outbox
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

from .conftest import BASE, api, finish_work_plan, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}
V1 = "/tmf-api/troubleflow/v1"


@pytest.fixture
def strict_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The default policy with `validate_before_clear` on, and P1, severity Major and major-outage masters
    counted as major problems."""
    doc = yaml.safe_load(default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8"))
    doc["restoration"]["validate_before_clear"] = True
    doc["restoration"]["major_problem"] = {
        "priorities": ["P1"],
        "severities": ["Major"],
        "outage_masters": True,
    }
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return replace(settings, policy_dir=str(tmp_path))


@pytest.fixture
def strict(db: Database, strict_settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(strict_settings, db=db, clock=clock)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def _report(client: TestClient, **overrides: Any) -> str:
    """An access-fault report (a work plan to finish before clearing), worked: inProgress."""
    body = ticket_body("v4", description="No internet since 08:10", **overrides)
    r = client.post(f"{api('v4')}/troubleTicket", json=body)
    assert r.status_code == 201, r.text
    rid = str(r.json()["id"])
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200
    return rid


def _patch(client: TestClient, rid: str, body: dict[str, Any]) -> Any:
    return client.patch(f"{api('v4')}/troubleTicket/{rid}", json=body, headers=MERGE)


def _get(client: TestClient, rid: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{rid}").json()  # type: ignore[no-any-return]


def _post(client: TestClient, rid: str, what: str, body: dict[str, Any]) -> Any:
    return client.post(f"{V1}/troubleTicket/{rid}/{what}", json=body)


def _act(client: TestClient, rid: str, outcome: str, **body: Any) -> dict[str, Any]:
    r = _post(client, rid, "restorationAction", {"outcome": outcome, "description": "port reset", **body})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _clear(client: TestClient, rid: str) -> Any:
    return _patch(client, rid, {"status": "resolved", "statusChangeReason": "service restored"})


def _trail(db: Database, rid: str) -> list[tuple[str, str]]:
    return [(h.process_id, h.action) for h in report_history(db, rid)]


def _events(db: Database) -> list[outbox.OutboxEvent]:
    with db.read() as conn:
        return outbox.undispatched(conn, 1000)


# --------------------------------------------------------------------------- outcomes (1.3.7.6.1, .2)


def test_restored_outcome_lets_the_report_be_cleared(client: TestClient, db: Database) -> None:
    rid = _report(client)
    action = _act(client, rid, "restored")
    assert (action["@type"], action["outcome"], action["process"]) == (
        "RestorationAction",
        "restored",
        "1.3.7.6.2",
    )
    assert client.get(action["href"].removeprefix(BASE)).json()["id"] == action["id"]
    assert _get(client, rid)["restorationOutcome"] == "restored"
    finish_work_plan(client, rid)
    assert _clear(client, rid).status_code == 200
    assert ("1.3.7.6.2", "restorationReported") in _trail(db, rid)


def test_workaround_clears_and_its_permanent_fix_stays_open_after_close(
    client: TestClient, db: Database
) -> None:
    rid = _report(client)
    action = _act(
        client, rid, "restoredByWorkaround", workaround="use the 2.4 GHz band until the firmware fix"
    )
    cr_id, ke_id = action["changeRequest"], action["knownError"]
    refs = {(e["role"], e["id"]) for e in _get(client, rid)["relatedEntity"]}
    assert ("changeRequest", cr_id) in refs
    known = client.get(f"{V1}/knownError/{ke_id}").json()
    assert (known["changeRequest"], known["permanentFixStatus"]) == (cr_id, "open")
    assert known["workaround"] == "use the 2.4 GHz band until the firmware fix"
    finish_work_plan(client, rid)
    assert _clear(client, rid).status_code == 200
    r = _patch(client, rid, {"status": "closed", "rootCause": "modem firmware bug"})
    assert r.status_code == 200, r.text
    cr = client.get(f"{V1}/changeRequest/{cr_id}").json()
    assert (cr["@type"], cr["state"], cr["knownError"]["id"]) == ("ChangeRequest", "open", ke_id)
    assert [c["id"] for c in client.get(f"{V1}/changeRequest", params={"state": "open"}).json()] == [cr_id]
    assert {"1.3.7.6.4", "1.3.7.6.6", "1.3.7.1.9"} <= {p for p, _ in _trail(db, rid)}


def test_workaround_links_a_known_error_given(client: TestClient) -> None:
    body = {"title": "Wi-Fi drops", "symptom": "wifi drops every hour", "workaround": "reboot"}
    ke_id = client.post(f"{V1}/knownError", json=body).json()["id"]
    rid = _report(client)
    action = _act(client, rid, "restoredByWorkaround", knownError={"id": ke_id})
    assert action["knownError"] == ke_id
    assert client.get(f"{V1}/knownError/{ke_id}").json()["changeRequest"] == action["changeRequest"]


def test_failed_restoration_goes_back_to_coordination(client: TestClient, db: Database) -> None:
    rid = _report(client)
    assert (
        _patch(client, rid, {"status": "held", "statusChangeReason": "waiting for a field visit"}).status_code
        == 200
    )
    finish_work_plan(client, rid)
    _act(client, rid, "restorationFailed", description="port reset did not bring the line up")
    report = _get(client, rid)
    assert (report["status"], report["restorationOutcome"]) == ("inProgress", "restorationFailed")
    tasks = client.get(f"{V1}/troubleTicket/{rid}/task").json()
    assert (tasks[-1]["name"], tasks[-1]["state"], tasks[-1]["mandatory"]) == (
        "Re-diagnose and isolate after a failed restoration",
        "ready",
        True,
    )
    assert _clear(client, rid).status_code == 409  # the re-diagnosis is open
    trail = _trail(db, rid)
    assert trail[-3:] == [
        ("1.3.7.3.1", "statusChanged"),
        ("1.3.7.3.1", "recoordinated"),
        ("1.3.7.3.1", "taskPlanned"),
    ]
    assert ("1.3.7.6.2", "restorationReported") in trail


def test_customer_education_notes_the_guidance_and_root_cause_usage(client: TestClient, db: Database) -> None:
    rid = _report(client)
    guidance = "Switch the router's Wi-Fi on with the button on its side"
    action = _act(client, rid, "restored", resolutionType="customerEducation", guidance=guidance)
    assert (action["resolutionType"], action["guidance"]) == ("customerEducation", guidance)
    report = _get(client, rid)
    assert report["rootCause"] == "usage"
    assert any(guidance in n["text"] for n in report["note"])
    finish_work_plan(client, rid)
    assert _clear(client, rid).status_code == 200
    assert ("1.3.7.6.1", "customerEducated") in _trail(db, rid)


# --------------------------------------------------------------------------- re-assessment and CRM requests


def test_upgrade_order_keeps_the_report_waiting_until_its_completion(
    client: TestClient, db: Database
) -> None:
    rid = _report(client)
    finish_work_plan(client, rid)
    r = _post(client, rid, "productOrderRequest", {"action": "upgrade", "description": "move to fibre 500"})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["state"], order["product"]["id"], order["targetProcess"]) == ("open", "prod-9", "1.3.3")
    assert _get(client, rid)["status"] == "pending"
    assert any("productOrderRequested" in (e.reason or "") for e in _events(db))
    refused = _clear(client, rid)
    assert refused.status_code == 409 and f"product order request {order['id']}" in refused.json()["message"]
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200  # still waits
    assert _clear(client, rid).status_code == 409
    assert _patch(client, rid, {"status": "pending", "statusChangeReason": "order"}).status_code == 200
    done = client.post(f"{V1}/productOrderRequest/{order['id']}/completion", json={"state": "completed"})
    assert done.status_code == 200 and done.json()["state"] == "completed"
    assert _get(client, rid)["status"] == "inProgress"
    assert _clear(client, rid).status_code == 200
    assert ("1.3.7.6.1", "productOrderRequestUpdated") in _trail(db, rid)


def test_process_request_is_recorded_and_announced(client: TestClient, db: Database) -> None:
    rid = _report(client)
    body = {"targetProcess": "1.3.5.4", "description": "credit two days of service"}
    r = _post(client, rid, "processRequest", body)
    assert r.status_code == 201, r.text
    assert (r.json()["@type"], r.json()["targetProcess"]) == ("ProcessRequest", "1.3.5.4")
    assert any("processRequested" in (e.reason or "") and "1.3.5.4" in (e.reason or "") for e in _events(db))
    assert [i["id"] for i in client.get(f"{V1}/troubleTicket/{rid}/processRequest").json()] == [
        r.json()["id"]
    ]
    bad = _post(client, rid, "processRequest", {"targetProcess": "9.9", "description": "x"})
    assert bad.status_code == 400 and bad.json()["message"].startswith("'targetProcess'")


# --------------------------------------------------------------------------- feasibility, validation, review


def test_infeasible_restoration_goes_back_to_coordination(client: TestClient, db: Database) -> None:
    rid = _report(client)
    r = _post(
        client, rid, "feasibilityDecision", {"feasible": False, "reason": "no spare line card in stock"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["feasible"], r.json()["process"]) == (False, "1.3.7.6.3")
    tasks = client.get(f"{V1}/troubleTicket/{rid}/task").json()
    assert tasks[-1]["name"] == "Re-plan the restoration: not feasible as planned"
    assert _trail(db, rid)[-3:] == [
        ("1.3.7.6.3", "feasibilityDecided"),
        ("1.3.7.3.1", "recoordinated"),
        ("1.3.7.3.1", "taskPlanned"),
    ]


def test_clearing_waits_for_a_validated_restoration(strict: TestClient, db: Database) -> None:
    rid = _report(strict)
    finish_work_plan(strict, rid)
    refused = _clear(strict, rid)
    assert refused.status_code == 409 and "solutionValidation" in refused.json()["message"]
    _act(strict, rid, "restored")
    assert _clear(strict, rid).status_code == 409
    failed = _post(strict, rid, "solutionValidation", {"passed": False, "description": "still no sync"})
    assert failed.status_code == 201
    assert _clear(strict, rid).status_code == 409
    passed = _post(
        strict,
        rid,
        "solutionValidation",
        {"passed": True, "method": "customerConfirmation", "description": "ok"},
    )
    assert (passed.status_code, passed.json()["process"]) == (201, "1.3.7.6.5")
    assert _clear(strict, rid).status_code == 200


def test_validation_needs_a_successful_outcome(client: TestClient) -> None:
    rid = _report(client)
    _act(client, rid, "restorationFailed")
    r = _post(client, rid, "solutionValidation", {"passed": True, "description": "looks fine"})
    assert r.status_code == 409


def test_major_problem_closes_only_after_its_review(strict: TestClient, db: Database) -> None:
    client = strict
    rid = _report(client, impact="high", urgency="high", priority=None, severity="Minor")  # major as a P1
    assert _get(client, rid)["priority"] == "P1"  # impact high x urgency high (1.3.7.3.5)
    _act(client, rid, "restored")
    assert _post(client, rid, "solutionValidation", {"passed": True, "description": "ok"}).status_code == 201
    finish_work_plan(client, rid)
    assert _clear(client, rid).status_code == 200
    refused = _patch(client, rid, {"status": "closed", "rootCause": "card failure"})
    assert refused.status_code == 409 and "majorProblemReview" in refused.json()["message"]
    assert _get(client, rid)["status"] == "resolved"
    review = {"description": "card failed after a power cut", "lessonsLearned": "check UPS at cabinets"}
    r = _post(client, rid, "majorProblemReview", review)
    assert (r.status_code, r.json()["process"], r.json()["major"]) == (201, "1.3.7.6.7", True)
    assert _patch(client, rid, {"status": "closed", "rootCause": "card failure"}).status_code == 200
    assert ("1.3.7.6.7", "majorProblemReviewed") in _trail(db, rid)


def test_auto_close_waits_for_the_major_problem_review(
    strict: TestClient, strict_settings: Settings, db: Database, clock: FixedClock
) -> None:
    rid = _report(strict, severity="Major")
    _act(strict, rid, "restored")
    assert _post(strict, rid, "solutionValidation", {"passed": True, "description": "ok"}).status_code == 201
    finish_work_plan(strict, rid)
    cleared = _patch(strict, rid, {"status": "resolved", "statusChangeReason": "ok", "rootCause": "card"})
    assert cleared.status_code == 200, cleared.text
    clock.advance(timedelta(days=6))
    Worker(db, strict_settings, clock=clock).run_once()
    assert _get(strict, rid)["status"] == "resolved"
    assert _trail(db, rid)[-1] == ("1.3.7.4", "autoCloseBlocked")


def test_no_review_is_needed_by_the_default_policy(client: TestClient) -> None:
    rid = _report(client, impact="high", urgency="high", priority=None)
    _act(client, rid, "restored")
    finish_work_plan(client, rid)
    assert _clear(client, rid).status_code == 200
    assert _patch(client, rid, {"status": "closed", "rootCause": "card"}).status_code == 200


def test_a_minor_problem_closes_without_review(strict: TestClient) -> None:
    rid = _report(strict, severity="Minor")
    _act(strict, rid, "restored")
    assert _post(strict, rid, "solutionValidation", {"passed": True, "description": "ok"}).status_code == 201
    finish_work_plan(strict, rid)
    assert _clear(strict, rid).status_code == 200
    assert _patch(strict, rid, {"status": "closed", "rootCause": "card"}).status_code == 200


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "fixed", "description": "x"},
        {"outcome": ["restored", "restorationFailed"], "description": "x"},
        {"outcome": "restorationFailed"},
        {"outcome": "restorationFailed", "description": "  "},
        {"outcome": "restored", "description": "x", "resolutionType": "customerEducation"},
        {"outcome": "restored", "description": "x", "workaround": "reboot"},
        {"outcome": "restored", "description": "x", "colour": "red"},
    ],
    ids=[
        "unknown",
        "two-outcomes",
        "no-reason",
        "blank-reason",
        "education-without-guidance",
        "stray-workaround",
        "unknown-attribute",
    ],
)
def test_bad_restoration_action_is_refused_and_changes_nothing(
    client: TestClient, db: Database, body: dict[str, Any]
) -> None:
    rid = _report(client)
    before, trail = _get(client, rid), _trail(db, rid)
    r = _post(client, rid, "restorationAction", body)
    assert r.status_code == 400, r.text
    assert set(r.json()) >= {"code", "reason", "message", "status"}
    assert _get(client, rid) == before and _trail(db, rid) == trail
    assert client.get(f"{V1}/troubleTicket/{rid}/restorationAction").json() == []


def test_restoration_on_a_closed_report_is_refused(client: TestClient) -> None:
    rid = _report(client)
    assert _patch(client, rid, {"status": "cancelled", "statusChangeReason": "duplicate"}).status_code == 200
    assert (
        _post(client, rid, "restorationAction", {"outcome": "restored", "description": "x"}).status_code
        == 409
    )
    assert (
        _post(client, "nope", "restorationAction", {"outcome": "restored", "description": "x"}).status_code
        == 404
    )


def test_change_request_moves_along_its_lifecycle_with_if_match(client: TestClient) -> None:
    rid = _report(client)
    r = client.post(
        f"{V1}/changeRequest", json={"description": "replace the DSLAM", "troubleTicket": {"id": rid}}
    )
    assert r.status_code == 201, r.text
    cr = r.json()
    url = f"{V1}/changeRequest/{cr['id']}"
    stale = client.patch(url, json={"state": "inProgress"}, headers={**MERGE, "If-Match": '"7"'})
    assert stale.status_code == 412
    assert (
        client.patch(url, json={"state": "inProgress"}, headers={**MERGE, "If-Match": '"1"'}).status_code
        == 200
    )
    assert client.patch(url, json={"state": "cancelled"}, headers=MERGE).status_code == 400  # needs a reason
    assert client.patch(url, json={"state": "completed"}, headers=MERGE).json()["state"] == "completed"
    assert client.patch(url, json={"state": "open"}, headers=MERGE).status_code in (400, 409)
    assert client.get(f"{V1}/changeRequest/999").status_code == 404


# --------------------------------------------------------------------------- command line


def test_the_cli_records_outcomes_and_moves_requests(client: TestClient, database_url: str) -> None:
    rid = _report(client)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--database-url", database_url, "restoration", *args])
        return result.exit_code, result.output

    code, out = run("record", rid, "--outcome", "restoredByWorkaround", "--description", "band switched")
    assert code == 0 and "restoredByWorkaround" in out and "changeRequest 1 open" in out
    code, out = run("record", rid, "--outcome", "fixed", "--description", "x")
    assert code != 0 and "not a restoration outcome" in out
    code, out = run("order", rid, "--action", "renew", "--description", "contract ended")
    assert code == 0 and "productOrderRequest" in out and _get(client, rid)["status"] == "pending"
    assert run("move", "productOrderRequest", "2", "completed")[0] == 0
    assert _get(client, rid)["status"] == "inProgress"
    code, out = run("list", rid)
    assert code == 0 and "1.3.7.6.2" in out and "productOrderRequest 2 completed" in out
    code, out = run("items", "changeRequest", "--state", "open")
    assert code == 0 and out.strip().endswith("1 of 1")
