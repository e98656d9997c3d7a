"""A service problem raised from the network side is a mass outage (research/etom.md hand-off H2, Service
Problem Management 1.4.6 → Check Customer Problem Outage 1.3.7.5.3): a TMF656 ServiceProblem that no
customer report raised and that names `affectedService` declares the outage of those services; its
estimate moves the master's ETA (which reaches every child); resolving it restores them all.

The services are checked against the inventory inside the problem's own transaction (an unknown one is
refused with the problem: nothing is written). Declaring, updating and restoring run after that commit,
each idempotent (processes/mass_outage.py): the master is created under the idempotency key of its cause,
and a declare repeated by `troubleflow outage raise` completes one a crash interrupted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import service_problem as sp
from troubleflow.domain.mass_outage import Cause
from troubleflow.domain.policy import Policy
from troubleflow.errors import InvalidInput
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


def check(conn: Connection, problem: sp.ServiceProblem) -> None:
    """Refuse a network-side problem naming services the inventory does not know (InvalidInput)."""
    named = affected_services(problem)
    if not named:
        return
    _, unknown = mass_outages.service_kinds(conn, named)
    if unknown:
        raise InvalidInput(
            "affectedService not in the inventory (service or service specification): " + ", ".join(unknown),
            field="affectedService",
        )


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
    named = affected_services(after)
    if not named:
        return
    cause = Cause(after.id, href, after.name)
    with db.read() as conn:
        known = mass_outages.find_outage(conn, after.id)
    if after.status in sp.RESTORED:
        if known is not None:
            why = f"service problem {after.id} {after.status}" + (
                f": {after.status_change_reason}" if after.status_change_reason else ""
            )
            mass_outage.restore(db, clock=clock, cause_id=after.id, resolution=why, policy=policy)
        return
    if not after.is_open:
        return
    if known is None or before is None or affected_services(before) != named:
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


def _moved(old: datetime | None, new: datetime | None) -> bool:
    return new is not None and new != old
