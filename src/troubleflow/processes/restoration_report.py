"""What the Correct & Recover use cases (1.3.7.6) share: the policy's restoration rules, the report's
open-status guard, audit entries, the hand-back to coordination (1.3.7.3.1) and the report change path
inside their transaction (the row is locked)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain import known_error as ke
from troubleflow.domain import policy as p
from troubleflow.domain import restoration as rs
from troubleflow.domain import work_plan as wp
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.ticket import Ref, TroubleTicket, change_ticket
from troubleflow.errors import Conflict
from troubleflow.processes import tracking as track
from troubleflow.processes import work_plan
from troubleflow.processes.restoration import rules_of
from troubleflow.storage import history, outbox, tasks, tickets
from troubleflow.storage.history import HistoryEntry


@dataclass(frozen=True, slots=True)
class Recorded:
    """A record on the restoration trail with the report as it now stands and the items it opened."""

    record: rs.Record
    ticket: TroubleTicket
    items: tuple[rs.Item, ...] = ()


def ref(item: rs.Item) -> Ref:
    referred = {rs.ItemKind.CHANGE_REQUEST: "ChangeRequest", rs.ItemKind.PRODUCT_ORDER: "ProductOrderRequest"}
    return Ref(id=str(item.id), role=item.kind.value, referred_type=referred.get(item.kind, "ProcessRequest"))


def open_report(conn: Connection, ticket_id: str) -> TroubleTicket:
    current = tickets.get_for_update(conn, ticket_id)
    if current.status not in WATCHED_STATUSES:
        raise Conflict(
            f"report '{ticket_id}' is {current.status.value}: restoration is recorded on an open report"
        )
    return current


def entry(ticket_id: str, now: datetime, actor: str, process: str, action: str, reason: str) -> HistoryEntry:
    return HistoryEntry(ticket_id, now, actor, process, action, reason=reason)


def replan(
    conn: Connection,
    ticket: TroubleTicket,
    name: str | None,
    why: str,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> None:
    """Back to Coordinate Customer Problem (1.3.7.3.1): the audit says so, and a mandatory task (by
    policy) goes to the plan, owned by a workgroup with `restoration.replan_skill` (by region and load)
    or else the report's first-line owner."""
    history.append(conn, entry(ticket.id, now, actor, etom.COORDINATE, "recoordinated", why))
    if name is None:
        return
    skill = rules_of(policy).replan_skill
    fallback = ticket.tracking.workgroup if ticket.tracking else None
    owner = wp.Assignment(fallback, "the report's first-line owner" if fallback else "unowned")
    if policy is not None and skill is not None:
        region = wp.region_of(ticket.extensions, ((r.role, r.id) for r in ticket.related_entity))
        owner = wp.assign(policy, None, skill, region, partial(tasks.load, conn), fallback)
    task = wp.ad_hoc(
        tasks.for_ticket(conn, ticket.id),
        ticket.id,
        name,
        True,
        timedelta(hours=1),
        skill=skill,
        workgroup=owner.workgroup,
        finish=lambda _w, start, effort: start + effort,
        now=now,
    )
    tasks.add_many(conn, [task])
    history.append(
        conn,
        entry(
            ticket.id,
            now,
            actor,
            etom.COORDINATE,
            "taskPlanned",
            f"task {task.id} '{task.name}' to {task.workgroup or 'nobody'} ({owner.reason}): {why}",
        ),
    )


def write(
    conn: Connection,
    current: TroubleTicket,
    changes: dict[str, Any],
    actor: str,
    now: datetime,
    policy: p.Policy | None,
    *,
    known_error: ke.KnownError | None = None,
    reason: str | None = None,
) -> TroubleTicket:
    """The report change path of `reports.change_report` inside this transaction (the row is locked):
    version, status history, SLA clock, events to the outbox (attribute events carry `reason`), audit
    trail, progress updates. `known_error` links the record to the report's Track & Manage state."""
    updated, events = change_ticket(current, changes, now=now)
    if known_error is not None and current.tracking is not None:
        link = ke.link_of(known_error, now, source=known_error.source_ticket_id == current.id)
        updated = replace(
            updated,
            tracking=replace(current.tracking, known_error=link),
            version=current.version + 1,
            last_update=now,
        )
        events = [*events, TicketEvent(EventKind.ATTRIBUTES_CHANGED, current.id, fields=("known_error",))]
    if not events:
        return current
    if reason is not None:
        events = [replace(e, reason=reason) if e.kind is EventKind.ATTRIBUTES_CHANGED else e for e in events]
    updated, clock_moved = track.follow(current, updated, policy, now)
    doc = tickets.save(conn, updated, previous=current)
    if doc is None:
        raise Conflict(f"ticket '{current.id}' was changed concurrently; try again")
    history.append_many(conn, history.of_change(updated.id, events, actor, now))
    if clock_moved and policy is not None:
        track.clock_moved(conn, updated, policy, actor, now)
    outbox.add(conn, events, doc, now)
    work_plan.followed(conn, current, updated, policy, actor, now)
    return updated
