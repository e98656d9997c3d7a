"""The worker's share of mass outages: durable outage jobs done one chunk per transaction, so a crash resumes
at the last committed cursor and two workers never do the same chunk (the job row and the master row are
locked for the chunk; PostgreSQL workers skip a locked job).

- `sweep`: Check Customer Problem Outage (1.3.7.5.3) from the network side. First every open report is
  walked once (id order) and those touching an affected service become children (linked); then every
  affected service instance of the inventory without a child gets a new report opened by the system.
  Each child's customer is told (Notify Customer Problem, 1.3.7.2.4). The (cause, service instance) key
  makes a child exist once, however often a chunk is redone.
- `restore`: Report Customer Product Restoration (1.3.7.6.2): every child still open is cleared naming the
  cause and its customer told; children closed or cancelled meanwhile are left alone.
- `propagate`: Coordinate Customer Problem (1.3.7.3.1): a master's new ETA and notes reach its children."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom, outage
from troubleflow.domain import mass_outage as mo
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.domain.intake import Intake
from troubleflow.domain.policy import Policy
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.processes import outage_clear
from troubleflow.storage import history, outbox, tickets
from troubleflow.storage import mass_outages as store
from troubleflow.storage.codec import decode_ticket
from troubleflow.storage.db import Database
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.tables import outage_child

ACTOR = "massOutage"
CHUNK = 500
OPEN = sorted(s.value for s in mo.OPEN)


def work(db: Database, *, clock: Clock, policy: Policy | None = None, chunk: int = CHUNK) -> int:
    """Do one chunk of the oldest pending outage job (one transaction); returns how many reports it
    looked at (0: no job was waiting, or all were being worked on by other workers)."""
    with db.begin() as conn:
        job = store.claim_job(conn)
        if job is None:
            return 0
        now = clock.now()
        master = tickets.get_for_update(conn, job.master_id)  # every chunk of a master queues here
        if job.kind == store.SWEEP:
            return _sweep(conn, job, master, chunk, now)
        if job.kind == store.RESTORE:
            return _restore(conn, job, master, policy, chunk, now)
        return _propagate(conn, job, master, chunk, now)


# -- sweep -------------------------------------------------------------------------------------------------


def _sweep(conn: Connection, job: store.Job, master: TroubleTicket, chunk: int, now: datetime) -> int:
    assert job.cause_id is not None
    found = store.get_outage(conn, job.cause_id)
    kinds = [(str(i), str(k)) for i, k in job.payload["kinds"]]
    phase, _, after = job.cursor.partition(":")
    if phase in ("", "link"):
        page = store.open_reports_after(conn, OPEN, after, chunk)
        _link(conn, found.cause, master, kinds, [decode_ticket(doc) for _, doc in page], now)
        cursor = f"link:{page[-1][0]}" if len(page) == chunk else "open:"
        store.advance(conn, job, cursor, done=False, now=now)
        return max(len(page), 1)
    affected = store.affected_page(conn, kinds, after, chunk)
    _open(conn, found.cause, master, affected, now)
    last = affected[-1].service_id if affected else after
    store.advance(conn, job, f"open:{last}", done=len(affected) < chunk, now=now)
    return max(len(affected), 1)


def _link(
    conn: Connection,
    cause: mo.Cause,
    master: TroubleTicket,
    kinds: list[tuple[str, str]],
    page: list[TroubleTicket],
    now: datetime,
) -> None:
    """Make the open reports of the page that touch an affected service children of the master."""
    candidates = {t.id: mo.touched_services(t) for t in page if t.id != master.id and not outage.is_master(t)}
    affected = store.affected_among(conn, kinds, set().union(*candidates.values()))
    known = store.known_children(conn, cause.id, list(affected))
    wanted: dict[str, list[mo.Affected]] = {}
    for ticket_id, services in candidates.items():
        for sid in sorted(services):
            if sid in affected and sid not in known:
                known.add(sid)
                wanted.setdefault(ticket_id, []).append(affected[sid])
    if not wanted:
        return
    current = tickets.get_many_for_update(conn, list(wanted))
    changed: list[tuple[TroubleTicket, TroubleTicket]] = []
    rows: list[dict[str, Any]] = []
    for ticket_id, hits in wanted.items():
        ticket = current.get(ticket_id)
        if ticket is None or ticket.status not in mo.OPEN:
            continue  # gone or no longer open since the page was read
        if not mo.is_child_of(ticket, master.id):  # a customer's call linked it already otherwise
            changed.append((mo.link_existing(ticket, master, now), ticket))
        rows += [_child_row(cause, a, ticket_id, "linked", now) for a in hits]
    docs = tickets.save_many(conn, changed)
    fields = ("trouble_ticket_relationship", "expected_resolution_date", "note")
    outbox.add_many(
        conn,
        [
            ([TicketEvent(EventKind.ATTRIBUTES_CHANGED, t.id, fields=fields)], d)
            for (t, _), d in zip(changed, docs, strict=True)
        ],
        now,
    )
    _record_children(conn, cause, master, rows, [t.id for t, _ in changed], now)


def _open(
    conn: Connection, cause: mo.Cause, master: TroubleTicket, affected: Sequence[mo.Affected], now: datetime
) -> None:
    """Open a report for every affected service instance of the page that has no child yet."""
    known = store.known_children(conn, cause.id, [a.service_id for a in affected])
    fresh = [a for a in affected if a.service_id not in known]
    if not fresh:
        return
    children = [mo.open_child(new_id(), master, cause, a, now) for a in fresh]
    ticket_rows = [tickets.row_of(c) for c in children]
    tickets.add_rows(conn, ticket_rows)
    created = [
        HistoryEntry(
            c.id,
            now,
            ACTOR,
            etom.CREATE_REPORT,
            "created",
            new_status=c.status.value,
            reason=f"opened by the system for {cause.referred_type} {cause.id}",
        )
        for c in children
    ]
    history.append_many(conn, created)
    outbox.add_many(
        conn,
        [
            ([TicketEvent(EventKind.CREATED, c.id, new_status=c.status.value)], r["doc"])
            for c, r in zip(children, ticket_rows, strict=True)
        ],
        now,
    )
    rows = [_child_row(cause, a, c.id, "opened", now) for a, c in zip(fresh, children, strict=True)]
    _record_children(conn, cause, master, rows, [c.id for c in children], now)


def _child_row(cause: mo.Cause, a: mo.Affected, ticket_id: str, mode: str, now: datetime) -> dict[str, Any]:
    return {
        "cause_id": cause.id,
        "service_id": a.service_id,
        "customer_id": a.customer_id,
        "ticket_id": ticket_id,
        "mode": mode,
        "state": "open",
        "linked_at": now,
        "_affected": a,
    }


def _record_children(
    conn: Connection,
    cause: mo.Cause,
    master: TroubleTicket,
    rows: list[dict[str, Any]],
    new_links: list[str],
    now: datetime,
) -> None:
    """The children's keys, their links to the master (counted on it), the audit trail and what each
    customer is told."""
    if not rows:
        return
    affected = [r.pop("_affected") for r in rows]
    store.add_children(conn, rows)
    insert_rows(
        conn,
        outage_child,
        [{"master_id": master.id, "child_id": t, "linked_at": now} for t in new_links],
        skip_conflicts=True,
    )
    what = f"{cause.referred_type} {cause.id}"
    entries = [
        HistoryEntry(
            r["ticket_id"],
            now,
            ACTOR,
            etom.CHECK_OUTAGE,
            "linkedToMaster",
            reason=f"child of major outage {master.id} (service {r['service_id']}, {what})",
        )
        for r in rows
    ]
    told = {r["ticket_id"]: a for r, a in zip(rows, affected, strict=True)}
    entries += notify(
        conn, cause.id, "outage", cause.id, told, mo.outage_text(master.expected_resolution_date), now
    )
    history.append_many(conn, entries)
    if new_links:
        _count(conn, master, len(new_links), now)


def _count(conn: Connection, master: TroubleTicket, n: int, now: datetime) -> None:
    intake = master.intake or Intake(major_outage=True)
    counted = replace(
        master,
        version=master.version + 1,
        last_update=now,
        intake=replace(intake, child_count=intake.child_count + n),
    )
    doc = tickets.save(conn, counted, previous=master)
    assert doc is not None  # the master row is locked by this chunk
    event = TicketEvent(EventKind.ATTRIBUTES_CHANGED, master.id, fields=("majorOutageChildCount",))
    outbox.add(conn, [event], doc, now)


def notify(
    conn: Connection,
    cause_id: str | None,
    kind: str,
    ref: str,
    told: dict[str, mo.Affected | None],
    body: str,
    now: datetime,
) -> list[HistoryEntry]:
    """Tell each report's customer (Notify Customer Problem, 1.3.7.2.4): by email when the inventory has
    the customer's address (queued: the worker sends it), else recorded (the report's note and its event
    are what the customer sees)."""
    rows = [
        {
            "ticket_id": t,
            "kind": kind,
            "ref": ref,
            "cause_id": cause_id,
            "customer_id": a.customer_id if a else None,
            "channel": "email" if a and a.email else "none",
            "address": a.email if a else None,
            "subject": mo.subject(kind),
            "body": body,
            "state": "pending" if a and a.email else "recorded",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for t, a in told.items()
    ]
    store.notify(conn, rows)
    return [
        HistoryEntry(
            t,
            now,
            ACTOR,
            etom.NOTIFY_CUSTOMER,
            "customerNotificationQueued" if r["state"] == "pending" else "customerNotified",
            reason=f"{kind}: {r['channel']} {r['address'] or '(no contact: recorded)'}",
        )
        for t, r in zip(told, rows, strict=True)
    ]


# -- restore and propagate ---------------------------------------------------------------------------------


def _restore(
    conn: Connection, job: store.Job, master: TroubleTicket, policy: Policy | None, chunk: int, now: datetime
) -> int:
    assert job.cause_id is not None
    found = store.get_outage(conn, job.cause_id)
    ids = store.linked_children(conn, master.id, job.cursor, chunk)
    current = tickets.get_many_for_update(conn, ids)
    resolution = found.resolution or "restored"
    cleared, left = outage_clear.clear(
        conn, found.cause, resolution, list(current.values()), policy, ACTOR, now
    )
    store.mark_children(conn, found.cause.id, cleared, "cleared", now)
    store.mark_children(conn, found.cause.id, left, "left", now)
    customers = store.customers_of(conn, found.cause.id, cleared)
    entries = notify(
        conn,
        found.cause.id,
        "restored",
        found.cause.id,
        {t: customers.get(t) for t in cleared},
        mo.restored_text(resolution),
        now,
    )
    history.append_many(conn, entries)
    done = len(ids) < chunk
    store.advance(conn, job, ids[-1] if ids else job.cursor, done=done, now=now)
    if done:
        store.set_state(conn, found.cause.id, store.RESTORED)
    return max(len(ids), 1)


def _propagate(conn: Connection, job: store.Job, master: TroubleTicket, chunk: int, now: datetime) -> int:
    """Bring a page of the master's children in line with it: its ETA now, and the notes of the job."""
    ids = store.linked_children(conn, master.id, job.cursor, chunk)
    current = tickets.get_many_for_update(conn, ids)
    notes = [str(n) for n in job.payload.get("notes", [])]
    changed: list[tuple[TroubleTicket, TroubleTicket]] = []
    events: list[list[TicketEvent]] = []
    for child in current.values():
        if child.status not in mo.OPEN:
            continue
        updated, fields = mo.followed_master(child, master, notes, now)
        if fields:
            changed.append((updated, child))
            events.append([TicketEvent(EventKind.ATTRIBUTES_CHANGED, child.id, fields=fields)])
    docs = tickets.save_many(conn, changed)
    outbox.add_many(conn, list(zip(events, docs, strict=True)), now)
    entries = [
        HistoryEntry(
            t.id,
            now,
            ACTOR,
            etom.COORDINATE,
            "followedMaster",
            reason=f"major outage {master.id}: {', '.join(e[0].fields)}",
        )
        for (t, _), e in zip(changed, events, strict=True)
    ]
    customers = store.customers_of(conn, job.cause_id, [t.id for t, _ in changed]) if job.cause_id else {}
    said = " ".join(
        [
            *notes,
            *(mo.eta_text(master.expected_resolution_date) for _ in [0] if master.expected_resolution_date),
        ]
    )
    entries += notify(
        conn, job.cause_id, "update", str(job.id), {t.id: customers.get(t.id) for t, _ in changed}, said, now
    )
    history.append_many(conn, entries)
    store.advance(conn, job, ids[-1] if ids else job.cursor, done=len(ids) < chunk, now=now)
    return max(len(ids), 1)
