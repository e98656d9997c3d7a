"""`troubleflow ticket close|confirm|improve|metrics` drive the Close use cases (docs/closure.md); the
reports are prepared through the API with the fixed clock, the CLI runs on the system clock."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow.cli import main
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database

from .conftest import api, finish_work_plan, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def _cleared(client: TestClient) -> str:
    rid = str(client.post(f"{api('v4')}/troubleTicket", json=ticket_body()).json()["id"])
    url = f"{api('v4')}/troubleTicket/{rid}"
    assert client.patch(url, json={"status": "inProgress"}, headers=MERGE).status_code == 200
    finish_work_plan(client, rid)
    body: dict[str, Any] = {"status": "resolved", "statusChangeReason": "line card replaced"}
    assert client.patch(url, json=body, headers=MERGE).status_code == 200
    return rid


def test_cli_close_is_refused_without_root_cause_and_closes_with_it(
    client: TestClient, db: Database, database_url: str
) -> None:
    rid = _cleared(client)

    code, out = run(database_url, "ticket", "close", rid)
    assert code == 1 and "rootCause missing" in out

    code, out = run(database_url, "ticket", "close", rid, "--root-cause", "fibre cut", "--actor", "agent-7")
    assert code == 0, out
    assert f"{rid} is now closed, closedByAgent" in out
    closing = [h for h in report_history(db, rid) if h.new_status == "closed"]
    assert [(h.process_id, h.actor) for h in closing] == [("1.3.7.4", "agent-7")]


def test_cli_confirm_not_fixed_reopens_and_improve_records_an_opportunity(
    client: TestClient, db: Database, database_url: str
) -> None:
    rid = _cleared(client)

    code, out = run(
        database_url, "ticket", "confirm", rid, "--not-fixed", "--score", "2", "--comment", "down"
    )
    assert code == 0, out
    assert f"{rid} is now inProgress, reopened 1x" in out

    code, out = run(database_url, "ticket", "improve", rid, "check the cabinet seal", "--actor", "qa-1")
    assert code == 0 and "improvement 1 recorded by qa-1" in out
    assert [h.action for h in report_history(db, rid)][-1] == "improvementRecorded"

    code, out = run(database_url, "ticket", "confirm", rid, "--fixed", "--score", "9")
    assert code == 2 and "1<=x<=5" in out  # click's range check, before any use case runs


def test_cli_metrics_exclude_cancelled_reports(client: TestClient, database_url: str) -> None:
    _cleared(client)
    rid = str(client.post(f"{api('v4')}/troubleTicket", json=ticket_body()).json()["id"])
    body = {"status": "cancelled", "statusChangeReason": "duplicate"}
    assert client.patch(f"{api('v4')}/troubleTicket/{rid}", json=body, headers=MERGE).status_code == 200

    code, out = run(database_url, "ticket", "metrics")

    assert code == 0, out
    figures = json.loads(out)
    assert (figures["restored"], figures["cancelledExcluded"]) == (1, 1)
