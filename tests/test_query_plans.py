"""No list query scans the ticket table: every TMF630 filter on a first-level attribute and every sort
is answered from an index (bench/README.md; at 1M reports a full scan costs seconds)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Connection, text

from troubleflow.api import tmf630
from troubleflow.api.tmf621_v4 import V4
from troubleflow.processes.seed import seed_reports
from troubleflow.storage.db import Database
from troubleflow.storage.tickets import page_statements

LIST_QUERIES = [
    "",
    "limit=50",
    "status=inProgress&severity=Major&limit=50",
    "sort=-creationDate&offset=900&limit=50",
    "status=acknowledged&fields=id,status,severity&limit=50",
    "status=inProgress,held&limit=50",
    "severity=Critical&sort=-creationDate&limit=50",
    "priority=High&limit=50",
    "ticketType=incident&offset=100&limit=50",
    "externalId=CRM-1&limit=50",
    "channel.id=web&limit=50",
    "name=no dial tone&limit=50",
    "sort=severity,-lastUpdate&limit=50",
    "sort=-lastUpdate&limit=50",
    "sort=statusChangeDate&limit=50",
    "sort=expectedResolutionDate&limit=50",
    "sort=resolutionDate&offset=500&limit=50",
]


def _plan(conn: Connection, sql: str) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # does an index path exist at all?
        return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def _full_scans(plan: str) -> list[str]:
    pg = re.findall(r"Seq Scan on trouble_ticket\b.*", plan)
    sqlite = [line for line in plan.splitlines() if re.fullmatch(r"SCAN trouble_ticket", line.strip())]
    return pg + sqlite


@pytest.mark.parametrize("raw", LIST_QUERIES)
def test_no_list_query_scans_the_ticket_table(db: Database, raw: str) -> None:
    seed_reports(db, 500)
    query = tmf630.parse_list(raw, V4())
    with db.begin() as conn:
        conn.execute(text("ANALYZE"))
        for stmt in page_statements(query, conn.dialect.name):
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = _plan(conn, sql)
            assert _full_scans(plan) == [], f"{raw!r} scans the ticket table:\n{sql}\n{plan}"
