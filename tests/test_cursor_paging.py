"""Cursor paging (TMF630 v5 `after`/`before`) and the Link header: walking the next links visits every
match exactly once in sort order, a prev link returns the page before, and bad cursors change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from troubleflow.api import tmf630
from troubleflow.api.tmf621_v5 import V5
from troubleflow.clock import FixedClock
from troubleflow.processes.seed import seed_reports
from troubleflow.storage.db import Database
from troubleflow.storage.tickets import page_statements

from .conftest import api, ticket_body

_LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def _links(response: object) -> dict[str, str]:
    header = response.headers.get("Link", "")  # type: ignore[attr-defined]
    return {rel: url for url, rel in _LINK.findall(header)}


def _create(client: TestClient, clock: FixedClock, n: int, *, step: timedelta = timedelta(0)) -> list[str]:
    ids = []
    for i in range(n):
        r = client.post(api("v5") + "/troubleTicket", json=ticket_body("v5", name=f"r{i}"))
        assert r.status_code == 201
        ids.append(r.json()["id"])
        clock.advance(step)
    return ids


def _walk(client: TestClient, first: str) -> tuple[list[str], list[dict[str, str]]]:
    seen: list[str] = []
    url: str | None = first
    pages = []
    while url:
        r = client.get(url)
        assert r.status_code in (200, 206), r.text
        seen += [t["id"] for t in r.json()]
        pages.append(_links(r))
        url = pages[-1].get("next")
    return seen, pages


@pytest.mark.parametrize("sort", ["", "&sort=-creationDate", "&sort=severity,-lastUpdate"])
def test_following_next_links_visits_every_match_once_in_order(
    client: TestClient, clock: FixedClock, sort: str
) -> None:
    ids = _create(client, clock, 7)  # same creation time: the id breaks the ties
    ids += _create(client, clock, 16, step=timedelta(seconds=1))
    whole = [t["id"] for t in client.get(api("v5") + f"/troubleTicket?limit=1000{sort}").json()]
    assert sorted(whole) == sorted(ids)
    seen, pages = _walk(client, api("v5") + f"/troubleTicket?limit=5{sort}")
    assert seen == whole
    assert "prev" not in pages[0] and all("prev" in p for p in pages[1:])


def test_a_prev_link_returns_exactly_the_page_before(client: TestClient, clock: FixedClock) -> None:
    _create(client, clock, 12, step=timedelta(seconds=1))
    first = client.get(api("v5") + "/troubleTicket?limit=5&sort=-creationDate")
    second = client.get(_links(first)["next"])
    back = client.get(_links(second)["prev"])
    assert [t["id"] for t in back.json()] == [t["id"] for t in first.json()]
    assert back.headers["X-Total-Count"] == "12"


def test_a_cursor_does_not_shift_when_reports_are_added_meanwhile(
    client: TestClient, clock: FixedClock
) -> None:
    _create(client, clock, 10, step=timedelta(seconds=1))
    first = client.get(api("v5") + "/troubleTicket?limit=4&sort=-creationDate")
    _create(client, clock, 3, step=timedelta(seconds=1))  # newer: they sort before the cursor
    second = client.get(_links(first)["next"])
    ids = [t["id"] for t in first.json()] + [t["id"] for t in second.json()]
    assert len(set(ids)) == 8  # no report repeated (an offset page would repeat three)


def test_a_sort_that_cannot_use_cursors_gets_offset_links(client: TestClient, clock: FixedClock) -> None:
    _create(client, clock, 6)
    r = client.get(api("v5") + "/troubleTicket?limit=4&sort=priority")
    assert "offset=4" in _links(r)["next"]
    last = client.get(_links(r)["next"])
    assert _links(last) == {"prev": _links(last)["prev"]} and "offset=0" in _links(last)["prev"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("after=bm90IGEgY3Vyc29y", 400),  # base64 of "not a cursor"
        ("after=%%%", 400),
        ("after=x&before=y", 400),
        ("sort=priority&after=WyJwcmlvcml0eSIsIkhpZ2giLCJ4Il0", 501),  # sort on a nullable column
    ],
)
def test_a_bad_cursor_is_refused_with_a_tmf_error(
    client: TestClient, clock: FixedClock, query: str, status: int
) -> None:
    _create(client, clock, 2)
    r = client.get(api("v5") + f"/troubleTicket?{query}")
    assert r.status_code == status, r.text
    assert {"code", "reason", "message"} <= r.json().keys()


def test_a_cursor_from_another_sort_order_is_refused(client: TestClient, clock: FixedClock) -> None:
    _create(client, clock, 6, step=timedelta(seconds=1))
    first = client.get(api("v5") + "/troubleTicket?limit=2&sort=-creationDate")
    cursor = _links(first)["next"].split("after=")[1]
    r = client.get(api("v5") + f"/troubleTicket?limit=2&sort=lastUpdate&after={cursor}")
    assert r.status_code == 400 and "sort order" in r.json()["reason"] + r.json()["message"]


def test_a_deep_cursor_page_walks_the_sort_index(db: Database) -> None:
    seed_reports(db, 500)
    query = tmf630.parse_list("sort=-creationDate&limit=50", V5())
    cursor = tmf630.encode_cursor(query.sort, ("2026-06-01T00:00:00+00:00", "zzz"))
    for raw in (
        f"sort=-creationDate&limit=50&after={cursor}",
        f"sort=-creationDate&limit=50&before={cursor}",
    ):
        q = tmf630.parse_list(raw, V5())
        with db.begin() as conn:
            conn.execute(text("ANALYZE"))
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL enable_seqscan = off"))
            rows, _count = page_statements(q, conn.dialect.name)
            sql = str(rows.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            explain = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = "\n".join(
                str(r[-1] if conn.dialect.name == "sqlite" else r[0])
                for r in conn.exec_driver_sql(explain + sql)
            )
            assert "Seq Scan on trouble_ticket" not in plan and "SCAN trouble_ticket\n" not in plan + "\n", (
                plan
            )
            assert "creation_date" in plan, plan  # the range is on the sort index
