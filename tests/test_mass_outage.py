"""Mass outages from the network side (docs/mass-outage.md): one master, a child report per affected
customer opened or linked by the worker in chunks, customers told before they call, ETA and notes passed
on, everything cleared on restoration; against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import START
from troubleflow.clock import Clock, FixedClock
from troubleflow.config import Settings
from troubleflow.domain.inventory import Customer, Product, Service
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Ref
from troubleflow.errors import InvalidInput, NotFound
from troubleflow.processes import mass_outage, outage_jobs
from troubleflow.processes.mass_outage import Cause
from troubleflow.processes.reports import create_report, get_report, move_report
from troubleflow.storage import inventory
from troubleflow.storage.db import Database
from troubleflow.storage.tables import customer_notification, mass_outage_child, outbox, trouble_ticket

CAUSE = Cause("sp-77", "/tmf-api/serviceProblemManagement/v4/serviceProblem/sp-77", "IPTV head-end down")


def load_inventory(db: Database, n: int, spec: str = "iptv-east", prefix: str = "c") -> None:
    """`n` customers, each with one product and one service of specification `spec` (bulk upsert)."""
    with db.begin() as conn:
        inventory.upsert(
            conn,
            "customer",
            [
                Customer(
                    f"{prefix}{i:05}",
                    f"Customer {i}",
                    contact={"email": f"{prefix}{i}@example.org"} if i % 2 else {},
                )
                for i in range(n)
            ],
        )
        inventory.upsert(
            conn, "product", [Product(f"p-{prefix}{i:05}", f"{prefix}{i:05}", "TV") for i in range(n)]
        )
        inventory.upsert(
            conn,
            "service",
            [Service(f"s-{prefix}{i:05}", f"p-{prefix}{i:05}", "IPTV", specification=spec) for i in range(n)],
        )


def customer_report(db: Database, clock: FixedClock, i: int, prefix: str = "c") -> str:
    values = {
        "description": "no TV picture",
        "severity": "Minor",
        "ticket_type": "incident",
        "related_party": [Ref(id=f"{prefix}{i:05}", role="customer")],
        "related_entity": [Ref(id=f"s-{prefix}{i:05}", referred_type="Service")],
    }
    return create_report(db, values, clock=clock, actor="agent").ticket.id


def drain(db: Database, clock: Clock) -> int:
    passes = 0
    while outage_jobs.work(db, clock=clock):
        passes += 1
    return passes


def count(db: Database, table: object, *where: object) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_ten_thousand_customers_are_told_before_they_call_and_cleared_on_restoration(
    db: Database, clock: FixedClock
) -> None:
    n = 10_000
    load_inventory(db, n)
    earlier = [customer_report(db, clock, i) for i in (3, 4_000, 9_999)]
    eta = START + timedelta(hours=4)

    declared = mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"], eta=eta)
    assert declared.pending == {"sweep": 1}
    drain(db, clock)

    shown = mass_outage.progress(db, CAUSE.id)
    assert shown.counts["opened"] == n - 3 and shown.counts["linked"] == 3
    assert shown.counts["notified"] == n and shown.pending == {}
    assert count(db, trouble_ticket) == n + 1  # the children, the three linked reports, the master
    assert count(db, mass_outage_child) == n
    with db.read() as conn:
        distinct = conn.execute(select(func.count(func.distinct(mass_outage_child.c.ticket_id)))).scalar_one()
    assert distinct == n
    assert count(db, outbox, outbox.c.kind == "created") == n - 3 + 3 + 1
    assert count(db, customer_notification, customer_notification.c.channel == "email") == n // 2
    linked = get_report(db, earlier[1])
    assert linked.trouble_ticket_relationship[-1].id == shown.outage.master_id
    assert linked.expected_resolution_date == eta
    master = get_report(db, shown.outage.master_id)
    assert master.intake is not None and master.intake.child_count == n
    assert master.channel is not None and master.channel.id == "system"
    assert (
        master.related_entity[0].role == "causedBy"
        and master.related_entity[0].referred_type == "ServiceProblem"
    )

    mass_outage.restore(db, clock=clock, cause_id=CAUSE.id, resolution="head-end rebooted")
    drain(db, clock)

    shown = mass_outage.progress(db, CAUSE.id)
    assert shown.outage.state == "restored"
    assert shown.counts["cleared"] == n and shown.counts["restoreNotified"] == n and shown.counts["open"] == 0
    assert count(db, trouble_ticket, trouble_ticket.c.status == "resolved") == n + 1
    assert "sp-77" in (get_report(db, earlier[0]).status_change_reason or "")


def test_two_workers_open_every_child_exactly_once(
    db: Database, clock: FixedClock, database_url: str
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite admits one writer at a time: two workers only take turns (run on PostgreSQL)")
    n = 3_000
    load_inventory(db, n)
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"])
    run_workers(database_url, clock)
    assert count(db, mass_outage_child) == n
    assert count(db, trouble_ticket) == n + 1
    assert count(db, customer_notification) == n
    with db.read() as conn:
        distinct = conn.execute(select(func.count(func.distinct(mass_outage_child.c.ticket_id)))).scalar_one()
    assert distinct == n
    mass_outage.restore(db, clock=clock, cause_id=CAUSE.id, resolution="fixed")
    run_workers(database_url, clock)
    assert count(db, trouble_ticket, trouble_ticket.c.status == "resolved") == n + 1
    assert count(db, customer_notification, customer_notification.c.kind == "restored") == n


def run_workers(database_url: str, clock: FixedClock, workers: int = 2) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        own = Database.from_url(database_url)
        try:
            idle = 0
            while idle < 3:  # the other worker may hold the only job for a moment
                idle = 0 if outage_jobs.work(own, clock=clock, chunk=200) else idle + 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert errors == []


def test_master_eta_change_and_note_reach_every_child(db: Database, clock: FixedClock) -> None:
    load_inventory(db, 30)
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"])
    drain(db, clock)
    later = START + timedelta(hours=9)
    mass_outage.update(db, clock=clock, cause_id=CAUSE.id, eta=later, note="engineers on site")
    drain(db, clock)
    with db.read() as conn:
        children = [str(i) for i in conn.execute(select(mass_outage_child.c.ticket_id)).scalars()]
    for child in (get_report(db, c) for c in children):
        assert child.expected_resolution_date == later
        assert any(note.text == "engineers on site" for note in child.note)
    assert mass_outage.progress(db, CAUSE.id).counts["updated"] == 30


def test_a_later_declare_sweeps_open_reports_and_links_new_calls_without_duplicates(
    db: Database, clock: FixedClock
) -> None:
    load_inventory(db, 20)
    before = customer_report(db, clock, 5)
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["s-c00005", "s-c00006"])
    after = customer_report(db, clock, 6)  # calls before the sweep reached them: linked at intake
    drain(db, clock)
    shown = mass_outage.progress(db, CAUSE.id)
    assert shown.counts["linked"] == 2 and shown.counts["opened"] == 0
    assert count(db, trouble_ticket) == 3
    assert get_report(db, before).trouble_ticket_relationship[0].id == shown.outage.master_id
    assert get_report(db, after).trouble_ticket_relationship[0].id == shown.outage.master_id
    again = mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["s-c00005"])
    assert again.outage.master_id == shown.outage.master_id and again.pending == {}


def test_a_child_the_customer_cancelled_is_not_cleared_again(db: Database, clock: FixedClock) -> None:
    load_inventory(db, 10)
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"])
    drain(db, clock)
    with db.read() as conn:
        child = conn.execute(
            select(mass_outage_child.c.ticket_id).where(mass_outage_child.c.service_id == "s-c00002")
        ).scalar_one()
    move_report(db, child, Status.CANCELLED, "customer withdrew", clock=clock, actor="agent")
    mass_outage.restore(db, clock=clock, cause_id=CAUSE.id, resolution="fixed")
    drain(db, clock)
    shown = mass_outage.progress(db, CAUSE.id)
    assert shown.counts["cleared"] == 9 and shown.counts["left"] == 1
    assert get_report(db, child).status is Status.CANCELLED


@pytest.mark.parametrize("services", [[], ["nope"], ["iptv-east", "nope"]])
def test_unknown_or_no_service_is_refused_and_nothing_changes(
    db: Database, clock: FixedClock, services: list[str]
) -> None:
    load_inventory(db, 3)
    with pytest.raises(InvalidInput):
        mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=services)
    assert count(db, trouble_ticket) == 0
    with pytest.raises(NotFound):
        mass_outage.progress(db, CAUSE.id)


def test_worker_passes_open_the_children_and_email_customers_with_a_contact(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    from dataclasses import replace

    from tests.notify_peers import Mailbox, start_smtp
    from troubleflow.worker import Worker

    box = Mailbox()
    server = start_smtp(box)
    load_inventory(db, 6)  # odd customers have an email address
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"])
    worker = Worker(db, replace(settings, smtp_url=f"smtp://127.0.0.1:{box.port}"), clock=clock)
    try:
        while not worker.run_once().idle:
            pass
    finally:
        worker.close()
        server.shutdown()
        server.server_close()
    assert mass_outage.progress(db, CAUSE.id).counts["opened"] == 6
    assert sorted(str(m["To"]) for m in box.messages) == [
        "c1@example.org",
        "c3@example.org",
        "c5@example.org",
    ]
    assert box.messages[0]["Subject"] == "We are working on a problem affecting your service"
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE dispatched = 0")).scalar_one() == 0
        states = conn.execute(text("SELECT state, count(*) FROM customer_notification GROUP BY state")).all()
    assert dict((str(k), int(v)) for k, v in states) == {"sent": 3, "recorded": 3}


def test_a_sweep_that_crashed_mid_way_resumes_without_missing_or_duplicating(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_inventory(db, 450)
    mass_outage.declare(db, clock=clock, policy=None, cause=CAUSE, services=["iptv-east"])
    real, calls = outage_jobs.notify, []

    def crash_on_third(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outage_jobs, "notify", crash_on_third)
    with pytest.raises(RuntimeError):
        while outage_jobs.work(db, clock=clock, chunk=100):
            pass
    assert count(db, mass_outage_child) == 200  # two chunks committed, the third rolled back whole
    monkeypatch.setattr(outage_jobs, "notify", real)
    while outage_jobs.work(db, clock=clock, chunk=100):
        pass
    assert count(db, mass_outage_child) == 450 and count(db, trouble_ticket) == 451
    assert count(db, customer_notification) == 450
