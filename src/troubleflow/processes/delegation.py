"""Writing service problems inside a caller's transaction, and what a customer problem report does to the
service problems it delegated to: raise one when diagnosis puts the root cause in the service layer
(Track & Manage → Create Service Trouble Report, 1.3.7.3.1 → 1.4.6.1, hand-off H4) and cancel or de-link
them when the report is cancelled (Cancel Customer Problem, 1.3.7.3.2).

Every write here goes with its outbox events (TMF656, api `serviceProblem`) and its audit entries (keyed
by the problem's id, carrying the eTOM process) in the caller's transaction. The report use cases call in
here; nothing here calls back into them (processes/service_problems.py does that)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain import policy as p
from troubleflow.domain import service_problem as sp
from troubleflow.domain.events import SERVICE_PROBLEM_API, EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, NotFound
from troubleflow.processes import external_handoff
from troubleflow.storage import history, outbox, service_problems, tickets
from troubleflow.storage.history import HistoryEntry

API_ROOT = "/tmf-api/serviceProblemManagement/v4"


def problem_href(problem_id: str) -> str:
    """The root-relative href a report keeps for a problem (the use cases do not know the public URL)."""
    return f"{API_ROOT}/serviceProblem/{problem_id}"


def write_new(
    conn: Connection,
    problem: sp.ServiceProblem,
    event: TicketEvent,
    actor: str,
    now: datetime,
    why: str | None = None,
) -> None:
    """Store a new problem, its ServiceProblemCreateEvent and its first audit entry (1.4.6.1)."""
    doc = service_problems.add(conn, problem)
    outbox.add(conn, [event], doc, now, SERVICE_PROBLEM_API)
    process, status = etom.CREATE_SERVICE_TROUBLE_REPORT, problem.status.value
    entry = HistoryEntry(problem.id, now, actor, process, "created", new_status=status, reason=why)
    history.append(conn, entry)


def write_change(
    conn: Connection,
    current: sp.ServiceProblem,
    updated: sp.ServiceProblem,
    events: Sequence[TicketEvent],
    actor: str,
    now: datetime,
) -> None:
    """Store a changed problem (the caller holds its row) with its events and audit entries."""
    if not events:
        return
    doc = service_problems.save(conn, updated, previous=current)
    if doc is None:
        raise Conflict(f"service problem '{current.id}' was changed concurrently; try again")
    outbox.add(conn, events, doc, now, SERVICE_PROBLEM_API)
    history.append_many(conn, _entries(updated.id, events, actor, now))


def _entries(problem_id: str, events: Sequence[TicketEvent], actor: str, now: datetime) -> list[HistoryEntry]:
    entries = []
    for e in events:
        if e.kind is EventKind.ATTRIBUTES_CHANGED:
            entries.append(
                HistoryEntry(problem_id, now, actor, etom.TRACK_SERVICE_PROBLEM, "changed", fields=e.fields)
            )
        elif e.kind is EventKind.STATUS_CHANGED:
            process = (
                etom.CLOSE_SERVICE_TROUBLE_REPORT if e.new_status == "closed" else etom.TRACK_SERVICE_PROBLEM
            )
            entries.append(
                HistoryEntry(
                    problem_id,
                    now,
                    actor,
                    process,
                    "statusChanged",
                    old_status=e.old_status,
                    new_status=e.new_status,
                    reason=e.reason,
                )
            )
    return entries


# -- the report's side -------------------------------------------------------------------------------------


def begin(
    conn: Connection, ticket: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime
) -> TroubleTicket:
    """At intake, before the new report is stored: a report whose category lies in the service layer
    (policy `categories[].layer: service`) raises a service problem (1.4.6.1) and names it among its related
    entities. A report cleared at first contact or cancelled as a false report delegates nothing."""
    if policy is None or ticket.tracking is None or ticket.status not in WATCHED_STATUSES:
        return ticket
    if not p.in_service_layer(policy, ticket.tracking.category):
        return ticket
    problem, event = sp.from_report(ticket, problem_id=new_id(), now=now)
    write_new(
        conn,
        problem,
        event,
        actor,
        now,
        why=f"raised by report {ticket.id} (category {ticket.tracking.category})",
    )
    history.append(conn, raised_entry(ticket.id, problem.id, "category in the service layer", actor, now))
    external_handoff.handed_over(conn, problem, policy, actor, now)  # a service domain's own manager
    return replace(ticket, related_entity=sp.with_problem(ticket, problem.id, problem_href(problem.id)))


def raised_entry(ticket_id: str, problem_id: str, why: str, actor: str, now: datetime) -> HistoryEntry:
    """The report's audit entry for a delegation (Coordinate Customer Problem, 1.3.7.3.1 → 1.4.6.1)."""
    reason = f"service problem {problem_id} (Create Service Trouble Report, 1.4.6.1): {why}"
    return HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "serviceProblemRaised", reason=reason)


def report_cancelled(
    conn: Connection, ticket: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime
) -> None:
    """Cancel Customer Problem (1.3.7.3.2) cascades to the open service problems the report delegated to:
    with `delegation.on_cancel: cancel` a problem this report raised that explains no other open report is
    cancelled (a false alarm now); every other one is de-linked and stays open for the reports it still
    explains. The cancelled report keeps its `relatedEntity` to them as the record of the delegation."""
    ids = service_problems.ids_for_ticket(conn, ticket.id)
    if not ids:
        return
    mode = policy.delegation.on_cancel if policy is not None else "delink"
    why = f"customer problem report {ticket.id} cancelled" + (
        f": {ticket.status_change_reason}" if ticket.status_change_reason else ""
    )
    for problem in service_problems.get_many(conn, ids, for_update=True):
        if not problem.is_open:
            continue
        others = [t for t in problem.trouble_ticket if t != ticket.id]
        if mode == "cancel" and problem.raised_by == ticket.id and not _open_reports(conn, others):
            changes: dict[str, object] = {"status": sp.S.CANCELLED, "status_change_reason": why}
            action = "serviceProblemCancelled"
        else:
            changes = {"trouble_ticket": sp.unlinked(problem, ticket.id)}
            action = "serviceProblemDelinked"
        updated, events = sp.change_problem(problem, changes, now=now)
        write_change(conn, problem, updated, events, actor, now)
        reason = f"service problem {problem.id}: {why}"
        history.append(conn, HistoryEntry(ticket.id, now, actor, etom.CANCEL, action, reason=reason))
        if action == "serviceProblemCancelled":  # handed to an external manager: cancel it there too
            external_handoff.cancelled(conn, problem.id, why, actor, now)


def _open_reports(conn: Connection, ticket_ids: list[str]) -> list[str]:
    """The open ones among these reports (read, not locked: only the problem's row is changed here)."""
    found = []
    for ticket_id in ticket_ids:
        try:
            found.append(tickets.get(conn, ticket_id))
        except NotFound:  # deleted meanwhile (administrative removal)
            continue
    return [t.id for t in found if t.status in WATCHED_STATUSES]
