"""Correct & Recover Customer Problem (1.3.7.6): the rules a restoration imposes on a report's lifecycle.

`check_change` runs inside `reports.change_report` (clearing, closing); `check_clearable` and
`check_closable` are for any other path that clears or closes a report (e.g. its service problems all
resolved); `close_blocked` for the auto-close timer. They read the restoration trail and the open product
order requests in the caller's transaction and write nothing. The use cases are in restoration_actions.py
(actions and their outcome), restoration_steps.py (feasibility, validation, review) and
restoration_items.py (change requests, product order and process requests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from troubleflow.domain import policy as p
from troubleflow.domain import restoration as rs
from troubleflow.domain.status import TRANSITIONS, Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict
from troubleflow.storage import restoration as store


def rules_of(policy: p.Policy | None) -> p.RestorationRules:
    """The policy's `restoration:` section (the defaults without a policy)."""
    return policy.restoration if policy is not None else p.RestorationRules()


# -- checks inside the report use cases ---------------------------------------------------------------------


def check_change(
    conn: Connection, current: TroubleTicket, changes: dict[str, Any], policy: p.Policy | None
) -> None:
    """Refuse (Conflict, nothing written) clearing a report that waits for a product order or whose
    restoration is not validated, and closing a major problem without its review."""
    target = changes.get("status")
    if target is None or target is current.status:
        return
    if target is Status.RESOLVED:  # even from `pending`: a waiting report is told what it waits for
        check_clearable(conn, current, policy)
    elif target is Status.CLOSED and target in TRANSITIONS[current.status]:
        check_closable(conn, current, policy)


def check_clearable(conn: Connection, ticket: TroubleTicket, policy: p.Policy | None) -> None:
    """Clearing rules of Correct & Recover: no open product order request; with
    `restoration.validate_before_clear`, a validated successful outcome (1.3.7.6.5). For any path that
    clears a report (TMF621 PATCH, service problems resolved, …)."""
    orders = store.open_items(conn, ticket.id, rs.ItemKind.PRODUCT_ORDER)
    rs.check_clearable(store.records(conn, ticket.id), [str(o.id) for o in orders], rules_of(policy))


def is_major(ticket: TroubleTicket, policy: p.Policy | None) -> bool:
    priority = ticket.tracking.priority if ticket.tracking is not None else ticket.priority
    master = ticket.intake is not None and ticket.intake.major_outage
    return rs.is_major(rules_of(policy), priority, ticket.severity, master)


def check_closable(conn: Connection, ticket: TroubleTicket, policy: p.Policy | None) -> None:
    """A major problem (policy `restoration.major_problem`) closes only after its review (1.3.7.6.7)."""
    major = is_major(ticket, policy)
    if major:
        rs.check_closable(store.records(conn, ticket.id, rs.Kind.REVIEW), major)


def close_blocked(conn: Connection, ticket: TroubleTicket, policy: p.Policy | None) -> str | None:
    """Why the report may not close now (for the auto-close timer), or None."""
    try:
        check_closable(conn, ticket, policy)
    except Conflict as exc:
        return str(exc)
    return None
