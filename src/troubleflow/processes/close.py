"""Close Customer Problem Report (1.3.7.4) use cases: close a cleared report as an agent, record the
customer's answer (1.3.7.4.1: fixed closes it, not fixed reopens it), record an improvement opportunity
(1.3.7.4.5), and the restoration figures. Status changes go through `reports.change_report`, the one
path every report change takes."""

from __future__ import annotations

from typing import Any

from troubleflow.clock import Clock
from troubleflow.domain import close, etom
from troubleflow.domain.closure import Answer, Improvement
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.policy import Policy
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict
from troubleflow.processes import reports
from troubleflow.storage import history, metrics, outbox, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry


def close_report(
    db: Database,
    ticket_id: str,
    *,
    clock: Clock,
    actor: str,
    policy: Policy | None = None,
    root_cause: str | None = None,
    resolution: str | None = None,
    reason: str | None = None,
) -> TroubleTicket:
    """An agent closes a cleared report (`closureMethod` closedByAgent), optionally giving the root
    cause and resolution in the same write; refused while the policy's requirements are unmet."""

    def compute(current: TroubleTicket) -> dict[str, Any]:
        _check_cleared(current, "closed")
        given = {close.ROOT_CAUSE: root_cause, close.RESOLUTION: resolution}
        extensions = current.extensions | {k: v for k, v in given.items() if v is not None}
        return {"status": Status.CLOSED, "status_change_reason": reason, "extensions": extensions}

    return reports.change_report(db, ticket_id, compute, clock=clock, actor=actor, policy=policy)


def confirm(
    db: Database,
    ticket_id: str,
    answer: Answer,
    *,
    clock: Clock,
    actor: str,
    policy: Policy | None = None,
) -> TroubleTicket:
    """Contact Customer (1.3.7.4.1): the customer's answer on a cleared report. Fixed closes it
    (`closureMethod` confirmed, validation permitting); not fixed reopens it (`inProgress`, reopen
    counted, the SLA clock resumes). Either way the answer and its score are kept."""
    close.check_answer(answer)

    def compute(current: TroubleTicket) -> dict[str, Any]:
        _check_cleared(current, "answered")
        if answer.fixed:
            return {"status": Status.CLOSED, "status_change_reason": "customer confirmed the fix"}
        why = "customer says not fixed" + (f": {answer.comment}" if answer.comment else "")
        return {"status": Status.IN_PROGRESS, "status_change_reason": why}

    return reports.change_report(
        db, ticket_id, compute, clock=clock, actor=actor, policy=policy, answer=answer
    )


def _check_cleared(current: TroubleTicket, verb: str) -> None:
    if current.status is not Status.RESOLVED:
        raise Conflict(
            f"report '{current.id}' is {current.status.value}: "
            f"only a cleared (resolved) report can be {verb}",
            field="status",
        )


def record_improvement(db: Database, ticket_id: str, text: str, *, clock: Clock, actor: str) -> Improvement:
    """Communicate Customer Problem Improvement Opportunity (1.3.7.4.5): append a lesson learned to the
    report, in any status (also once closed); the audit trail and subscribers hear of it."""
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        now = clock.now()
        updated, item = close.improve(current, text, actor, now)
        doc = tickets.save(conn, updated, previous=current)
        if doc is None:  # the row is locked for this transaction (SQLite: one writer), so never expected
            raise Conflict(f"ticket '{ticket_id}' was changed concurrently; try again")
        history.append(
            conn,
            HistoryEntry(
                ticket_id,
                now,
                actor,
                etom.IMPROVEMENT_OPPORTUNITY,
                "improvementRecorded",
                reason=item.text,
                fields=("improvement_opportunity",),
            ),
        )
        event = TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket_id, fields=("improvement_opportunity",))
        outbox.add(conn, [event], doc, now)
    return item


def restoration_metrics(db: Database) -> close.RestorationMetrics:
    """MTTR, reopen rate and satisfaction over every report; cancelled reports are left out and counted
    (Cancel Customer Problem, 1.3.7.3.2: cancelled reports are excluded from restoration metrics)."""
    with db.read() as conn:
        cancelled = metrics.count_in(conn, Status.CANCELLED)
        found = metrics.reports_except(conn, frozenset({Status.CANCELLED}))
        return close.restoration_metrics(found, cancelled)
