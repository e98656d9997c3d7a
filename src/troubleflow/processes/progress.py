"""Customer-facing progress updates (the 1.3.7.3 flow's *Monitor Resolution Update*, told to the customer
by Notify Customer Problem, 1.3.7.2.4): a durable `progress` timer per open report, at the interval the
policy sets for its priority. A firing adds a note summarising the work plan, emits the report's change
event and arms the next one; End (cleared, cancelled, closed) cancels it with the report's other timers.

The interval travels in the timer's payload, so a report keeps the cadence it was committed under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.progress import next_progress, progress_text
from troubleflow.domain.ticket import Note, TroubleTicket, change_ticket
from troubleflow.storage import tasks, timers
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.timers import ArmRequest

PROGRESS = "progress"
AUTHOR = "troubleflow"


@dataclass(frozen=True, slots=True)
class Fired:
    """What one progress firing changes, for the timer pass to write with the rest of its batch."""

    ticket: TroubleTicket
    events: list[TicketEvent]
    entries: list[HistoryEntry]
    arms: list[ArmRequest]


def progress_timer(ticket_id: str, due_at: datetime, interval: timedelta) -> ArmRequest:
    payload = {"interval": int(interval.total_seconds())}
    return ArmRequest(ticket_id, PROGRESS, etom.NOTIFY_CUSTOMER, due_at, payload)


def _runs(ticket: TroubleTicket, interval: timedelta | None) -> bool:
    """Progress updates run while the report is open and its SLA clock runs (not while it waits on the
    customer), and only for priorities the policy gives an interval."""
    stopped = ticket.tracking is None or ticket.tracking.commitment is None
    return interval is not None and ticket.status in WATCHED_STATUSES and not stopped


def arm_next(
    conn: Connection, ticket: TroubleTicket, interval: timedelta | None, now: datetime, *, new: bool = False
) -> None:
    """Arm the report's next progress update one interval from now, unless one is armed already (a `new`
    report has none: its create skips the look)."""
    if _runs(ticket, interval) and (new or not timers.is_armed(conn, ticket.id, PROGRESS)):
        assert interval is not None
        timers.arm_many(conn, [progress_timer(ticket.id, now + interval, interval)], now)


def heard(conn: Connection, ticket: TroubleTicket, interval: timedelta | None, now: datetime) -> None:
    """The customer just heard something (a status change or a note): the next progress update is due one
    interval from now, so updates come "while nothing changes" and never right after a real one."""
    if not _runs(ticket, interval):
        return
    assert interval is not None
    if not timers.postpone(conn, ticket.id, PROGRESS, now + interval):
        timers.arm_many(conn, [progress_timer(ticket.id, now + interval, interval)], now)


def fire(
    conn: Connection, ticket: TroubleTicket, due: datetime, interval_s: int, actor: str, now: datetime
) -> Fired | None:
    """One progress update: a note authored by troubleflow with the plan's progress and the expected
    resolution, and the next update one interval on (None: the report is no longer open)."""
    if ticket.status not in WATCHED_STATUSES:
        return None
    plan = list(tasks.for_ticket(conn, ticket.id).values())
    text = progress_text(plan, ticket.expected_resolution_date)
    note = Note(text=text, author=AUTHOR)
    updated, events = change_ticket(ticket, {"note": [*ticket.note, note]}, now=now)
    entry = HistoryEntry(
        ticket.id, now, actor, etom.NOTIFY_CUSTOMER, "progressUpdate", reason=text, fields=("note",)
    )
    interval = timedelta(seconds=interval_s)
    nxt = progress_timer(ticket.id, next_progress(due, interval, now), interval)
    return Fired(updated, events, [entry], [nxt])
