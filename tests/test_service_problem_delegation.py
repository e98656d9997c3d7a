"""Customer problem reports and the service problems that explain them (Create Service Trouble Report
1.4.6.1 from Track & Manage 1.3.7.3; hand-offs H4/H5): raising and linking, both-way links, the service
layer's restoration estimate reaching the report and its jeopardy, clearing once every problem is
restored, and the cancellation cascade by policy. Through the public APIs, fixed clock, both stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from troubleflow.api.app import create_app
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.reports import report_history
from troubleflow.processes.service_problems import problem_history
from troubleflow.storage.db import Database

from .conftest import BASE, api, ticket_body

SP = "/tmf-api/serviceProblemManagement/v4/serviceProblem"
LINKS = "/tmf-api/troubleflow/v1/troubleTicket/{}/serviceProblem"
SERVICE_FAULT = "IPTV service platform fault since 08:00, no channels"


def report(client: TestClient, description: str = SERVICE_FAULT, **overrides: Any) -> dict[str, Any]:
    r = client.post(f"{api('v4')}/troubleTicket", json=ticket_body(description=description, **overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


def get_report(client: TestClient, rid: str) -> dict[str, Any]:
    r = client.get(f"{api('v4')}/troubleTicket/{rid}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def problem(client: TestClient, pid: str) -> dict[str, Any]:
    r = client.get(f"{SP}/{pid}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def raise_for(client: TestClient, rid: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(LINKS.format(rid), json=body or {})


def move(client: TestClient, pid: str, *statuses: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for status in statuses:
        r = client.patch(f"{SP}/{pid}", json={"status": status})
        assert r.status_code == 200, r.text
        body = r.json()
    return body


def problem_ids(ticket: dict[str, Any]) -> list[str]:
    return [e["id"] for e in ticket.get("relatedEntity", []) if e.get("role") == "serviceProblem"]


def actions(db: Database, rid: str) -> list[str]:
    return [e.action for e in report_history(db, rid)]


def test_a_report_whose_diagnosis_is_in_the_service_layer_raises_a_service_problem_linked_both_ways(
    client: TestClient, db: Database
) -> None:
    r = report(client)
    assert r["category"] == "service-fault"
    [pid] = problem_ids(r)
    entry = next(e for e in r["relatedEntity"] if e["id"] == pid)
    assert entry == {
        "id": pid,
        "href": f"/tmf-api/serviceProblemManagement/v4/serviceProblem/{pid}",
        "role": "serviceProblem",
        "@referredType": "ServiceProblem",
    }
    p = problem(client, pid)
    assert p["troubleTicket"] == [
        {
            "id": r["id"],
            "href": f"{BASE}{api('v4')}/troubleTicket/{r['id']}",
            "@referredType": "TroubleTicket",
        }
    ]
    assert p["firstAlert"]["id"] == r["id"] and p["status"] == "acknowledged"
    assert p["priority"] == 2 and p["category"] == "service-fault"  # P2 of the report, as TMF656's integer
    assert "serviceProblemRaised" in actions(db, r["id"])
    assert [(e.process_id, e.action) for e in problem_history(db, pid)] == [("1.4.6.1", "created")]
    v5 = client.get(f"{api('v5')}/troubleTicket/{r['id']}").json()
    assert {
        "@type": "RelatedEntity",
        "role": "serviceProblem",
        "entity": {
            "@type": "EntityRef",
            "id": pid,
            "href": f"/tmf-api/serviceProblemManagement/v4/serviceProblem/{pid}",
            "@referredType": "ServiceProblem",
        },
    } in v5["relatedEntity"]


def test_a_report_clears_only_when_both_of_its_service_problems_are_resolved(
    client: TestClient, db: Database
) -> None:
    r = report(client)
    [first] = problem_ids(r)
    created = raise_for(client, r["id"], {"name": "Middleware cluster", "priority": 1})
    assert created.status_code == 201, created.text
    second = created.json()["id"]
    assert problem_ids(get_report(client, r["id"])) == [first, second]

    move(client, first, "inProgress", "resolved")
    assert get_report(client, r["id"])["status"] == "acknowledged"  # the second still holds it open

    move(client, second, "inProgress", "resolved")
    cleared = get_report(client, r["id"])
    assert cleared["status"] == "resolved"
    assert cleared["statusChangeReason"] == (
        f"cleared: service problems resolved: {first} (No broadband), {second} (Middleware cluster)"
    )
    trail = report_history(db, r["id"])
    assert [(e.process_id, e.action) for e in trail if e.action == "serviceProblemsResolved"] == [
        ("1.3.7.3.1", "serviceProblemsResolved")
    ]
    assert [e.new_status for e in trail if e.action == "statusChanged"] == ["inProgress", "resolved"]


def test_a_resolved_problem_leaves_a_report_with_an_open_mandatory_task_open_and_says_why(
    client: TestClient, db: Database
) -> None:
    r = report(client, "Modem shows red DSL light")  # cpe-fault: a mandatory remote reset first
    pid = raise_for(client, r["id"]).json()["id"]
    move(client, pid, "inProgress", "resolved")
    assert get_report(client, r["id"])["status"] == "acknowledged"
    assert "clearingBlocked" in actions(db, r["id"])


def test_the_service_layer_estimate_becomes_the_reports_expected_resolution_and_a_late_one_escalates_once(
    client: TestClient, db: Database
) -> None:
    r = report(client)
    [first] = problem_ids(r)
    second = raise_for(client, r["id"]).json()["id"]
    commitment = datetime.fromisoformat(r["restorationCommitment"])
    early = commitment - timedelta(hours=1)

    p = client.patch(f"{SP}/{first}", json={"expectedResolutionDate": early.isoformat()})
    assert p.status_code == 200, p.text
    on_time = get_report(client, r["id"])
    assert datetime.fromisoformat(on_time["expectedResolutionDate"]) == early
    assert "forecastBreach" not in on_time and on_time["escalationLevel"] == 0

    late = commitment + timedelta(hours=2)
    client.patch(f"{SP}/{second}", json={"expectedResolutionDate": late.isoformat()})
    breached = get_report(client, r["id"])
    assert datetime.fromisoformat(breached["expectedResolutionDate"]) == late  # the later of the two
    assert breached["forecastBreach"]["source"] == f"service problem {second}"
    assert breached["escalationLevel"] == 3  # P2's step at 100 %

    client.patch(f"{SP}/{second}", json={"expectedResolutionDate": (late + timedelta(hours=1)).isoformat()})
    trail = actions(db, r["id"])
    assert trail.count("forecastBreach") == 1 and trail.count("escalated") == 1
    assert "restorationEstimated" in trail
    estimated = [e for e in report_history(db, r["id"]) if e.action == "restorationEstimated"]
    assert {e.process_id for e in estimated} == {"1.4.6.1.3"}


def test_one_service_problem_explains_three_reports_and_cancelling_one_only_delinks_it(
    client: TestClient, db: Database
) -> None:
    first, second, third = (report(client, "Modem shows red DSL light") for _ in range(3))
    pid = raise_for(client, first["id"]).json()["id"]
    for r in (second, third):
        linked = raise_for(client, r["id"], {"id": pid})
        assert linked.status_code == 200, linked.text
    assert [t["id"] for t in problem(client, pid)["troubleTicket"]] == [
        first["id"],
        second["id"],
        third["id"],
    ]

    cancel = {"status": "cancelled", "statusChangeReason": "duplicate"}
    r = client.patch(f"{api('v4')}/troubleTicket/{first['id']}", json=cancel)
    assert r.status_code == 200, r.text
    p = problem(client, pid)
    assert p["status"] == "acknowledged"  # the other two still need it
    assert [t["id"] for t in p["troubleTicket"]] == [second["id"], third["id"]]
    assert "serviceProblemDelinked" in actions(db, first["id"])
    cancelled_trail = [e for e in report_history(db, first["id"]) if e.action == "serviceProblemDelinked"]
    assert cancelled_trail[0].process_id == "1.3.7.3.2"


def test_with_policy_cancel_a_problem_only_the_cancelled_report_raised_is_cancelled(
    client: TestClient, db: Database
) -> None:
    r = report(client)
    [pid] = problem_ids(r)
    response = client.patch(
        f"{api('v4')}/troubleTicket/{r['id']}",
        json={"status": "cancelled", "statusChangeReason": "false report"},
    )
    assert response.status_code == 200, response.text
    p = problem(client, pid)
    assert p["status"] == "cancelled"
    assert p["statusChangeReason"] == f"customer problem report {r['id']} cancelled: false report"
    assert "serviceProblemCancelled" in actions(db, r["id"])


@pytest.fixture
def delink_client(db: Database, settings: Settings, clock: FixedClock, tmp_path: Path) -> Any:
    """The app with the default policy changed to `delegation.on_cancel: delink`."""
    from troubleflow.policy_files import default_policy_dir

    text = (default_policy_dir() / "default.yaml").read_text()
    (tmp_path / "default.yaml").write_text(text.replace("on_cancel: cancel", "on_cancel: delink"))
    app: FastAPI = create_app(replace(settings, policy_dir=str(tmp_path)), db=db, clock=clock)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def test_with_policy_delink_a_problem_the_cancelled_report_raised_stays_open(
    delink_client: TestClient,
) -> None:
    r = report(delink_client)
    [pid] = problem_ids(r)
    delink_client.patch(
        f"{api('v4')}/troubleTicket/{r['id']}",
        json={"status": "cancelled", "statusChangeReason": "false report"},
    )
    p = problem(delink_client, pid)
    assert p["status"] == "acknowledged" and "troubleTicket" not in p


def test_a_problem_patched_to_name_a_report_links_it_and_removing_it_unlinks_it(client: TestClient) -> None:
    r = report(client, "Modem shows red DSL light")
    pid = raise_for(client, report(client, "Modem shows red DSL light")["id"]).json()["id"]
    current = problem(client, pid)["troubleTicket"]
    added = client.patch(f"{SP}/{pid}", json={"troubleTicket": [*current, {"id": r["id"]}]})
    assert added.status_code == 200, added.text
    assert problem_ids(get_report(client, r["id"])) == [pid]
    client.patch(f"{SP}/{pid}", json={"troubleTicket": current})
    assert problem_ids(get_report(client, r["id"])) == []


def test_raising_for_a_bad_report_or_problem_is_refused_and_changes_nothing(client: TestClient) -> None:
    r = report(client, "Modem shows red DSL light")
    before = get_report(client, r["id"])
    unknown_report = raise_for(client, "nope")
    assert unknown_report.status_code == 404 and unknown_report.json()["code"] == "notFound"
    unknown_problem = raise_for(client, r["id"], {"id": "nope"})
    assert unknown_problem.status_code == 404
    bad_priority = raise_for(client, r["id"], {"priority": "high"})
    assert bad_priority.status_code == 400 and "priority" in bad_priority.json()["message"]
    names_unknown = client.post(
        SP,
        json={
            "category": "x",
            "priority": 3,
            "description": "d",
            "reason": "r",
            "originatorParty": {"id": "noc", "@referredType": "Organization"},
            "troubleTicket": [{"id": "nope"}],
        },
    )
    assert names_unknown.status_code == 400
    assert client.get(SP).json() == []
    assert get_report(client, r["id"]) == before

    client.patch(f"{api('v4')}/troubleTicket/{r['id']}", json={"status": "rejected"})
    closed = raise_for(client, r["id"])
    assert closed.status_code == 409
    assert client.get(SP).json() == []
