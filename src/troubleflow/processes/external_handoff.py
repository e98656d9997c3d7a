"""Handing a service problem to an external TMF656 service problem manager, inside the transaction of the
decision (docs/service-problems.md "External service problem manager"): when a report raises a problem
in a service domain the policy gives to an external manager (`delegation.service_domains`), our problem is
kept as the mirror and the TMF656 create is queued in the hand-off outbox (Create Service Trouble Report
1.4.6.1 in the manager, hand-off H4); a cancelled mirror queues the remote cancellation (1.3.7.3.2).

Only writes in the caller's transaction; the manager's answers and events are read by
processes/external_problems.py (which may import the service problem use cases: this module may not,
processes/delegation.py imports it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain import external_problem as xp
from troubleflow.domain import policy as p
from troubleflow.domain import service_problem as sp
from troubleflow.domain.inventory import Service
from troubleflow.errors import NotFound
from troubleflow.processes import handoffs
from troubleflow.storage import external_problems, history, inventory
from troubleflow.storage.handoffs import Request
from troubleflow.storage.history import HistoryEntry


def handed_over(
    conn: Connection, problem: sp.ServiceProblem, policy: p.Policy | None, actor: str, now: datetime
) -> xp.ExternalProblem | None:
    """A problem a report just raised goes to the external manager of its service domain, if the policy
    names one: our record and the queued `POST {endpoint}/serviceProblem`. None: it is managed here."""
    if policy is None or not policy.delegation.service_domains:
        return None
    specs = _specifications(conn, problem)
    target = xp.domain_for(policy.delegation.service_domains, problem.category, specs)
    if target is None:
        return None
    record = xp.ExternalProblem(
        problem_id=problem.id,
        domain_id=target.id,
        endpoint=target.endpoint,
        ticket_id=problem.raised_by,
        created_at=now,
        updated_at=now,
    )
    external_problems.add(conn, record)
    url = f"{target.endpoint}/serviceProblem"
    body = xp.creation(problem)
    handoffs.queue(conn, Request(xp.TARGET, "create", "POST", url, body, problem.raised_by, problem.id), now)
    why = f"handed to the external service problem manager of service domain {target.id} ({url})"
    history.append(
        conn,
        HistoryEntry(problem.id, now, actor, etom.CREATE_SERVICE_TROUBLE_REPORT, "handedOver", reason=why),
    )
    if problem.raised_by is not None:
        reason = f"service problem {problem.id} {why} (Create Service Trouble Report, 1.4.6.1)"
        history.append(
            conn,
            HistoryEntry(
                problem.raised_by, now, actor, etom.COORDINATE, "serviceProblemHandedOver", reason=reason
            ),
        )
    return record


def _specifications(conn: Connection, problem: sp.ServiceProblem) -> list[str]:
    """The service specifications of the affected services our inventory holds (others are skipped)."""
    found = []
    for ref in problem.affected_service:
        service_id = ref.get("id")
        if not isinstance(service_id, str):
            continue
        try:
            service = inventory.get(conn, "service", service_id)
        except NotFound:
            continue
        if isinstance(service, Service) and service.specification:
            found.append(service.specification)
    return found


def cancelled(conn: Connection, problem_id: str, reason: str, actor: str, now: datetime) -> None:
    """Our mirror was cancelled by its report's cancellation (1.3.7.3.2): the remote problem is cancelled
    by `PATCH {endpoint}/serviceProblem/{id}`, at once or as soon as the manager's 201 arrives."""
    record = external_problems.find(conn, problem_id, for_update=True)
    if record is None or record.cancel_reason is not None:
        return
    updated = replace(record, cancel_reason=reason, version=record.version + 1, updated_at=now)
    external_problems.save(conn, updated, previous=record)
    if updated.accepted:
        queue_cancel(conn, updated, now)
    theirs = record.remote_id or "(not yet accepted)"
    why = f"cancellation of remote service problem {theirs} in service domain {record.domain_id} requested"
    history.append(
        conn, HistoryEntry(problem_id, now, actor, etom.CANCEL, "remoteCancelRequested", reason=why)
    )


def queue_cancel(conn: Connection, record: xp.ExternalProblem, now: datetime) -> None:
    assert record.cancel_reason is not None
    url = f"{record.endpoint}/serviceProblem/{record.remote_id}"
    body = xp.cancellation(record.cancel_reason)
    request = Request(xp.TARGET, "cancel", "PATCH", url, body, record.ticket_id, record.problem_id)
    handoffs.queue(conn, request, now)
