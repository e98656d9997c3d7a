"""Service problem use cases (TMF656; eTOM 1.4.6 Service Problem Management as troubleflow's neighbour):
create, change, delete and read problems, raise one from a customer problem report (Create Service
Trouble Report 1.4.6.1, called from Track & Manage 1.3.7.3), and carry what a problem change means back to
the reports it explains (hand-off H5) in the same transaction: the links both ways, the restoration
estimate into `expectedResolutionDate` and jeopardy (1.3.7.3.4), and the clearing of a report once every
service problem that explains it is restored (`_advance_report`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import service_problem as sp
from troubleflow.domain import work_plan as wp
from troubleflow.domain.events import SERVICE_PROBLEM_API, EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.policy import Policy
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from troubleflow.processes import external_handoff, jeopardy_input, network_outage, reports, restoration
from troubleflow.processes.delegation import problem_href, raised_entry, write_change, write_new
from troubleflow.storage import history, outbox, service_problems, tasks, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

# The steps from an open report's status to cleared (TMF `resolved`) through the TMF621 lifecycle.
_TO_CLEARED: dict[Status, tuple[Status, ...]] = {
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.PENDING: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.HELD: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.IN_PROGRESS: (Status.RESOLVED,),
}


def create_problem(
    db: Database, values: dict[str, Any], *, clock: Clock, actor: str, policy: Policy | None = None
) -> sp.ServiceProblem:
    """A service problem reported to troubleflow's TMF656 API (acknowledged); the reports it names in
    `troubleTicket` are linked to it both ways."""
    with db.begin() as conn:
        now = clock.now()
        problem, event = sp.open_problem(values, problem_id=new_id(), now=now)
        write_new(conn, problem, event, actor, now)
        _followed(conn, None, problem, actor, now, policy)
    _outage_followed(db, None, problem, clock, policy)
    return problem


def change_problem(
    db: Database,
    problem_id: str,
    compute: Callable[[sp.ServiceProblem], dict[str, Any]],
    *,
    clock: Clock,
    actor: str,
    if_match: int | None = None,
    policy: Policy | None = None,
) -> sp.ServiceProblem:
    """Apply a change computed from the current problem, as one versioned write (If-Match checked), and
    what it means for the reports it explains, in the same transaction."""
    with db.begin() as conn:
        current = service_problems.get(conn, problem_id, for_update=True)
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(
                f"service problem '{problem_id}' is at version {current.version}, not {if_match} (If-Match)"
            )
        now = clock.now()
        updated, events = sp.change_problem(current, compute(current), now=now)
        if not events:
            return current
        write_change(conn, current, updated, events, actor, now)
        _followed(conn, current, updated, actor, now, policy)
    _outage_followed(db, current, updated, clock, policy)
    return updated


def _outage_followed(
    db: Database,
    before: sp.ServiceProblem | None,
    after: sp.ServiceProblem,
    clock: Clock,
    policy: Policy | None,
) -> None:
    """A network-side problem naming affected services is a mass outage (processes/network_outage.py),
    declared, updated or restored once the problem's change is committed."""
    href = problem_href(after.id)
    network_outage.followed(db, before, after, clock=clock, policy=policy, href=href)


def delete_problem(
    db: Database, problem_id: str, *, clock: Clock, actor: str, if_match: int | None = None
) -> None:
    """Administrative removal: the reports it explained lose their link (their trail keeps it)."""
    with db.begin() as conn:
        current = service_problems.get(conn, problem_id, for_update=True)
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(f"service problem '{problem_id}' is at version {current.version}")
        now = clock.now()
        service_problems.remove(conn, problem_id)
        doc = service_problems.encode(current)
        outbox.add(conn, [TicketEvent(EventKind.DELETED, problem_id)], doc, now, SERVICE_PROBLEM_API)
        history.append(
            conn,
            HistoryEntry(
                problem_id, now, actor, etom.SUPPORT_READINESS, "deleted", old_status=current.status
            ),
        )
        for ticket_id in current.trouble_ticket:
            _unlink_report(conn, ticket_id, current, actor, now, None)


def raise_for_report(
    db: Database,
    ticket_id: str,
    *,
    values: dict[str, Any] | None = None,
    problem_id: str | None = None,
    clock: Clock,
    actor: str,
    policy: Policy | None = None,
) -> tuple[sp.ServiceProblem, bool]:
    """Create Service Trouble Report (1.4.6.1) for an open report: a new service problem from the report
    (H4: its id, services, symptom, priority, commitment; `values` add to or override them), or link the
    existing problem `problem_id`. Returns the problem and whether it is new."""
    with db.begin() as conn:
        ticket = tickets.get_for_update(conn, ticket_id)
        _check_open(ticket)
        now = clock.now()
        if problem_id is None:
            problem, event = sp.from_report(ticket, problem_id=new_id(), now=now, given=values)
            write_new(conn, problem, event, actor, now, why=f"raised by report {ticket_id}")
            _followed(conn, None, problem, actor, now, policy, why="raised by Track & Manage")
            external_handoff.handed_over(conn, problem, policy, actor, now)  # a service domain's manager
            return problem, True
        current = service_problems.get(conn, problem_id, for_update=True)
        if current.status in sp.DROPPED:
            raise Conflict(f"service problem '{problem_id}' is {current.status.value}: it explains nothing")
        if ticket_id in current.trouble_ticket:
            return current, False
        updated, events = sp.change_problem(
            current, {"trouble_ticket": sp.linked(current, (ticket_id,))}, now=now
        )
        write_change(conn, current, updated, events, actor, now)
        _followed(conn, current, updated, actor, now, policy, why="existing problem linked by Track & Manage")
        return updated, False


def _check_open(ticket: TroubleTicket) -> None:
    if ticket.status not in WATCHED_STATUSES:
        raise Conflict(
            f"report '{ticket.id}' is {ticket.status.value}: only an open report is explained by a "
            "service problem"
        )


# -- what a problem change means for its reports (H5) ------------------------------------------------------


def _followed(
    conn: Connection,
    before: sp.ServiceProblem | None,
    after: sp.ServiceProblem,
    actor: str,
    now: datetime,
    policy: Policy | None,
    why: str = "named in the service problem's troubleTicket",
) -> None:
    """Links added or removed reach the reports; a new estimate reaches every linked report; a problem
    no longer open lets each of its reports move on when nothing else holds it."""
    old = before.trouble_ticket if before is not None else ()
    added = [t for t in after.trouble_ticket if t not in old]
    for ticket_id in added:
        _link_report(conn, ticket_id, after, actor, now, policy, why)
    for ticket_id in (t for t in old if t not in after.trouble_ticket):
        _unlink_report(conn, ticket_id, after, actor, now, policy)
    eta_moved = before is None or after.expected_resolution_date != before.expected_resolution_date
    for ticket_id in after.trouble_ticket if eta_moved else added:
        _estimate_to_report(conn, ticket_id, actor, now, policy)
    settled = not after.is_open and (before is None or before.is_open or bool(added))
    for ticket_id in after.trouble_ticket if settled else ():
        _advance_report(conn, ticket_id, actor, now, policy)


def _link_report(
    conn: Connection,
    ticket_id: str,
    problem: sp.ServiceProblem,
    actor: str,
    now: datetime,
    policy: Policy | None,
    why: str,
) -> None:
    try:
        ticket = tickets.get_for_update(conn, ticket_id)
    except NotFound:
        raise InvalidInput(
            f"troubleTicket names '{ticket_id}', which is no trouble ticket", field="troubleTicket"
        ) from None
    _check_open(ticket)
    related = sp.with_problem(ticket, problem.id, problem_href(problem.id))
    _change_report(conn, ticket, {"related_entity": related}, actor, now, policy)
    history.append(conn, raised_entry(ticket_id, problem.id, why, actor, now))


def _unlink_report(
    conn: Connection,
    ticket_id: str,
    problem: sp.ServiceProblem,
    actor: str,
    now: datetime,
    policy: Policy | None,
) -> None:
    try:
        ticket = tickets.get_for_update(conn, ticket_id)
    except NotFound:
        return  # the report was deleted meanwhile
    _change_report(
        conn, ticket, {"related_entity": sp.without_problem(ticket, problem.id)}, actor, now, policy
    )
    reason = f"service problem {problem.id} no longer explains the report"
    history.append(
        conn, HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "serviceProblemDelinked", reason=reason)
    )
    _advance_report(conn, ticket_id, actor, now, policy)


def _estimate_to_report(
    conn: Connection, ticket_id: str, actor: str, now: datetime, policy: Policy | None
) -> None:
    """Estimate Time For Restoring Service (1.4.6.1.3) flows back: the report expects restoration when
    the last of its open service problems does; an estimate past the commitment is a forecast breach."""
    ticket = tickets.get_for_update(conn, ticket_id)
    if ticket.status not in WATCHED_STATUSES:
        return
    problems = [p for p in _problems_of(conn, ticket_id) if p.is_open and p.expected_resolution_date]
    if not problems:
        return
    latest = max(problems, key=lambda p: (p.expected_resolution_date, p.id))
    eta = latest.expected_resolution_date
    assert eta is not None
    if eta != ticket.expected_resolution_date:
        ticket = _change_report(conn, ticket, {"expected_resolution_date": eta}, actor, now, policy)
        reason = f"service problem {latest.id} expects restoration at {eta.isoformat()}"
        history.append(
            conn,
            HistoryEntry(
                ticket_id, now, actor, etom.ESTIMATE_RESTORATION, "restorationEstimated", reason=reason
            ),
        )
    jeopardy_input.eta_reported(conn, ticket, eta, f"service problem {latest.id}", policy, actor, now)


def _advance_report(
    conn: Connection, ticket_id: str, actor: str, now: datetime, policy: Policy | None
) -> None:
    """When every service problem explaining an open report is restored (resolved or closed; a cancelled
    or rejected one, a false alarm, counts for nothing), Track & Manage clears the report (TMF `resolved`)
    with a resolution naming the problems, in the transaction of the last problem's change. A report
    whose own plan still has a mandatory task open is not cleared: the trail says why.

    The one place a report moves on because of its service problems: a solution validation before
    clearing (Validate Customer Problem Solution, 1.3.7.6.5) and an open product order request hold the
    report the same way: it waits, and the trail says for what."""
    try:
        ticket = tickets.get_for_update(conn, ticket_id)
    except NotFound:
        return
    problems = _problems_of(conn, ticket_id)
    if ticket.status not in _TO_CLEARED or not sp.restored_all(problems):
        return
    names = ", ".join(
        f"{p.id}" + (f" ({p.name})" if p.name else "") for p in problems if p.status in sp.RESTORED
    )
    resolution = f"cleared: service problems resolved: {names}"
    try:
        wp.check_clearable(tasks.for_ticket(conn, ticket_id).values())
        restoration.check_clearable(conn, ticket, policy)  # validated, no open product order (1.3.7.6)
    except Conflict as blocked:
        reason = f"service problems resolved ({names}) but the report is not cleared: {blocked.message}"
        history.append(
            conn, HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "clearingBlocked", reason=reason)
        )
        return
    history.append(
        conn, HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "serviceProblemsResolved", reason=names)
    )
    for status in _TO_CLEARED[ticket.status]:
        reason = resolution if status is Status.RESOLVED else "service problems being resolved"
        ticket = _change_report(
            conn, ticket, {"status": status, "status_change_reason": reason}, actor, now, policy
        )


def _problems_of(conn: Connection, ticket_id: str) -> list[sp.ServiceProblem]:
    return service_problems.get_many(conn, service_problems.ids_for_ticket(conn, ticket_id))


def _change_report(
    conn: Connection,
    ticket: TroubleTicket,
    changes: dict[str, Any],
    actor: str,
    now: datetime,
    policy: Policy | None,
) -> TroubleTicket:
    updated = reports.apply_change(conn, ticket, changes, actor=actor, now=now, policy=policy)
    if updated is None:  # the row is locked by this transaction: only a bug gets here
        raise Conflict(f"ticket '{ticket.id}' was changed concurrently; try again")
    return updated


# -- reads -------------------------------------------------------------------------------------------------


def get_problem(db: Database, problem_id: str) -> sp.ServiceProblem:
    with db.read() as conn:
        return service_problems.get(conn, problem_id)


def list_problems(db: Database, statuses: tuple[str, ...] = ()) -> list[sp.ServiceProblem]:
    with db.read() as conn:
        return service_problems.all_problems(conn, statuses)


def problems_of_report(db: Database, ticket_id: str) -> list[sp.ServiceProblem]:
    with db.read() as conn:
        tickets.get(conn, ticket_id)
        return _problems_of(conn, ticket_id)


def problem_history(db: Database, problem_id: str) -> list[HistoryEntry]:
    with db.read() as conn:
        entries = history.for_ticket(conn, problem_id)
    if not entries:
        raise NotFound(f"no service problem with id '{problem_id}'", field="id")
    return entries
