"""Check Known Error (the 1.3.7.3 flow's ITIL candidate, recorded as 1.3.7.1.6 Identify Root Cause / Check
for Workarounds): a new, diagnosed report is matched against the known-error database inside its
creation transaction; a match is linked on the report and its workaround offered in a note."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain import known_error as ke
from troubleflow.domain.policy import Policy
from troubleflow.domain.ticket import Note, TroubleTicket
from troubleflow.storage import history, known_errors
from troubleflow.storage.history import HistoryEntry

ACTOR = "troubleflow"
CANDIDATES = 20  # best-ranked full-text candidates the matching rule looks at


def check(conn: Connection, ticket: TroubleTicket, policy: Policy, now: datetime) -> TroubleTicket:
    """Match the report's name and description (within its diagnosed category) against the active
    known errors; link the best match, offer its workaround, count the hit. Returns the report."""
    state = ticket.tracking
    if state is None:
        return ticket
    wanted = ke.terms(ticket.name, ticket.description)
    categories = ke.candidate_categories(state.category, policy.defaults.category)
    candidates = known_errors.search(conn, wanted, categories=categories, limit=CANDIDATES)
    scored = [(ke.matches(wanted, ke.symptom_terms(c)), c) for c in candidates]
    matched = [(score, c) for score, c in scored if score is not None]
    if not matched:
        reason = f"no known error matches ({len(candidates)} candidate(s) below the matching rule)"
        _log(conn, ticket.id, now, "knownErrorChecked", reason)
        return ticket
    score, best = max(matched, key=lambda m: m[0])  # max keeps the first (best-ranked) of equals
    note = Note(id=_next_note_id(ticket.note), text=ke.workaround_note(best), author=ACTOR, date=now)
    linked = replace(
        ticket,
        tracking=replace(state, known_error=ke.link_of(best, now, score=score)),
        note=[*ticket.note, note],
    )
    shared = sorted(set(wanted) & set(ke.symptom_terms(best)))
    reason = (
        f"known error {best.id} '{best.title}' matched (score {score}: {', '.join(shared)}); "
        f"workaround offered in note {note.id}"
    )
    _log(conn, ticket.id, now, "knownErrorOffered", reason)
    known_errors.record_hit(conn, best.id, ticket.id, now, score)
    return linked


def _next_note_id(notes: list[Note]) -> str:
    """Notes are numbered by the server ("1", "2", …); the next free number."""
    used = {n.id for n in notes}
    number = len(notes) + 1
    while str(number) in used:
        number += 1
    return str(number)


def _log(conn: Connection, ticket_id: str, now: datetime, action: str, reason: str) -> None:
    history.append(conn, HistoryEntry(ticket_id, now, ACTOR, etom.CHECK_KNOWN_ERROR, action, reason=reason))
