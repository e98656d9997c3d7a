"""Concurrent updates never overwrite each other silently: If-Match makes one writer win, the other 412."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import api, ticket_body
from troubleflow.clock import FixedClock
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import PreconditionFailed
from troubleflow.processes.reports import change_report, get_report
from troubleflow.storage.db import Database

MERGE = {"Content-Type": "application/merge-patch+json"}


def test_two_patches_with_the_same_if_match_one_wins_one_gets_412(client: TestClient) -> None:
    ticket = client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4")).json()
    url = f"{api('v4')}/troubleTicket/{ticket['id']}"
    start = threading.Barrier(2)

    def patch(severity: str) -> int:
        start.wait(timeout=5)
        return client.patch(
            url, json={"severity": severity}, headers={**MERGE, "If-Match": '"1"'}
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(patch, ["Critical", "Minor"]))

    assert codes == [200, 412]
    final = client.get(url)
    assert final.headers["ETag"] == '"2"'
    assert final.json()["severity"] in {"Critical", "Minor"}


def test_racing_writers_with_the_same_version_cannot_both_commit(
    db: Database, client: TestClient, clock: FixedClock
) -> None:
    ticket_id = client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4")).json()["id"]
    both_read = threading.Barrier(2)

    def writer(severity: str) -> str:
        def compute(current: TroubleTicket) -> dict[str, Any]:
            # Hold the first writer's transaction open while the second tries to start: it must wait
            # (row lock / BEGIN IMMEDIATE) and then see version 2, not overwrite version 1.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=1)
            return {"severity": severity}

        try:
            change_report(db, ticket_id, compute, clock=clock, actor="t", if_match=1)
        except PreconditionFailed:
            return "412"
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(writer, ["Critical", "Minor"]))

    assert outcomes == ["412", "ok"]
    assert get_report(db, ticket_id).version == 2


def test_writers_without_if_match_are_serialised_and_both_changes_survive(
    db: Database, client: TestClient, clock: FixedClock
) -> None:
    ticket_id = client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4")).json()["id"]

    def add_note(i: int) -> None:
        def compute(current: TroubleTicket) -> dict[str, Any]:
            from dataclasses import replace

            from troubleflow.domain.ticket import Note

            return {"note": [*(replace(n) for n in current.note), Note(text=f"update {i}")]}

        change_report(db, ticket_id, compute, clock=clock, actor="t")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add_note, range(8)))

    final = get_report(db, ticket_id)
    assert sorted(n.text for n in final.note[1:]) == sorted(f"update {i}" for i in range(8))
    assert final.version == 9
