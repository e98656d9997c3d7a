"""The `troubleflow` CLI drives the same use cases as the API."""

from __future__ import annotations

import json

from click.testing import CliRunner

from troubleflow.cli import main


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def test_ticket_create_list_show_and_move(db: object, database_url: str) -> None:
    code, out = run(
        database_url,
        "ticket",
        "create",
        "--description",
        "Fibre cut",
        "--severity",
        "Critical",
        "--type",
        "incident",
        "--customer",
        "cust-9",
        "--note",
        "reported by phone",
    )
    assert code == 0, out
    ticket_id = json.loads(out)["id"]

    code, out = run(database_url, "ticket", "move", ticket_id, "inProgress", "--reason", "crew sent")
    assert code == 0 and "inProgress" in out

    code, out = run(database_url, "ticket", "list", "--status", "inProgress")
    assert code == 0 and ticket_id in out and "(1 of 1)" in out

    code, out = run(database_url, "ticket", "show", ticket_id, "--history")
    assert code == 0
    assert "1.3.7.5.1" in out and "Generate Customer Problem Report" in out
    assert "acknowledged->inProgress" in out and "crew sent" in out


def test_illegal_move_prints_the_rule_and_exits_1(db: object, database_url: str) -> None:
    _, out = run(
        database_url, "ticket", "create", "--description", "x", "--severity", "Minor", "--type", "request"
    )
    ticket_id = json.loads(out)["id"]

    code, out = run(database_url, "ticket", "move", ticket_id, "closed")

    assert code == 1
    assert "cannot move to 'closed'" in out


def test_unknown_status_and_unknown_ticket_are_clear_errors(db: object, database_url: str) -> None:
    assert run(database_url, "ticket", "move", "nope", "sideways")[0] == 1
    code, out = run(database_url, "ticket", "show", "nope")
    assert code == 1 and "no trouble ticket with id 'nope'" in out


def test_db_upgrade_reports_the_revision(db: object, database_url: str) -> None:
    from troubleflow.storage import migrate
    from troubleflow.storage.db import Database

    assert isinstance(db, Database)
    code, out = run(database_url, "db", "upgrade")

    assert code == 0 and f"revision {migrate.current(db)}" in out


def test_hub_list_and_outbox_list_start_empty(db: object, database_url: str) -> None:
    assert run(database_url, "hub", "list") == (0, "")
    code, out = run(database_url, "outbox", "list")
    assert code == 0 and "undispatched=0" in out


def test_outbox_replay_needs_ids_or_all(db: object, database_url: str) -> None:
    code, out = run(database_url, "outbox", "replay")

    assert code == 2 and "--all" in out


def test_idempotency_keys_expire_after_a_day(db: object, database_url: str) -> None:
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from tests.conftest import api, ticket_body
    from troubleflow.api.app import create_app
    from troubleflow.clock import FixedClock
    from troubleflow.config import Settings
    from troubleflow.storage.db import Database
    from troubleflow.worker import Worker

    assert isinstance(db, Database)
    clock = FixedClock(__import__("tests.conftest", fromlist=["START"]).START)
    client = TestClient(create_app(Settings(database_url=database_url), db=db, clock=clock))
    client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4"), headers={"Idempotency-Key": "k1"})
    clock.advance(timedelta(hours=25))

    removed = Worker(db, Settings(database_url=database_url), clock=clock).housekeeping()

    assert removed == 1
    again = client.post(
        f"{api('v4')}/troubleTicket", json=ticket_body("v4"), headers={"Idempotency-Key": "k1"}
    )
    assert again.headers.get("Idempotent-Replayed") is None
