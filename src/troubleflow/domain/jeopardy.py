"""Jeopardy of a customer problem report (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4).

A threshold of the committed restoration time has passed: the report records the highest threshold
reached and since when. Jeopardy never lowers on its own (etom.md C7), and a report that is no longer
open is left alone: End (1.3.7.3.3) stops jeopardy once the report is cleared or cancelled.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Jeopardy, TroubleTicket
from troubleflow.errors import InvalidInput

# Restoration is still owed in these statuses; resolved (cleared) and the final ones end the watch.
WATCHED_STATUSES = frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PENDING, Status.HELD})


def check_threshold(threshold: int) -> int:
    """A jeopardy threshold is a percentage of the committed restoration time, 1..100 (100 = breach)."""
    if not 0 < threshold <= 100:
        raise InvalidInput(f"a jeopardy threshold is a percentage in 1..100, not {threshold}")
    return threshold


def raise_jeopardy(
    ticket: TroubleTicket, threshold: int, *, now: datetime
) -> tuple[TroubleTicket, list[TicketEvent]]:
    """The report after `threshold` % of its committed restoration time passed, and the events."""
    check_threshold(threshold)
    if ticket.status not in WATCHED_STATUSES:
        return ticket, []
    if ticket.jeopardy is not None and ticket.jeopardy.threshold >= threshold:
        return ticket, []
    updated = replace(ticket, version=ticket.version + 1, last_update=now, jeopardy=Jeopardy(threshold, now))
    return updated, [TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket.id, fields=("jeopardy",))]
