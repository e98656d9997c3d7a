"""A service problem raised from the network side through TMF656 is a mass outage (network_outage.py):
posting it opens the master and, through the worker, a child report per affected customer; its estimate
reaches every child; resolving it clears them all. Through the public API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import START
from tests.test_mass_outage import count, drain, load_inventory, run_workers
from troubleflow.clock import FixedClock
from troubleflow.storage.db import Database
from troubleflow.storage.tables import customer_notification, mass_outage_child, trouble_ticket

SP = "/tmf-api/serviceProblemManagement/v4/serviceProblem"
TT = "/tmf-api/troubleTicket/v4/troubleTicket"
MASS = "/tmf-api/troubleflow/v1/massOutage"


def network_problem(*services: str) -> dict[str, object]:
    return {
        "name": "IPTV head-end down",
        "description": "multicast source lost on the east head-end",
        "category": "video",
        "priority": 1,
        "reason": "alarm correlation",
        "originatorParty": {"id": "smo-1", "role": "originator", "@referredType": "Organization"},
        "originatingSystem": "SM&O",
        "affectedService": [{"id": s, "@referredType": "Service"} for s in services],
    }


def children(client: TestClient, cause: str) -> tuple[str, dict[str, int]]:
    """The master report's id and the children counts of the mass outage of `cause`."""
    body = client.get(f"{MASS}/{cause}")
    assert body.status_code == 200, body.text
    return body.json()["masterTicket"]["id"], dict(body.json()["children"])


def test_a_network_side_problem_opens_updates_and_clears_every_affected_customers_report(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    load_inventory(db, 40)
    posted = client.post(SP, json=network_problem("iptv-east"))
    assert posted.status_code == 201, posted.text
    problem = posted.json()["id"]
    drain(db, clock)
    master, progress = children(client, problem)
    assert progress["opened"] == 40 and progress["notified"] == 40
    assert count(db, mass_outage_child) == 40

    eta = (START + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    patched = client.patch(
        f"{SP}/{problem}",
        json={"expectedResolutionDate": eta},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert client.get(f"{TT}/{master}").json()["expectedResolutionDate"] == eta
    drain(db, clock)
    child = next(t for t in client.get(TT, params={"limit": 100}).json() if t["id"] != master)
    assert client.get(f"{TT}/{child['id']}").json()["expectedResolutionDate"] == eta

    for status in ("inProgress", "resolved"):
        moved = client.patch(
            f"{SP}/{problem}",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert moved.status_code == 200, moved.text
    drain(db, clock)
    _, progress = children(client, problem)
    assert progress["cleared"] == 40 and progress["open"] == 0
    told = customer_notification.c.kind
    # told before they called, of the new estimate, and of the restoration: once each
    assert [count(db, customer_notification, told == k) for k in ("outage", "update", "restored")] == [40] * 3


def test_a_network_side_problem_naming_only_services_we_do_not_hold_declares_no_outage(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    posted = client.post(SP, json=network_problem("someone-elses-service"))
    assert posted.status_code == 201, posted.text  # TMF656 stores it as sent
    drain(db, clock)
    assert client.get(f"{MASS}/{posted.json()['id']}").status_code == 404
    assert client.get(TT).json() == []


def test_a_problem_on_a_service_ten_thousand_customers_use_reaches_each_of_them_exactly_once(
    client: TestClient, db: Database, clock: FixedClock, database_url: str
) -> None:
    """The issue's outage: opened, told and cleared for every customer, none missed or duplicated; on
    PostgreSQL by two workers at once (SQLite has one writer: one worker)."""
    n = 10_000
    load_inventory(db, n)

    def work() -> None:
        if db.dialect == "postgresql":
            run_workers(database_url, clock, workers=2)
        else:
            drain(db, clock)

    problem = client.post(SP, json=network_problem("iptv-east")).json()["id"]
    work()
    _, opened = children(client, problem)
    assert opened["opened"] == n and opened["notified"] == n
    assert count(db, trouble_ticket) == n + 1  # the master and one child per customer
    with db.read() as conn:
        distinct = conn.execute(select(func.count(func.distinct(mass_outage_child.c.ticket_id)))).scalar_one()
    assert distinct == n

    for status in ("inProgress", "resolved"):
        moved = client.patch(
            f"{SP}/{problem}",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert moved.status_code == 200, moved.text
    work()
    _, cleared = children(client, problem)
    assert cleared["cleared"] == n and cleared["open"] == 0
    told = customer_notification.c.kind
    assert count(db, customer_notification, told == "restored") == n
