"""Close Customer Problem Report (1.3.7.4) as pure domain rules: what clearing and closing need, reopen
counting, auto-close, and the restoration figures (cancelled reports excluded)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from troubleflow.domain import close
from troubleflow.domain.closure import AUTO_CLOSED, CLOSED_BY_AGENT, CONFIRMED, Answer
from troubleflow.domain.policy import CloseRules
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket, change_ticket, open_ticket
from troubleflow.errors import InvalidInput

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULES = CloseRules(True, True, True, True, timedelta(days=5))
VALUES = {"description": "no dial tone", "severity": "Major", "ticket_type": "incident"}


def _move(
    t: TroubleTicket, status: Status, at: datetime, reason: str | None = None, **more: object
) -> TroubleTicket:
    changed, _ = change_ticket(t, {"status": status, "status_change_reason": reason, **more}, now=at)
    return close.follow(t, changed, RULES, None, at)


def _cleared(reason: str | None = "line card replaced", **extensions: object) -> TroubleTicket:
    ticket, _ = open_ticket({**VALUES, "extensions": dict(extensions)}, ticket_id="t1", now=NOW)
    ticket = _move(ticket, Status.IN_PROGRESS, NOW)
    return _move(ticket, Status.RESOLVED, NOW + 2 * HOUR, reason)


def test_the_clearing_reason_is_the_resolution_when_none_is_given() -> None:
    assert close.resolution_of(_cleared()) == "line card replaced"
    assert close.resolution_of(_cleared(resolution="swapped the card")) == "swapped the card"


def test_clearing_without_a_resolution_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs a resolution"):
        _cleared(reason=None)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (RULES, ["rootCause"]),
        (replace(RULES, require_root_cause=False), []),
    ],
)
def test_close_requires_what_the_policy_requires(rules: CloseRules, expected: list[str]) -> None:
    assert close.missing(_cleared(), rules) == expected


def test_close_without_root_cause_is_refused_and_with_it_closed_by_agent() -> None:
    ticket = _cleared()
    with pytest.raises(InvalidInput, match="rootCause missing"):
        _move(ticket, Status.CLOSED, NOW + 3 * HOUR)

    closed = _move(ticket, Status.CLOSED, NOW + 3 * HOUR, extensions={"rootCause": "water ingress"})

    assert closed.closure is not None and closed.closure.method == CLOSED_BY_AGENT


def test_a_fixed_answer_closes_as_confirmed_and_keeps_the_score() -> None:
    ticket = _cleared(rootCause="water ingress")
    changed, _ = change_ticket(ticket, {"status": Status.CLOSED}, now=NOW + 3 * HOUR)

    closed = close.follow(ticket, changed, RULES, Answer(True, 5, "thanks"), NOW + 3 * HOUR)

    assert closed.closure is not None and closed.closure.method == CONFIRMED
    assert closed.closure.satisfaction is not None and closed.closure.satisfaction.score == 5


def test_every_reopen_of_a_cleared_report_is_counted() -> None:
    ticket = _move(_cleared(), Status.IN_PROGRESS, NOW + 3 * HOUR)
    ticket = _move(ticket, Status.RESOLVED, NOW + 4 * HOUR, "port reset")
    ticket = _move(ticket, Status.IN_PROGRESS, NOW + 5 * HOUR)

    assert ticket.closure is not None and ticket.closure.reopen_count == 2
    assert ticket.resolution_date is None  # no longer restored


def test_auto_close_closes_a_complete_report_and_names_what_blocks_an_incomplete_one() -> None:
    closed, events, absent = close.auto_close(_cleared(rootCause="x"), RULES, NOW + 5 * 24 * HOUR)
    assert closed.status is Status.CLOSED and events and absent == []
    assert closed.closure is not None and closed.closure.method == AUTO_CLOSED

    kept, events, absent = close.auto_close(_cleared(), RULES, NOW + 5 * 24 * HOUR)
    assert kept.status is Status.RESOLVED and events == [] and absent == ["rootCause"]


def test_restoration_metrics_refuse_cancelled_reports() -> None:
    ticket, _ = open_ticket(dict(VALUES), ticket_id="t1", now=NOW)
    cancelled = _move(ticket, Status.CANCELLED, NOW, "duplicate")

    with pytest.raises(InvalidInput, match="excluded"):
        close.restoration_metrics([cancelled], 0)
    figures = close.restoration_metrics([_cleared(), ticket], 1)
    assert (figures.restored, figures.cancelled_excluded, figures.mean_time_to_restore) == (1, 1, 2 * HOUR)
