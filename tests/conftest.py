"""Shared fixtures: a real database (SQLite by default, PostgreSQL when TROUBLEFLOW_TEST_DATABASE_URL
says so), migrated once per session and emptied between tests; a fixed clock; the ASGI app over httpx."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from troubleflow.api.app import create_app
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.storage import migrate
from troubleflow.storage.db import Database
from troubleflow.storage.tables import metadata

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
BASE = "http://testserver"


def _database_url(tmp_dir: str) -> str:
    return os.environ.get("TROUBLEFLOW_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.db"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield _database_url(tmp)


@pytest.fixture(scope="session")
def _migrated(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    with db.engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS known_error_fts"))  # SQLite FTS5, outside metadata
    migrate.upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def db(_migrated: Database) -> Iterator[Database]:
    yield _migrated
    with _migrated.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def is_postgres(db: Database) -> bool:
    return db.dialect == "postgresql"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE,
        webhook_secret="test-secret",
        webhook_backoff_seconds=1.0,
        webhook_max_attempts=5,
        worker_poll_seconds=0.05,
    )


@pytest.fixture
def app(db: Database, settings: Settings, clock: FixedClock) -> FastAPI:
    return create_app(settings, db=db, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def ticket_body(version: str = "v4", **overrides: object) -> dict[str, object]:
    """A realistic create body for either version; keyword overrides replace attributes."""
    if version == "v4":
        body: dict[str, object] = {
            "name": "No broadband",
            "description": "Line down since 08:10, modem shows red DSL light",
            "severity": "Major",
            "ticketType": "incident",
            "priority": "High",
            "note": [{"author": "agent-7", "text": "customer already rebooted the modem"}],
            "relatedParty": [
                {"id": "cust-42", "role": "customer", "@referredType": "Individual", "name": "Ada Lovelace"}
            ],
            "relatedEntity": [{"id": "prod-9", "role": "affectedProduct", "@referredType": "Product"}],
            "channel": {"id": "call-centre", "name": "Call centre"},
        }
    else:
        body = {
            "@type": "TroubleTicket",
            "name": "No broadband",
            "description": "Line down since 08:10, modem shows red DSL light",
            "severity": "Major",
            "ticketType": "incident",
            "priority": "High",
            "note": [{"@type": "Note", "author": "agent-7", "text": "customer already rebooted the modem"}],
            "relatedParty": [
                {
                    "@type": "RelatedPartyRefOrPartyRoleRef",
                    "role": "customer",
                    "partyOrPartyRole": {
                        "@type": "PartyRef",
                        "id": "cust-42",
                        "@referredType": "Individual",
                        "name": "Ada Lovelace",
                    },
                }
            ],
            "relatedEntity": [
                {
                    "@type": "RelatedEntity",
                    "role": "affectedProduct",
                    "entity": {"@type": "EntityRef", "id": "prod-9", "@referredType": "Product"},
                }
            ],
            "channel": {"@type": "ChannelRef", "id": "call-centre", "name": "Call centre"},
            "externalIdentifier": [{"@type": "ExternalIdentifier", "id": "CRM-1001", "owner": "crm"}],
        }
    body.update(overrides)
    return body


def api(version: str) -> str:
    return f"/tmf-api/troubleTicket/{version}"


def finish_work_plan(client: TestClient, ticket_id: str) -> None:
    """Finish the open mandatory tasks of a report's work plan in sequence, through the API, as engineers
    do before clearing it (Coordinate Customer Problem, 1.3.7.3.1: no clearing with mandatory tasks open)."""
    url = f"/tmf-api/troubleflow/v1/troubleTicket/{ticket_id}/task"
    while True:
        workable = [
            t for t in client.get(url).json() if t["mandatory"] and t["state"] in ("ready", "inProgress")
        ]
        if not workable:
            return
        for t in workable:
            r = client.patch(f"{url}/{t['id']}", json={"state": "done"})
            assert r.status_code == 200, r.text
