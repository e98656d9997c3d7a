"""The bulk loader builds valid reports through the domain and writes them with their audit rows."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from troubleflow.domain.status import TRANSITIONS, Status
from troubleflow.processes.seed import seed_reports, synthetic_tickets
from troubleflow.storage.db import Database
from troubleflow.storage.tables import ticket_history, trouble_ticket


def test_synthetic_reports_follow_the_lifecycle_table() -> None:
    for ticket in synthetic_tickets(300):
        path = [c.status for c in ticket.status_change]
        assert path[0] is Status.ACKNOWLEDGED
        assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(path))
        assert ticket.status is path[-1] and ticket.version == len(path)
        assert (ticket.resolution_date is not None) == (Status.RESOLVED in path)


def test_seed_writes_every_report_and_its_creation_audit_row(db: Database) -> None:
    progress: list[int] = []

    written = seed_reports(db, 1234, batch=500, progress=progress.append)

    with db.read() as conn:
        tickets = conn.execute(select(func.count()).select_from(trouble_ticket)).scalar_one()
        audit = conn.execute(
            select(func.count()).select_from(ticket_history).where(ticket_history.c.process_id == "1.3.7.5.1")
        ).scalar_one()
    assert written == tickets == audit == 1234
    assert progress == [500, 500, 234]
