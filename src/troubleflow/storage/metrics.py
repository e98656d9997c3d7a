"""What the restoration figures are computed from: the stored reports by status (documents decoded in
turn, so memory stays flat) and the number of cancelled ones, which the figures exclude."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.storage.codec import decode_ticket
from troubleflow.storage.tables import trouble_ticket

T = trouble_ticket.c


def reports_except(conn: Connection, excluded: frozenset[Status]) -> Iterator[TroubleTicket]:
    """Every report whose status is not in `excluded`."""
    stmt = select(T.doc).where(T.status.not_in([s.value for s in excluded]))
    for (doc,) in conn.execution_options(yield_per=500).execute(stmt):
        yield decode_ticket(doc)


def count_in(conn: Connection, status: Status) -> int:
    return int(conn.execute(select(func.count()).where(T.status == status.value)).scalar_one())
