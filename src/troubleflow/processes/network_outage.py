"""A service problem raised from the network side is a mass outage (research/etom.md hand-off H2, Service
Problem Management 1.4.6 → Check Customer Problem Outage 1.3.7.5.3): a TMF656 ServiceProblem that no
customer report raised and that names `affectedService` declares the outage of those services; its
estimate moves the master's ETA (which reaches every child); resolving it restores them all.

Only the services the inventory knows count: a TMF656 client may name services troubleflow does not hold,
which is no error for the problem (it is stored as sent), and no customer of ours is behind them. Declaring,
updating and restoring run after the problem's commit, each idempotent (processes/mass_outage.py): the
master is created under the idempotency key of its cause, and `troubleflow outage raise` repeats a declare a
crash interrupted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import service_problem as sp
from troubleflow.domain.mass_outage import Cause
from troubleflow.domain.policy import Policy
from troubleflow.processes import mass_outage
from troubleflow.storage import mass_outages
from troubleflow.storage.db import Database

ACTOR = "network"


def affected_services(problem: sp.ServiceProblem) -> list[str]:
    """The services a network-side problem names (none for a problem a customer report raised)."""
    if problem.raised_by is not None:
        return []
    ids = (str(s.get("id") or "") for s in problem.affected_service)
    return list(dict.fromkeys(i for i in ids if i))


def followed(
    db: Database,
    before: sp.ServiceProblem | None,
    after: sp.ServiceProblem,
    *,
    clock: Clock,
    policy: Policy | None,
    href: str,
) -> None:
    """What a committed change of a network-side problem means for its mass outage: created (or given
    services later) → declare; estimate changed → update the master's ETA; restored → restore."""
    if not affected_services(after):
        return
    cause = Cause(after.id, href, after.name)
    with db.read() as conn:
        known = mass_outages.find_outage(conn, after.id)
        named = _in_inventory(conn, affected_services(after))
        before_named = _in_inventory(conn, affected_services(before)) if before is not None else []
    if not named:
        return
    if after.status in sp.RESTORED:
        if known is not None:
            why = f"service problem {after.id} {after.status}" + (
                f": {after.status_change_reason}" if after.status_change_reason else ""
            )
            mass_outage.restore(db, clock=clock, cause_id=after.id, resolution=why, policy=policy)
        return
    if not after.is_open:
        return
    if known is None or before is None or before_named != named:
        mass_outage.declare(
            db,
            clock=clock,
            policy=policy,
            cause=cause,
            services=named,
            eta=after.expected_resolution_date,
            actor=ACTOR,
        )
        return
    if _moved(before.expected_resolution_date, after.expected_resolution_date):
        assert after.expected_resolution_date is not None
        mass_outage.update(
            db, clock=clock, cause_id=after.id, eta=after.expected_resolution_date, policy=policy
        )


def _in_inventory(conn: Connection, named: list[str]) -> list[str]:
    """The named services the inventory knows (as a service or a service specification), in order."""
    if not named:
        return []
    _, unknown = mass_outages.service_kinds(conn, named)
    return [n for n in named if n not in set(unknown)]


def _moved(old: datetime | None, new: datetime | None) -> bool:
    return new is not None and new != old
