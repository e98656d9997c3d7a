"""Delegation to suppliers/partners (Track & Manage 1.3.7.3 → S/P Problem Reporting & Management 1.6.10;
docs/partners.md). Submit a report's partner-owned part as a TMF621 ticket on the partner (1.6.10.3) through
the hand-off outbox, follow the partner's ticket (1.6.10.4: hub events to our listener, polling as a
fallback), take its resolution into our report (1.6.10.5) and cascade our cancellation (1.6.10.6).

Our report stays ours (T&M keeps coordination): the audit entries carry our process (1.3.7.3.x) and name the
neighbour process (1.6.10.x) they delegate to. `submit`, `heard` and the list/read functions own their
transaction; `delegate_at_intake` and `report_changed` run inside the report use cases' transactions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import partner_ticket as pt
from troubleflow.domain import policy as p
from troubleflow.domain.ids import new_id
from troubleflow.domain.inventory import Partner, Product, references_of
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.partner_ticket import PartnerTicket, Remote
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput, NotFound
from troubleflow.processes import delegation_trail, handoffs, jeopardy_input, partner_report
from troubleflow.processes import partner_timers as ptimers
from troubleflow.storage import history, inventory, partner_tickets, tickets, timers
from troubleflow.storage.db import Database
from troubleflow.storage.handoffs import Handoff, Request

ACTOR = "troubleflow"
LISTENER = "/tmf-api/troubleflow/v1/listener/partner/{partner_id}"


def _defaults(policy: p.Policy | None) -> p.Delegation:
    return policy.delegation if policy is not None else p.Delegation()


# -- submit (1.6.10.3) --------------------------------------------------------------------------------------


def submit(
    db: Database,
    ticket_id: str,
    partner_id: str | None,
    *,
    clock: Clock,
    actor: str,
    policy: p.Policy | None,
) -> PartnerTicket:
    """Submit report `ticket_id` to the partner owning its product (or `partner_id`): the ticket is queued
    for the partner's TMF621 API in this transaction. NotFound for an unknown report or partner;
    Conflict when the report is not open, no partner owns what it names, the partner has no endpoint, or
    it was already submitted to that partner; InvalidInput when several partners do and none is named."""
    with db.begin() as conn:
        report = tickets.get_for_update(conn, ticket_id)
        if report.status not in WATCHED_STATUSES:
            raise Conflict(f"report '{ticket_id}' is {report.status.value}: it is not delegated any more")
        partner, products = _owner(conn, report, partner_id)
        if partner.endpoint is None:
            raise Conflict(
                f"partner '{partner.id}' has no TMF621 endpoint in the inventory: nothing to submit to",
                field="partnerId",
            )
        return _submit(conn, report, partner, products, policy, actor, clock.now(), forecast=True)


def _owner(
    conn: Connection, report: TroubleTicket, wanted: str | None
) -> tuple[Partner, tuple[Product, ...]]:
    """The partner to submit to and its products the report names (from the inventory as it is now)."""
    config = inventory.resolve(conn, references_of(report))
    owned = {q.id: q for q in config.partners}
    if wanted is not None:
        partner = inventory.get(conn, "partner", wanted)
        assert isinstance(partner, Partner)
        return partner, tuple(x for x in config.products if x.partner_id == partner.id)
    if not owned:
        raise Conflict(
            f"no partner owns a product report '{report.id}' names; name one with 'partnerId'",
            field="partnerId",
        )
    if len(owned) > 1:
        raise InvalidInput(
            f"partners {', '.join(sorted(owned))} own products of report '{report.id}': name one with "
            "'partnerId'",
            field="partnerId",
        )
    partner = next(iter(owned.values()))
    return partner, tuple(x for x in config.products if x.partner_id == partner.id)


def delegate_at_intake(
    conn: Connection, report: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime
) -> None:
    """At creation (after the report row is written): a report naming a product owned by a partner with
    a TMF621 endpoint is submitted to it at once, when the policy says so (`delegation.auto_submit`)."""
    if policy is None or not policy.delegation.auto_submit or report.status not in WATCHED_STATUSES:
        return
    config = inventory.resolve(conn, references_of(report))
    for partner in config.partners:
        if partner.endpoint is not None:
            products = tuple(x for x in config.products if x.partner_id == partner.id)
            _submit(conn, report, partner, products, policy, actor, now, forecast=False)


def _submit(
    conn: Connection,
    report: TroubleTicket,
    partner: Partner,
    products: tuple[Product, ...],
    policy: p.Policy | None,
    actor: str,
    now: datetime,
    *,
    forecast: bool,
) -> PartnerTicket:
    """Record and queue the submission. With `forecast`, the partner's agreed restoration time is at once
    a delegate's forecast (1.3.7.3.4; at intake the report is still being created: it is reported when
    the partner accepts)."""
    assert partner.endpoint is not None
    commitment = pt.commitment_of(partner, now)
    record = PartnerTicket(
        id=new_id(),
        ticket_id=report.id,
        partner_id=partner.id,
        endpoint=partner.endpoint,
        commitment=commitment,
        created_at=now,
        updated_at=now,
    )
    partner_tickets.add(conn, record)
    body = pt.submission(report, partner, products, commitment)
    url = f"{partner.endpoint}/troubleTicket"
    handoffs.queue(conn, Request(pt.TARGET, "create", "POST", url, body, report.id, record.id), now)
    agreed = f"restore by {commitment.isoformat()}" if commitment else "no restoration time agreed"
    why = f"problem submitted to partner {partner.id} ({url}); {agreed}"
    history.append(
        conn,
        delegation_trail.trail(
            report.id, now, actor, etom.COORDINATE, "partnerSubmitted", etom.PARTNER_SUBMIT, why
        ),
    )
    if forecast:
        _agreed(conn, record, policy, actor, now)
    return record


def _agreed(
    conn: Connection, record: PartnerTicket, policy: p.Policy | None, actor: str, now: datetime
) -> None:
    """The partner's agreed restoration time is a delegate's forecast (1.3.7.3.4): past our commitment it
    is a forecast breach, escalated once (jeopardy_input marks a report once)."""
    source = f"partner {record.partner_id} (agreement)"
    report = tickets.get(conn, record.ticket_id)
    jeopardy_input.eta_reported(conn, report, record.commitment, source, policy, actor, now)


# -- answers from the partner (the hand-off handler) ---------------------------------------------------------


def answered(
    conn: Connection,
    item: Handoff,
    reply: handoffs.Reply,
    now: datetime,
    *,
    base_url: str,
    policy: p.Policy | None,
) -> None:
    """A partner answered one of our calls (in the transaction marking the hand-off sent)."""
    if item.record_id is None:
        return
    record = partner_tickets.get(conn, item.record_id, for_update=True)
    if item.action == "create":
        _accepted(conn, record, pt.remote_of(reply.body), base_url, policy, now)
    elif item.action == "subscribe" and isinstance(reply.body, dict) and reply.body.get("id"):
        _save(conn, record, hub_id=str(reply.body["id"]), updated_at=now)
    elif item.action == "retrieve":
        _apply(conn, record, pt.remote_of(reply.body), policy, ACTOR, now, via="poll")
    elif item.action == "cancel":
        status = reply.body.get("status") if isinstance(reply.body, dict) else None
        _save(conn, record, partner_status=status or "cancelled", last_heard_at=now, updated_at=now)
        why = f"partner {record.partner_id} ticket {record.partner_ticket_id} cancelled"
        history.append(
            conn,
            delegation_trail.trail(
                record.ticket_id, now, ACTOR, etom.CANCEL, "partnerCancelled", etom.PARTNER_MANAGE, why
            ),
        )


def _accepted(
    conn: Connection,
    record: PartnerTicket,
    remote: Remote,
    base_url: str,
    policy: p.Policy | None,
    now: datetime,
) -> None:
    """The partner created its ticket (201): keep its id; then either cascade a cancellation decided
    meanwhile, or follow it (hub subscription, poll and silence timers) and finish our `partner-ticket`."""
    record = _save(
        conn,
        record,
        partner_ticket_id=remote.id,
        partner_href=remote.href,
        partner_status=remote.status or "acknowledged",
        expected_resolution=remote.expected_resolution,
        last_heard_at=now,
        updated_at=now,
    )
    why = f"partner {record.partner_id} accepted the problem as its ticket {remote.id}"
    history.append(
        conn,
        delegation_trail.trail(
            record.ticket_id, now, ACTOR, etom.COORDINATE, "partnerAccepted", etom.PARTNER_SUBMIT, why
        ),
    )
    if record.cancel_reason is not None:
        _queue_cancel(conn, record, record.cancel_reason, now)
        return
    callback = base_url.rstrip("/") + LISTENER.format(partner_id=record.partner_id)
    body = pt.subscription(callback, remote.id)
    request = Request(
        pt.TARGET, "subscribe", "POST", f"{record.endpoint}/hub", body, record.ticket_id, record.id
    )
    handoffs.queue(conn, request, now)
    defaults = _defaults(policy)
    timers.arm_many(conn, ptimers.follow(record, defaults.poll_interval, now), now)
    report = tickets.get_for_update(conn, record.ticket_id)
    if report.status in WATCHED_STATUSES:
        partner_report.progressed(
            conn,
            report,
            f"[partner {record.partner_id} ticket {remote.id}] accepted",
            ("partner-ticket",),
            policy,
            ACTOR,
            now,
        )
        _agreed(conn, record, policy, ACTOR, now)
        _forecast(conn, record, remote, policy, now)


def _forecast(
    conn: Connection, record: PartnerTicket, remote: Remote, policy: p.Policy | None, now: datetime
) -> None:
    """The partner's expectedResolutionDate is a delegate's forecast (1.3.7.3.4)."""
    if remote.expected_resolution is None:
        return
    source = f"partner {record.partner_id} ticket {remote.id}"
    report = tickets.get(conn, record.ticket_id)
    jeopardy_input.eta_reported(conn, report, remote.expected_resolution, source, policy, ACTOR, now)


def _apply(
    conn: Connection,
    record: PartnerTicket,
    remote: Remote,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
    *,
    via: str,
) -> bool:
    """The partner's ticket as an event or a read shows it: news (status or expected resolution) is kept on
    our record and told on our report (note and audit); `resolved` finishes our delegated tasks. False
    when nothing was new."""
    if not pt.is_news(record, remote):
        return False
    words = pt.change_words(record, remote)
    _save(
        conn,
        record,
        partner_status=remote.status or record.partner_status,
        expected_resolution=remote.expected_resolution or record.expected_resolution,
        last_heard_at=now,
        updated_at=now,
    )
    restored = remote.status in pt.RESTORED and record.partner_status not in pt.RESTORED
    neighbour = etom.PARTNER_RESOLVE if restored else etom.PARTNER_TRACK
    history.append(
        conn,
        delegation_trail.trail(
            record.ticket_id, now, actor, etom.COORDINATE, "partnerUpdated", neighbour, f"{words} (via {via})"
        ),
    )
    report = tickets.get_for_update(conn, record.ticket_id)
    if report.status not in WATCHED_STATUSES:
        return True
    done = ("partner-ticket", "partner-follow-up") if restored else ()
    partner_report.progressed(
        conn, report, f"[partner {record.partner_id}] {words}", done, policy, actor, now
    )
    if remote.expected_resolution is not None and remote.expected_resolution != record.expected_resolution:
        _forecast(conn, record, remote, policy, now)
    return True


def heard(
    db: Database, partner_id: str, envelope: object, *, clock: Clock, policy: p.Policy | None
) -> PartnerTicket:
    """Our listener got a TMF621 event from partner `partner_id` (hub/listener, TMF630). NotFound for an
    unknown partner or a ticket we did not submit to it; InvalidInput for a body that is no event."""
    remote = pt.event_ticket(envelope)
    with db.begin() as conn:
        inventory.get(conn, "partner", partner_id)
        found = partner_tickets.by_partner_ticket(conn, partner_id, remote.id)
        if found is None:
            raise NotFound(f"partner '{partner_id}' has no ticket '{remote.id}' submitted by us", field="id")
        record = partner_tickets.get(conn, found.id, for_update=True)
        _apply(conn, record, remote, policy, f"partner {partner_id}", clock.now(), via="event")
        return partner_tickets.get(conn, record.id)


# -- cancel cascade (1.3.7.3.2 → 1.6.10.6) --------------------------------------------------------------


def report_changed(
    conn: Connection,
    previous: TroubleTicket,
    updated: TroubleTicket,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> None:
    """Cancel Customer Problem cascades to the partner tickets still open (policy `delegation.on_cancel`):
    a PATCH to cancelled is queued, or, before the partner answered our submission, once it does."""
    if updated.status is not Status.CANCELLED or previous.status is Status.CANCELLED:
        return
    if _defaults(policy).on_cancel != "cancel":
        return
    reason = f"our report {updated.id} was cancelled: {updated.status_change_reason or 'no reason given'}"
    for record in partner_tickets.for_ticket(conn, updated.id):
        if not record.is_open or record.cancel_reason is not None:
            continue
        record = _save(conn, record, cancel_reason=reason, updated_at=now)
        if record.accepted:
            _queue_cancel(conn, record, reason, now)
        theirs = record.partner_ticket_id or "(not yet accepted)"
        why = f"cancellation of partner {record.partner_id} ticket {theirs} requested"
        history.append(
            conn,
            delegation_trail.trail(
                updated.id, now, actor, etom.CANCEL, "partnerCancelRequested", etom.PARTNER_MANAGE, why
            ),
        )


def _queue_cancel(conn: Connection, record: PartnerTicket, reason: str, now: datetime) -> None:
    url = f"{record.endpoint}/troubleTicket/{record.partner_ticket_id}"
    body = pt.cancellation(reason)
    handoffs.queue(conn, Request(pt.TARGET, "cancel", "PATCH", url, body, record.ticket_id, record.id), now)


def _save(conn: Connection, record: PartnerTicket, **changes: object) -> PartnerTicket:
    updated = replace(record, version=record.version + 1, **changes)  # type: ignore[arg-type]
    partner_tickets.save(conn, updated, previous=record)
    return updated


# -- reads ------------------------------------------------------------------------------------------------


def for_report(db: Database, ticket_id: str) -> list[PartnerTicket]:
    with db.read() as conn:
        tickets.get(conn, ticket_id)  # NotFound for an unknown report
        return partner_tickets.for_ticket(conn, ticket_id)


def get_record(db: Database, record_id: str) -> PartnerTicket:
    with db.read() as conn:
        return partner_tickets.get(conn, record_id)


def list_records(
    db: Database, partner_id: str | None, offset: int = 0, limit: int = 100
) -> tuple[list[PartnerTicket], int]:
    with db.read() as conn:
        return partner_tickets.listed(conn, partner_id, offset, limit)
