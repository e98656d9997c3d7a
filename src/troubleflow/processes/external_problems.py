"""What an external TMF656 service problem manager tells us (docs/service-problems.md "External service
problem manager"): its answers to our hand-offs (the remote problem's id from the 201, the hub
subscription, the cancellation) and the events its hub posts to our listener, which move our mirror
through the service problem use case so the reports react exactly as to a problem we manage (H5:
estimate, clearing). Queueing the calls is processes/external_handoff.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import external_problem as xp
from troubleflow.domain import policy as p
from troubleflow.domain import service_problem as sp
from troubleflow.errors import NotFound
from troubleflow.processes import external_handoff, handoffs, service_problems
from troubleflow.processes.delegation import write_change
from troubleflow.storage import external_problems, history
from troubleflow.storage import service_problems as problems
from troubleflow.storage.db import Database
from troubleflow.storage.handoffs import Handoff, Request
from troubleflow.storage.history import HistoryEntry

ACTOR = "troubleflow"
LISTENER = "/tmf-api/troubleflow/v1/listener/serviceProblem/{domain_id}"
_MAX_STEPS = 3  # a status path is at most two moves (status_path); one more to see nothing is left


# -- answers to our hand-offs (the hand-off handler, in the transaction marking it sent) -------------------


def answered(conn: Connection, item: Handoff, reply: handoffs.Reply, now: datetime, *, base_url: str) -> None:
    if item.record_id is None:
        return
    record = external_problems.get(conn, item.record_id, for_update=True)
    if item.action == "create":
        _accepted(conn, record, xp.remote_of(reply.body), base_url, now)
    elif item.action == "subscribe" and isinstance(reply.body, dict) and reply.body.get("id"):
        _save(conn, record, hub_id=str(reply.body["id"]), updated_at=now)
    elif item.action == "cancel":
        _save(conn, record, remote_status=sp.S.CANCELLED.value, last_heard_at=now, updated_at=now)
        why = f"remote service problem {record.remote_id} in service domain {record.domain_id} cancelled"
        entry = HistoryEntry(record.problem_id, now, ACTOR, etom.CANCEL, "remoteCancelled", reason=why)
        history.append(conn, entry)


def _accepted(
    conn: Connection, record: xp.ExternalProblem, remote: xp.Remote, base_url: str, now: datetime
) -> None:
    """The manager created its problem (201): keep its id on our record and on the mirror
    (`externalIdentifier`), then cascade a cancellation decided meanwhile or subscribe to its events."""
    record = _save(
        conn,
        record,
        remote_id=remote.id,
        remote_href=remote.href,
        remote_status=(remote.status or sp.S.ACKNOWLEDGED).value,
        last_heard_at=now,
        updated_at=now,
    )
    mirror = problems.get(conn, record.problem_id, for_update=True)
    identifiers = [*mirror.external_identifier, xp.remote_id_ref(record)]
    updated, events = sp.change_problem(mirror, {"external_identifier": identifiers}, now=now)
    write_change(conn, mirror, updated, events, ACTOR, now)
    why = f"service domain {record.domain_id} accepted it as its service problem {remote.id}"
    history.append(
        conn,
        HistoryEntry(
            record.problem_id, now, ACTOR, etom.CREATE_SERVICE_TROUBLE_REPORT, "remoteAccepted", reason=why
        ),
    )
    if record.cancel_reason is not None:
        external_handoff.queue_cancel(conn, record, now)
        return
    callback = base_url.rstrip("/") + LISTENER.format(domain_id=record.domain_id)
    body = xp.subscription(callback, remote.id)
    request = Request(
        xp.TARGET, "subscribe", "POST", f"{record.endpoint}/hub", body, record.ticket_id, record.problem_id
    )
    handoffs.queue(conn, request, now)


def _save(conn: Connection, record: xp.ExternalProblem, **changes: Any) -> xp.ExternalProblem:
    updated = replace(record, version=record.version + 1, **changes)
    external_problems.save(conn, updated, previous=record)
    return updated


# -- events from the manager's hub (our listener) ----------------------------------------------------------


def heard(
    db: Database, domain_id: str, envelope: object, *, clock: Clock, policy: p.Policy | None
) -> sp.ServiceProblem:
    """A TMF656 event from service domain `domain_id`'s manager: its status and `expectedResolutionDate`
    are applied to our mirror by the service problem use case (each status step its own change), so the
    reports it explains get the estimate and are cleared when restored. Repeated events change nothing.
    InvalidInput for a body that is no TMF656 event; NotFound for a problem we did not hand to it."""
    _, remote = xp.event_problem(envelope)
    with db.read() as conn:
        record = external_problems.by_remote(conn, domain_id, remote.id)
    if record is None:
        raise NotFound(
            f"service domain '{domain_id}' has no service problem '{remote.id}' handed over by us",
            field="event.serviceProblem.id",
        )
    actor = f"service domain {domain_id}"
    mirror = service_problems.get_problem(db, record.problem_id)
    for _ in range(_MAX_STEPS):
        if not _next_step(mirror, remote):
            break
        mirror = service_problems.change_problem(
            db, record.problem_id, lambda current: _next_step(current, remote), clock=clock, actor=actor,
            policy=policy,
        )  # fmt: skip
    with db.begin() as conn:  # heard: kept once the mirror took it (a refused event leaves no trace)
        current = external_problems.get(conn, record.problem_id, for_update=True)
        status = remote.status.value if remote.status is not None else current.remote_status
        now = clock.now()
        _save(conn, current, remote_status=status, last_heard_at=now, updated_at=now)
    return mirror


def _next_step(mirror: sp.ServiceProblem, remote: xp.Remote) -> dict[str, Any]:
    """The next change bringing the mirror to what the remote says: the estimate, and one status move."""
    changes = xp.changes_for(mirror, remote)
    if remote.status is not None:
        path = xp.status_path(mirror.status, remote.status)
        if path:
            changes["status"] = path[0]
            if path[-1] == path[0] and remote.reason:
                changes["status_change_reason"] = remote.reason
    return changes


# -- reads --------------------------------------------------------------------------------------------------


def get_record(db: Database, problem_id: str) -> xp.ExternalProblem:
    with db.read() as conn:
        return external_problems.get(conn, problem_id)
