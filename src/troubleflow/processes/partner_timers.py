"""Durable timers following a partner's ticket (Track Business Partner Problem, 1.6.10.4; docs/partners.md),
fired by `processes/timers.py` in its transaction with the report row locked. Neither changes the report.
Kinds (payload `{"record": <partner ticket record id>}`):
- `partnerPoll`: every `delegation.poll_interval`, GET the partner's ticket through the hand-off outbox
  unless the partner told us something (an event) since the last poll; re-armed while the ticket is open.
- `partnerSilence`: at the partner's commitment, a partner ticket still open whose partner has said
  nothing new for a poll interval is escalated to the partner managers (`delegation.silence_notify`)
  through the notification outbox, once per report; while the partner keeps talking it is checked again
  one poll interval later."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from troubleflow.domain import escalation as esc
from troubleflow.domain import etom
from troubleflow.domain import partner_ticket as pt
from troubleflow.domain import policy as p
from troubleflow.domain.partner_ticket import PartnerTicket
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import NotFound
from troubleflow.processes import delegation_trail, handoffs
from troubleflow.storage import escalations, history, notifications, partner_tickets
from troubleflow.storage.escalations import Step
from troubleflow.storage.handoffs import Request
from troubleflow.storage.timers import ArmRequest, Timer

POLL = "partnerPoll"
SILENCE = "partnerSilence"
KINDS = {POLL: etom.TRACK_AND_MANAGE, SILENCE: etom.ESCALATE_END}
SILENCE_LEVEL = 0  # a functional escalation to the partner managers, beside the matrix levels 1..n
CAUSE = "partnerSilence"


def follow(record: PartnerTicket, interval: timedelta, now: datetime) -> list[ArmRequest]:
    """The timers following a newly accepted partner ticket."""
    arms = [ArmRequest(record.ticket_id, POLL, KINDS[POLL], now + interval, {"record": record.id})]
    if record.commitment is not None:
        arms.append(
            ArmRequest(record.ticket_id, SILENCE, KINDS[SILENCE], record.commitment, {"record": record.id})
        )
    return arms


def fire(
    conn: Connection, report: TroubleTicket, item: Timer, policy: p.Policy | None, actor: str, now: datetime
) -> list[ArmRequest]:
    """Fire one timer of these kinds; returns the timers it re-arms."""
    try:
        record = partner_tickets.get(conn, str(item.payload["record"]), for_update=True)
    except NotFound:  # never deleted today; a timer must not block the batch it is fired in
        return []
    interval = (policy.delegation if policy is not None else p.Delegation()).poll_interval
    if not record.is_open or record.cancel_reason is not None:
        return []
    heard_lately = record.last_heard_at is not None and record.last_heard_at > item.due_at - interval
    again = [ArmRequest(report.id, item.kind, item.process_id, now + interval, item.payload)]
    if item.kind == POLL:
        if not heard_lately and record.partner_ticket_id is not None:
            url = f"{record.endpoint}/troubleTicket/{record.partner_ticket_id}"
            handoffs.queue(conn, Request(pt.TARGET, "retrieve", "GET", url, None, report.id, record.id), now)
        return again
    if record.silence_escalated_at is not None:
        return []
    if heard_lately:
        return again
    _escalate(conn, report, record, policy, actor, now)
    return []


def _escalate(
    conn: Connection,
    report: TroubleTicket,
    record: PartnerTicket,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> None:
    list_id = policy.delegation.silence_notify if policy is not None else None
    committed = record.commitment.isoformat() if record.commitment else "-"
    heard = record.last_heard_at.isoformat() if record.last_heard_at else "never"
    why = (
        f"partner {record.partner_id} ticket {record.partner_ticket_id or '(not accepted)'} is "
        f"{record.partner_status or 'unanswered'} past its commitment {committed}; last heard {heard}"
    )
    step = p.EscalationStep(
        report.priority or "-", 100, SILENCE_LEVEL, "partner-management", "partner-manager", list_id
    )
    row = Step(0, report.id, SILENCE_LEVEL, CAUSE, 100, step.role, step.workgroup, list_id, actor, why, now)
    escalation_id = escalations.add(conn, row)
    if escalation_id is None:
        return  # this report's partner managers were told already
    partner_tickets.save(conn, _marked(record, now), previous=record)
    history.append(
        conn,
        delegation_trail.trail(
            report.id, now, actor, etom.ESCALATE_END, "partnerSilent", etom.PARTNER_TRACK, why
        ),
    )
    if list_id is None or policy is None:
        return
    recipients = p.notification_list(policy, list_id)
    subject = f"[troubleflow] {report.id}: partner {record.partner_id} silent past its commitment"
    body = f"Customer problem report {report.id} ({report.name or '-'}).\n\n{why}.\n"
    notices = [esc.Notice(r.channel, r.address, subject[:500], body) for r in recipients.recipients]
    facts = esc.facts(report, step, CAUSE, why, now)
    notifications.add_many(conn, escalation_id, report.id, SILENCE_LEVEL, list_id, notices, facts, now)


def _marked(record: PartnerTicket, now: datetime) -> PartnerTicket:
    from dataclasses import replace

    return replace(record, silence_escalated_at=now, updated_at=now, version=record.version + 1)
