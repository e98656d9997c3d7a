"""Manage / Report Customer Product Restoration (1.3.7.6.1, 1.3.7.6.2): restoration actions, each with
exactly one outcome, and what each outcome does to the report: `restored` lets it be cleared,
`restoredByWorkaround` (1.3.7.6.4) too but opens its permanent fix (a known error, 1.3.7.1.9, and a change
request, 1.3.7.6.6), `restorationFailed` hands it back to coordination (1.3.7.3.1). Customer education
(a usage error) restores with guidance for the customer and root cause `usage`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import known_error as ke
from troubleflow.domain import policy as p
from troubleflow.domain import restoration as rs
from troubleflow.domain.close import ROOT_CAUSE
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Note, TroubleTicket
from troubleflow.errors import Conflict, InvalidInput, NotFound
from troubleflow.processes import restoration_report as report
from troubleflow.processes.restoration import rules_of
from troubleflow.storage import history, known_errors
from troubleflow.storage import restoration as store
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

OUTCOME = "restorationOutcome"  # extension attribute: the latest outcome reported (docs/extensions.md)
RESOLUTION_TYPE = "resolutionType"  # extension attribute: repair | customerEducation
USAGE = "usage"  # the root cause of a usage error (customer education)


# -- use cases -----------------------------------------------------------------------------------------------


def record_action(
    db: Database, ticket_id: str, values: dict[str, Any], *, clock: Clock, actor: str, policy: p.Policy | None
) -> report.Recorded:
    """Manage / Report Customer Product Restoration (1.3.7.6.1, 1.3.7.6.2): record an action with exactly
    one outcome and tell Track & Manage. `restored` lets the report be cleared; `restoredByWorkaround`
    (1.3.7.6.4) too, and opens its permanent fix (a known error and a change request, 1.3.7.6.6);
    `restorationFailed` keeps the report open and hands it back to coordination (1.3.7.3.1)."""
    action = rs.parse_action(values)
    rules = rules_of(policy)
    with db.begin() as conn:
        current = report.open_report(conn, ticket_id)
        now = clock.now()
        draft = _Draft({"resolutionType": action.resolution_type.value}, {}, {**current.extensions})
        draft.extensions[OUTCOME] = action.outcome.value
        entries: list[HistoryEntry] = []
        items: list[rs.Item] = []
        link: ke.KnownError | None = None
        if action.resolution_type is rs.ResolutionType.CUSTOMER_EDUCATION:
            entries.append(_educate(action, current, draft, actor, now))
        if action.outcome is rs.Outcome.RESTORED_BY_WORKAROUND:
            link, cr, more = _workaround(conn, action, current, draft, rules, actor, now)
            entries += more
            items += [cr] if cr is not None else []
        if action.outcome is rs.Outcome.RESTORATION_FAILED or current.status is not Status.IN_PROGRESS:
            draft.changes |= _back_to_work(current, action)
        changes = {**draft.changes, "extensions": draft.extensions}
        details = draft.details
        record = store.add_record(
            conn,
            rs.Record(
                ticket_id, "", rs.Kind.ACTION, action.outcome.value, action.description, actor, now, details
            ),
        )
        entries.insert(
            0,
            report.entry(
                ticket_id,
                now,
                actor,
                etom.REPORT_RESTORATION,
                "restorationReported",
                f"action {record.id}: {action.outcome.value}: {action.description}",
            ),
        )
        history.append_many(conn, entries)
        said = f"restorationReported: {action.outcome.value} (action {record.id})"
        updated = report.write(conn, current, changes, actor, now, policy, known_error=link, reason=said)
        if action.outcome is rs.Outcome.RESTORATION_FAILED:
            report.replan(
                conn,
                updated,
                rules.failed_task,
                "restoration failed: " + action.description,
                policy,
                actor,
                now,
            )
        return report.Recorded(record, updated, tuple(items))


@dataclass(slots=True)
class _Draft:
    """What an action will record (`details`) and change on the report, built up by its outcome."""

    details: dict[str, Any]
    changes: dict[str, Any]
    extensions: dict[str, Any]


def _educate(
    action: rs.Action, current: TroubleTicket, draft: _Draft, actor: str, now: datetime
) -> HistoryEntry:
    """Customer education (usage error): a customer-facing note with the guidance, root cause `usage`."""
    assert action.guidance is not None
    draft.details["guidance"] = action.guidance
    draft.extensions |= {RESOLUTION_TYPE: action.resolution_type.value, ROOT_CAUSE: USAGE}
    note = Note(text=f"How to use your product: {action.guidance}", author=actor)
    draft.changes["note"] = [*current.note, note]
    return report.entry(current.id, now, actor, etom.MANAGE_RESTORATION, "customerEducated", action.guidance)


def _workaround(
    conn: Connection,
    action: rs.Action,
    current: TroubleTicket,
    draft: _Draft,
    rules: p.RestorationRules,
    actor: str,
    now: datetime,
) -> tuple[ke.KnownError | None, rs.Item | None, list[HistoryEntry]]:
    """Implement Customer Problem Workaround (1.3.7.6.4) and open its permanent fix."""
    workaround = action.workaround or action.description
    draft.details["workaround"] = workaround
    said = report.entry(
        current.id, now, actor, etom.IMPLEMENT_WORKAROUND, "workaroundImplemented", workaround
    )
    link, cr, more = _permanent_fix(conn, current, action, workaround, rules, actor, now)
    if cr is not None:
        draft.details["changeRequest"] = str(cr.id)
        draft.changes["related_entity"] = [*current.related_entity, report.ref(cr)]
    if link is not None:
        draft.details["knownError"] = str(link.id)
    return link, cr, [said, *more]


def _back_to_work(current: TroubleTicket, action: rs.Action) -> dict[str, Any]:
    """The report (back) in progress: a failed restoration re-enters coordination; any action on a report
    not yet in progress starts its work."""
    if current.status is Status.IN_PROGRESS:
        return {}
    why = (
        f"restoration failed: {action.description}"
        if action.outcome is rs.Outcome.RESTORATION_FAILED
        else f"restoration {action.outcome.value}"
    )
    return {"status": Status.IN_PROGRESS, "status_change_reason": why}


def _permanent_fix(
    conn: Connection,
    ticket: TroubleTicket,
    action: rs.Action,
    workaround: str,
    rules: p.RestorationRules,
    actor: str,
    now: datetime,
) -> tuple[ke.KnownError | None, rs.Item | None, list[HistoryEntry]]:
    """A workaround leaves the problem behind it open: a change request for the permanent fix (1.3.7.6.6)
    and a known error carrying the workaround (linked, or recorded from the report, 1.3.7.1.9)."""
    entries: list[HistoryEntry] = []
    known: ke.KnownError | None = None
    if action.known_error_id is not None:
        try:
            known = known_errors.get(conn, action.known_error_id, for_update=True)
        except NotFound:
            raise InvalidInput(
                f"no known error with id '{action.known_error_id}'", field="knownError"
            ) from None
    elif rules.workaround_known_error and ticket.tracking is not None:
        source = known_errors.source_of(conn, ticket.id)
        known = known_errors.get(conn, source, for_update=True) if source is not None else None
        if known is None:
            known = _record_known_error(conn, ticket, workaround, now)
            entries.append(
                report.entry(
                    ticket.id,
                    now,
                    actor,
                    etom.CREATE_KNOWN_RECORD,
                    "knownErrorCreated",
                    f"known error {known.id} '{known.title}' with the workaround",
                )
            )
    cr: rs.Item | None = None
    if rules.workaround_change_request or action.change_request is not None:
        what = (
            action.change_request or f"Permanent fix for the workaround on report {ticket.id}: {workaround}"
        )
        cr = store.add_item(
            conn,
            rs.Item(
                0,
                rs.ItemKind.CHANGE_REQUEST,
                ticket.id,
                rs.ItemState.OPEN,
                what[: rs.MAX_TEXT],
                now,
                now,
                known_error_id=known.id if known else None,
            ),
        )
        entries.append(
            report.entry(
                ticket.id,
                now,
                actor,
                etom.INITIATE_CHANGE_REQUEST,
                "changeRequestInitiated",
                f"change request {cr.id}: {cr.description}",
            )
        )
    if known is not None:
        if cr is not None and known.change_request is None:
            changed = replace(known, change_request=str(cr.id), version=known.version + 1, updated=now)
            if not known_errors.save(conn, changed, previous=known):
                raise Conflict(f"known error '{known.id}' was changed concurrently; try again")
            known = changed
        if known.source_ticket_id != ticket.id:
            known_errors.record_hit(conn, known.id, ticket.id, now, None)
            entries.append(
                report.entry(
                    ticket.id,
                    now,
                    actor,
                    etom.IMPLEMENT_WORKAROUND,
                    "knownErrorLinked",
                    f"known error {known.id} '{known.title}'",
                )
            )
    return known, cr, entries


def _record_known_error(
    conn: Connection, ticket: TroubleTicket, workaround: str, now: datetime
) -> ke.KnownError:
    assert ticket.tracking is not None
    values: dict[str, Any] = {
        "title": (ticket.name or ticket.description)[:120],
        "symptom": ticket.description,
        "workaround": workaround,
    }
    root_cause = ticket.extensions.get(ROOT_CAUSE)
    if isinstance(root_cause, str) and root_cause.strip():
        values["root_cause"] = root_cause
    new = ke.new_known_error(values, now=now, source_ticket_id=ticket.id)
    new = replace(new, id=known_errors.add(conn, new))
    known_errors.record_hit(conn, new.id, ticket.id, now, None)
    return new
