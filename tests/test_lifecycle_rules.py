"""The TMF621 lifecycle as a pure domain rule: the one table, status history and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from troubleflow.domain.events import EventKind
from troubleflow.domain.merge_patch import apply_merge_patch
from troubleflow.domain.status import FINAL_STATUSES, TRANSITIONS, Status, check_transition
from troubleflow.domain.ticket import Note, change_ticket, open_ticket
from troubleflow.errors import InvalidInput, InvalidTransition

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VALUES = {"description": "no dial tone", "severity": "Major", "ticket_type": "incident"}


def test_new_report_starts_acknowledged_with_one_history_entry() -> None:
    ticket, event = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)

    assert ticket.status is Status.ACKNOWLEDGED
    assert [(c.status, c.change_date) for c in ticket.status_change] == [(Status.ACKNOWLEDGED, NOW)]
    assert event.kind is EventKind.CREATED


def test_client_sent_status_does_not_choose_the_initial_status() -> None:
    ticket, _ = open_ticket({**VALUES, "status": Status.CLOSED}, ticket_id="t1", now=NOW)

    assert ticket.status is Status.ACKNOWLEDGED


@pytest.mark.parametrize("missing", ["description", "severity", "ticket_type"])
def test_create_without_a_mandatory_attribute_is_refused(missing: str) -> None:
    values = {k: v for k, v in VALUES.items() if k != missing}

    with pytest.raises(InvalidInput, match=missing):
        open_ticket(values, ticket_id="t1", now=NOW)


def test_final_statuses_are_closed_cancelled_rejected() -> None:
    assert {Status.CLOSED, Status.CANCELLED, Status.REJECTED} == FINAL_STATUSES


def test_every_lifecycle_arrow_of_the_tmf621_diagram_is_allowed() -> None:
    arrows = {
        ("acknowledged", "inProgress"),
        ("acknowledged", "rejected"),
        ("acknowledged", "cancelled"),
        ("inProgress", "held"),
        ("held", "inProgress"),
        ("inProgress", "pending"),
        ("pending", "inProgress"),
        ("pending", "cancelled"),
        ("inProgress", "resolved"),
        ("inProgress", "cancelled"),
        ("resolved", "closed"),
        ("resolved", "inProgress"),
    }

    allowed = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}

    assert allowed == arrows


def test_illegal_transition_is_refused_and_names_the_allowed_ones() -> None:
    with pytest.raises(InvalidTransition, match="allowed: cancelled, inProgress, rejected"):
        check_transition(Status.ACKNOWLEDGED, Status.CLOSED)


def test_resolving_sets_resolution_date_and_emits_status_and_resolved_events() -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)
    ticket, _ = change_ticket(ticket, {"status": Status.IN_PROGRESS}, now=NOW + timedelta(minutes=1))

    later = NOW + timedelta(hours=2)
    ticket, events = change_ticket(
        ticket, {"status": Status.RESOLVED, "status_change_reason": "fixed"}, now=later
    )

    assert ticket.resolution_date == later
    assert ticket.status_change_reason == "fixed"
    assert [e.kind for e in events] == [EventKind.STATUS_CHANGED, EventKind.RESOLVED]


def test_moving_to_pending_asks_for_information() -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)
    ticket, _ = change_ticket(ticket, {"status": Status.IN_PROGRESS}, now=NOW)

    _, events = change_ticket(ticket, {"status": Status.PENDING, "status_change_reason": "need MAC"}, now=NOW)

    assert EventKind.INFORMATION_REQUIRED in [e.kind for e in events]


def test_unchanged_values_produce_no_event_and_keep_the_version() -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)

    same, events = change_ticket(ticket, {"severity": "Major"}, now=NOW + timedelta(hours=1))

    assert events == []
    assert same.version == ticket.version


def test_server_owned_attributes_are_not_patchable() -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)

    with pytest.raises(InvalidInput, match="not patchable: creation_date"):
        change_ticket(ticket, {"creation_date": NOW}, now=NOW)


def test_notes_cannot_be_removed_or_edited() -> None:
    ticket, _ = open_ticket({**VALUES, "note": [Note(text="first")]}, ticket_id="t1", now=NOW)

    with pytest.raises(InvalidInput, match="cannot be removed"):
        change_ticket(ticket, {"note": []}, now=NOW)
    with pytest.raises(InvalidInput, match="cannot be edited"):
        change_ticket(ticket, {"note": [Note(id="1", text="rewritten", date=NOW)]}, now=NOW)


def test_new_notes_get_the_next_id_and_a_date() -> None:
    ticket, _ = open_ticket({**VALUES, "note": [Note(text="first")]}, ticket_id="t1", now=NOW)
    later = NOW + timedelta(minutes=5)

    ticket, events = change_ticket(ticket, {"note": [*ticket.note, Note(text="second")]}, now=later)

    assert [(n.id, n.text, n.date) for n in ticket.note] == [("1", "first", NOW), ("2", "second", later)]
    assert events[0].fields == ("note",)


@given(st.lists(st.sampled_from(list(Status)), max_size=25))
def test_any_sequence_of_moves_keeps_history_consistent_with_the_table(targets: list[Status]) -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)
    accepted = [Status.ACKNOWLEDGED]
    for step, target in enumerate(targets):
        legal = target in TRANSITIONS[ticket.status]
        try:
            ticket, _ = change_ticket(ticket, {"status": target}, now=NOW + timedelta(minutes=step))
        except InvalidTransition:
            assert not legal and target != ticket.status
            continue
        if target != accepted[-1]:
            assert legal
            accepted.append(target)

    assert [c.status for c in ticket.status_change] == accepted
    assert ticket.status is accepted[-1]
    assert ticket.version == len(accepted)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
        max_leaves=10,
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
        max_leaves=10,
    ),
)
def test_merge_patch_follows_rfc7386(target: object, patch: object) -> None:
    result = apply_merge_patch(target, patch)

    if not isinstance(patch, dict):
        assert result == patch
    else:
        assert isinstance(result, dict)
        for key, value in patch.items():
            if value is None:
                assert key not in result
            elif not isinstance(value, dict):
                assert result[key] == value


def test_merge_patch_rfc7386_appendix_example() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }

    assert apply_merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }
