"""Escalate Customer Problem (1.3.7.3.3) beyond the matrix lookup: a manual step a NOC engineer takes, and
what a step tells the recipients of its notification list (rendered once, sent by the worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from troubleflow.domain import policy as p
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput

# Why a step was taken: a jeopardy threshold, a delegate's ETA past the commitment, or by hand.
THRESHOLD, FORECAST, MANUAL = "threshold", "forecast", "manual"


@dataclass(frozen=True, slots=True)
class Notice:
    """One recipient's notification of a step."""

    channel: p.Channel
    address: str
    subject: str
    body: str


def manual_step(
    policy: p.Policy | None,
    priority: str,
    current: int,
    level: int,
    *,
    role: str | None = None,
    workgroup: str | None = None,
    notify: str | None = None,
) -> p.EscalationStep:
    """A step to `level` taken by hand. It only raises (Conflict otherwise); role, workgroup and list
    default to the matrix cell of the report's priority at that level, when the policy has one."""
    if level < 1:
        raise InvalidInput("an escalation level is a positive number", field="level")
    if level <= current:
        raise Conflict(f"the report is already escalated to level {current}; escalation never lowers")
    cell = _cell(policy, priority, level)
    if notify is not None and policy is not None:
        p.notification_list(policy, notify)  # InvalidInput for an unknown list
    if workgroup is not None and policy is not None and workgroup not in {w.id for w in policy.workgroups}:
        raise InvalidInput(f"the policy has no workgroup '{workgroup}'", field="workgroup")
    return p.EscalationStep(
        priority=priority,
        threshold=cell.threshold if cell else 0,
        level=level,
        workgroup=workgroup or (cell.workgroup if cell else None),
        role=role or (cell.role if cell else None),
        notify=notify or (cell.notify if cell else None),
    )


def _cell(policy: p.Policy | None, priority: str, level: int) -> p.EscalationStep | None:
    if policy is None:
        return None
    cells = [s for s in policy.escalation if s.priority == priority and s.level == level]
    return min(cells, key=lambda s: s.threshold, default=None)


def facts(
    ticket: TroubleTicket, step: p.EscalationStep, cause: str, reason: str, now: datetime
) -> dict[str, Any]:
    """What a notification says, as plain data (the webhook body is rendered from it at the API edge)."""
    state = ticket.tracking
    return {
        "ticket_id": ticket.id,
        "name": ticket.name,
        "level": step.level,
        "threshold": step.threshold,
        "cause": cause,
        "role": step.role,
        "workgroup": step.workgroup,
        "list_id": step.notify,
        "priority": state.priority if state else ticket.priority,
        "commitment": state.commitment.isoformat() if state and state.commitment else None,
        "reason": reason,
        "at": now.isoformat(),
    }


def notices(
    ticket: TroubleTicket, step: p.EscalationStep, recipients: p.NotificationList, reason: str
) -> list[Notice]:
    """One notice per recipient of the step's list, subject and body rendered once for all of them."""
    state = ticket.tracking
    priority = state.priority if state else ticket.priority or "-"
    subject = f"[troubleflow] {ticket.id} escalated to level {step.level} ({priority}): {ticket.name or ''}"
    commitment = state.commitment.isoformat() if state and state.commitment else "clock stopped"
    lines = [
        f"Customer problem report {ticket.id} was escalated to level {step.level}.",
        "",
        f"Report:       {ticket.name or '-'}",
        f"Priority:     {priority}",
        f"Status:       {ticket.status.value}",
        f"Commitment:   restore by {commitment}",
        f"Reason:       {reason}",
        f"Role:         {step.role or '-'}",
        f"Workgroup:    {step.workgroup or '-'}",
        f"List:         {recipients.name} ({recipients.id})",
    ]
    body = "\n".join(lines) + "\n"
    return [Notice(r.channel, r.address, subject.strip()[:500], body) for r in recipients.recipients]
