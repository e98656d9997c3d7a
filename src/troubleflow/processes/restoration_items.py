"""The items a restoration opens (Correct & Recover Customer Problem, 1.3.7.6) and that keep their own
lifecycle: product order requests when the customer's needs are re-assessed (withdraw, upgrade, renew:
the report waits, pending, until the order's completion is reported), requests to other CRM processes
(billing adjustment, order handling, …) and change requests for a permanent fix (1.3.7.6.6). Opening one
writes an event to the outbox with the report, so the ordering or other process hears of it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import policy as p
from troubleflow.domain import restoration as rs
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import InvalidInput, NotFound, PreconditionFailed
from troubleflow.processes import restoration_report as report
from troubleflow.storage import history, tickets
from troubleflow.storage import restoration as store
from troubleflow.storage.db import Database

_PRODUCT_ROLES = frozenset({"affectedproduct", "product"})


def _product_of(ticket: TroubleTicket, given: Any) -> str:
    """The product to change: the one named, else the report's affected product (related entity)."""
    if given is not None:
        if not isinstance(given, str) or not given.strip() or len(given) > 100:
            raise InvalidInput("'product.id' must name the product instance", field="product")
        return given.strip()
    for ref in ticket.related_entity:
        if (ref.role or "").lower() in _PRODUCT_ROLES or ref.referred_type == "Product":
            return ref.id
    raise InvalidInput("the report names no affected product: say which in 'product.id'", field="product")


def request_product_order(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> rs.Item:
    """Re-assess the customer's needs (seed 002): ask Customer Order Handling (1.3.3) to withdraw, upgrade
    or renew the purchased offering, with the problem as the reason. The report waits for the order
    (`pending`, the SLA clock stopped by policy); it cannot be cleared while the order is open."""
    action = rs.parse_product_action(values.get("action"))
    description = rs.text(values, "description", required=True)
    assert description is not None
    with db.begin() as conn:
        current = report.open_report(conn, ticket_id)
        product = _product_of(current, values.get("product_id"))
        now = clock.now()
        item = store.add_item(
            conn,
            rs.Item(
                0,
                rs.ItemKind.PRODUCT_ORDER,
                ticket_id,
                rs.ItemState.OPEN,
                description,
                now,
                now,
                target_process=rs.ORDER_HANDLING,
                action=action.value,
                product_id=product,
            ),
        )
        said = f"product order request {item.id}: {action.value} product {product} (problem {ticket_id})"
        history.append(
            conn, report.entry(ticket_id, now, actor, etom.MANAGE_RESTORATION, "productOrderRequested", said)
        )
        if current.status is Status.ACKNOWLEDGED:
            start = {"status": Status.IN_PROGRESS, "status_change_reason": "restoration started"}
            current = report.write(conn, current, start, actor, now, policy)
        changes: dict[str, Any] = {"related_entity": [*current.related_entity, report.ref(item)]}
        if current.status is Status.IN_PROGRESS:
            changes |= {"status": Status.PENDING, "status_change_reason": f"waiting for {said}"}
        report.write(conn, current, changes, actor, now, policy, reason=f"productOrderRequested: {said}")
        return item


def request_process(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> rs.Item:
    """Request activities of another CRM process (seed 002), e.g. a billing adjustment (1.3.5.x): the
    request is recorded with its target process and announced through the outbox with the report."""
    target = rs.check_target_process(values.get("target_process"))
    description = rs.text(values, "description", required=True)
    assert description is not None
    with db.begin() as conn:
        current = report.open_report(conn, ticket_id)
        now = clock.now()
        item = store.add_item(
            conn,
            rs.Item(
                0,
                rs.ItemKind.PROCESS_REQUEST,
                ticket_id,
                rs.ItemState.OPEN,
                description,
                now,
                now,
                target_process=target,
            ),
        )
        said = f"process request {item.id} to {target}: {description}"
        history.append(
            conn, report.entry(ticket_id, now, actor, etom.MANAGE_RESTORATION, "processRequested", said)
        )
        changes = {"related_entity": [*current.related_entity, report.ref(item)]}
        report.write(conn, current, changes, actor, now, policy, reason=f"processRequested: {said}")
        return item


def initiate_change_request(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> rs.Item:
    """Initiate Customer Problem Change Request (1.3.7.6.6) by hand, for a report's permanent fix; it is
    linked from the report and stays open after the report closes."""
    description = rs.text(values, "description", required=True)
    assert description is not None
    with db.begin() as conn:
        try:
            current = report.open_report(conn, ticket_id)
        except NotFound:
            raise InvalidInput(f"no trouble ticket with id '{ticket_id}'", field="troubleTicket.id") from None
        now = clock.now()
        item = store.add_item(
            conn,
            rs.Item(0, rs.ItemKind.CHANGE_REQUEST, ticket_id, rs.ItemState.OPEN, description, now, now),
        )
        said = f"change request {item.id}: {description}"
        history.append(
            conn,
            report.entry(ticket_id, now, actor, etom.INITIATE_CHANGE_REQUEST, "changeRequestInitiated", said),
        )
        changes = {"related_entity": [*current.related_entity, report.ref(item)]}
        report.write(conn, current, changes, actor, now, policy)
        return item


def move_item(
    db: Database,
    kind: rs.ItemKind,
    item_id: int,
    values: dict[str, Any],
    *,
    clock: Clock,
    actor: str,
    if_match: int | None = None,
    policy: p.Policy | None = None,
) -> rs.Item:
    """Report an item's progress or completion (`state`, with a `reason` for failed or cancelled). The
    completion of a report's last open product order request takes the waiting report back to work."""
    state = rs.parse_item_state(values.get("state"))
    reason = rs.text(values, "reason", required=state in (rs.ItemState.FAILED, rs.ItemState.CANCELLED))
    with db.begin() as conn:
        found = store.get_item(conn, kind, item_id)
        current = _report_for_update(conn, found.ticket_id)  # the report's row first: one lock order
        item = store.get_item(conn, kind, item_id, for_update=True)
        if if_match is not None and item.version != if_match:
            raise PreconditionFailed(f"{kind.value} '{item_id}' is at version {item.version}, not {if_match}")
        if state is item.state:
            return item
        rs.check_item_move(item.state, state)
        now = clock.now()
        moved = replace(item, state=state, reason=reason, updated=now, version=item.version + 1)
        store.save_item(conn, moved, previous=item)
        said = f"{kind.value} {item.id} {state.value}" + (f": {reason}" if reason else "")
        if current is not None:
            process = (
                etom.INITIATE_CHANGE_REQUEST
                if kind is rs.ItemKind.CHANGE_REQUEST
                else etom.MANAGE_RESTORATION
            )
            history.append(conn, report.entry(current.id, now, actor, process, f"{kind.value}Updated", said))
            if kind is rs.ItemKind.PRODUCT_ORDER and not moved.is_open:
                _order_settled(conn, current, said, actor, now, policy)
        return moved


def _report_for_update(conn: Connection, ticket_id: str) -> TroubleTicket | None:
    try:
        return tickets.get_for_update(conn, ticket_id)
    except NotFound:
        return None  # deleted by an administrator: the item lives on


def _order_settled(
    conn: Connection, current: TroubleTicket, said: str, actor: str, now: Any, policy: p.Policy | None
) -> None:
    """The report no longer waits once none of its product order requests is open: back in progress
    (to be cleared, or re-planned when the order failed)."""
    if store.open_items(conn, current.id, rs.ItemKind.PRODUCT_ORDER):
        return
    if current.status is Status.PENDING:
        back = {"status": Status.IN_PROGRESS, "status_change_reason": said}
        report.write(conn, current, back, actor, now, policy)


def get_item(db: Database, kind: rs.ItemKind, item_id: int) -> rs.Item:
    with db.read() as conn:
        return store.get_item(conn, kind, item_id)


def items_of_report(db: Database, ticket_id: str, kind: rs.ItemKind) -> list[rs.Item]:
    with db.read() as conn:
        tickets.get(conn, ticket_id)  # NotFound for an unknown report
        return store.items_of(conn, ticket_id, kind)


def find_items(
    db: Database, kind: rs.ItemKind, state: rs.ItemState | None, *, offset: int = 0, limit: int = 100
) -> tuple[list[rs.Item], int]:
    with db.read() as conn:
        return store.find_items(conn, kind, state, offset, limit)
