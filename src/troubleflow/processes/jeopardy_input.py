"""Jeopardy inputs besides the timers (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4): a delegate
reports when it expects to restore (a work-plan workgroup's task ETA today; a service problem or a
partner's trouble ticket later). A forecast after the report's restoration commitment is a forecast
breach: the report is marked once (never lowered) and the escalation matrix applies as for the 100 %
threshold, once: the real breach later finds the level already reached and tells nobody again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import escalation as esc
from troubleflow.domain import etom, tracking
from troubleflow.domain import policy as p
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.processes import escalation
from troubleflow.storage import history
from troubleflow.storage.history import HistoryEntry

BREACH = 100  # the matrix row a forecast breach escalates by


def eta_reported(
    conn: Connection,
    ticket: TroubleTicket,
    eta: datetime | None,
    source: str,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> TroubleTicket:
    """A delegate (`source`, e.g. "task 2 (access-network)") expects restoration at `eta`. Runs in the
    caller's transaction with the report's row locked; returns the report as it now stands."""
    state = ticket.tracking
    if eta is None or state is None or ticket.status not in WATCHED_STATUSES:
        return ticket
    if state.commitment is None or eta <= state.commitment or state.forecast_breach is not None:
        return ticket  # on time, clock stopped (no commitment to miss), or already marked
    if not tracking.governs(policy, state):
        return ticket
    assert policy is not None
    marked = replace(state, forecast_breach=tracking.ForecastBreach(source, eta, now))
    raised, step = tracking.escalate(policy, marked, BREACH)
    fields = ("forecast_breach", "escalation_level") if step else ("forecast_breach",)
    updated = escalation.save_raised(conn, ticket, raised, fields, now)
    committed = state.commitment.isoformat()
    why = f"{source} expects restoration at {eta.isoformat()}, after the commitment {committed}"
    entries = [HistoryEntry(ticket.id, now, actor, etom.MONITOR_JEOPARDY, "forecastBreach", reason=why)]
    if step is not None:
        described = f"{tracking.describe(step)} (forecast breach)"
        entries.append(HistoryEntry(ticket.id, now, actor, etom.ESCALATE_END, "escalated", reason=described))
    history.append_many(conn, entries)
    if step is not None:
        escalation.take(conn, updated, step, policy, cause=esc.FORECAST, reason=why, actor=actor, now=now)
    return updated
