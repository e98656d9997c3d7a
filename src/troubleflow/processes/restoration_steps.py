"""Correct & Recover Customer Problem (1.3.7.6), the steps around a restoration: the feasibility decision
(1.3.7.6.3), the validation of the solution (1.3.7.6.5) and the review of a major problem (1.3.7.6.7), and
reading a report's restoration trail. Each use case owns its transaction and locks the report first."""

from __future__ import annotations

from typing import Any

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import policy as p
from troubleflow.domain import restoration as rs
from troubleflow.domain.status import Status
from troubleflow.errors import Conflict, InvalidInput, NotFound
from troubleflow.processes import restoration_report as report
from troubleflow.processes.restoration import is_major, rules_of
from troubleflow.storage import history, tickets
from troubleflow.storage import restoration as store
from troubleflow.storage.db import Database


def decide_feasibility(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> report.Recorded:
    """Determine Customer Problem Resolution Feasibility (1.3.7.6.3): feasible or not, with the reason. Not
    feasible hands the report back to coordination (1.3.7.3.1): in progress, a re-planning task by policy."""
    feasible = values.get("feasible")
    if not isinstance(feasible, bool):
        raise InvalidInput("'feasible' must be true or false", field="feasible")
    reason = rs.text(values, "reason", required=True)
    assert reason is not None
    rules = rules_of(policy)
    with db.begin() as conn:
        current = report.open_report(conn, ticket_id)
        now = clock.now()
        decision = "feasible" if feasible else "notFeasible"
        record = store.add_record(
            conn, rs.Record(ticket_id, "", rs.Kind.FEASIBILITY, decision, reason, actor, now)
        )
        history.append(
            conn,
            report.entry(
                ticket_id,
                now,
                actor,
                etom.RESOLUTION_FEASIBILITY,
                "feasibilityDecided",
                f"{decision}: {reason}",
            ),
        )
        updated = current
        if not feasible:
            if current.status is not Status.IN_PROGRESS:
                moved = {
                    "status": Status.IN_PROGRESS,
                    "status_change_reason": f"restoration not feasible: {reason}",
                }
                updated = report.write(conn, current, moved, actor, now, policy)
            report.replan(
                conn,
                updated,
                rules.infeasible_task,
                "restoration not feasible: " + reason,
                policy,
                actor,
                now,
            )
        return report.Recorded(record, updated)


def validate_solution(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> report.Recorded:
    """Validate Customer Problem Solution (1.3.7.6.5): a test or the customer's confirmation that the
    latest successful restoration holds (`passed`) or not (`failed`: clearing stays blocked)."""
    passed = values.get("passed")
    if not isinstance(passed, bool):
        raise InvalidInput("'passed' must be true or false", field="passed")
    method = values.get("method", "test")
    if method not in ("test", "customerConfirmation"):
        raise InvalidInput("'method' must be 'test' or 'customerConfirmation'", field="method")
    description = rs.text(values, "description", required=True)
    assert description is not None
    with db.begin() as conn:
        current = report.open_report(conn, ticket_id)
        last = rs.latest_action(store.records(conn, ticket_id, rs.Kind.ACTION))
        if last is None or last.outcome not in rs.SUCCESSFUL:
            raise Conflict(
                f"report '{ticket_id}' has no successful restoration outcome to validate "
                f"(latest: {last.outcome if last else 'none'})"
            )
        now = clock.now()
        result = "passed" if passed else "failed"
        details = {"method": method, "restorationAction": last.id}
        record = store.add_record(
            conn, rs.Record(ticket_id, "", rs.Kind.VALIDATION, result, description, actor, now, details)
        )
        history.append(
            conn,
            report.entry(
                ticket_id,
                now,
                actor,
                etom.VALIDATE_SOLUTION,
                "solutionValidated",
                f"action {last.id} {result} ({method}): {description}",
            ),
        )
        return report.Recorded(record, current)


def review_major_problem(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> report.Recorded:
    """Review Major Problem (1.3.7.6.7): what happened, why, and the lessons, before the report closes."""
    summary = rs.text(values, "description", required=True)
    lessons = rs.text(values, "lessonsLearned", required=False)
    assert summary is not None
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        if current.status in (Status.CLOSED, Status.CANCELLED, Status.REJECTED):
            raise Conflict(f"report '{ticket_id}' is {current.status.value}: too late for its review")
        now = clock.now()
        details = {"major": is_major(current, policy)} | ({"lessonsLearned": lessons} if lessons else {})
        record = store.add_record(
            conn, rs.Record(ticket_id, "", rs.Kind.REVIEW, "reviewed", summary, actor, now, details)
        )
        history.append(
            conn,
            report.entry(ticket_id, now, actor, etom.REVIEW_MAJOR_PROBLEM, "majorProblemReviewed", summary),
        )
        return report.Recorded(record, current)


def list_records(db: Database, ticket_id: str, kind: rs.Kind | None = None) -> list[rs.Record]:
    with db.read() as conn:
        tickets.get(conn, ticket_id)  # NotFound for an unknown report
        return store.records(conn, ticket_id, kind)


def get_record(db: Database, ticket_id: str, kind: rs.Kind, record_id: str) -> rs.Record:
    for record in list_records(db, ticket_id, kind):
        if record.id == record_id:
            return record
    raise NotFound(f"report '{ticket_id}' has no {kind.value} '{record_id}'", field="id")
