"""Close Customer Problem Report (1.3.7.4) as pure rules: what a report needs before it is cleared and
closed (1.3.7.4.2), the customer's answer (1.3.7.4.1: fixed closes it, not fixed reopens it), auto-close
without an answer, improvement opportunities (1.3.7.4.5), and the restoration figures over many reports.

The root cause and the resolution are client-owned TMF630 extension attributes (`rootCause`,
`resolution`, free text); the restoration time is TMF `resolutionDate` (set on clearing, correctable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from troubleflow.domain.closure import (
    AUTO_CLOSED,
    CLOSED_BY_AGENT,
    CONFIRMED,
    Answer,
    Closure,
    Improvement,
    Satisfaction,
)
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.policy import CloseRules
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket, change_ticket
from troubleflow.errors import InvalidInput

ROOT_CAUSE = "rootCause"
RESOLUTION = "resolution"
RESTORATION_TIME = "resolutionDate"
SCORES = range(1, 6)
_MAX_TEXT = 4000


def check_answer(answer: Answer) -> Answer:
    """A satisfaction score is 1 (very unhappy) .. 5 (very happy); a comment is short text."""
    if answer.score is not None and answer.score not in SCORES:
        raise InvalidInput(f"'score' must be an integer in 1..5, not {answer.score}", field="score")
    if answer.comment is not None and len(answer.comment) > _MAX_TEXT:
        raise InvalidInput(f"'comment' is longer than {_MAX_TEXT} characters", field="comment")
    return answer


def text_of(ticket: TroubleTicket, key: str) -> str | None:
    value = ticket.extensions.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def resolution_of(ticket: TroubleTicket) -> str | None:
    """The `resolution` attribute, else the reason the report was last cleared with."""
    given = text_of(ticket, RESOLUTION)
    if given is not None:
        return given
    cleared = [c for c in ticket.status_change if c.status is Status.RESOLVED]
    reason = cleared[-1].change_reason if cleared else None
    return reason.strip() if reason and reason.strip() else None


def missing(ticket: TroubleTicket, rules: CloseRules) -> list[str]:
    """Validate Customer Problem Report (1.3.7.4.2): the attributes the policy requires that are absent."""
    wanted = [
        (rules.require_root_cause, ROOT_CAUSE, text_of(ticket, ROOT_CAUSE)),
        (rules.require_resolution, RESOLUTION, resolution_of(ticket)),
        (rules.require_restoration_time, RESTORATION_TIME, ticket.resolution_date),
    ]
    return [name for required, name, value in wanted if required and value is None]


def _check_texts(current: TroubleTicket, updated: TroubleTicket) -> None:
    for key in (ROOT_CAUSE, RESOLUTION):
        value = updated.extensions.get(key)
        if value == current.extensions.get(key) or value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
            raise InvalidInput(f"'{key}' must be non-empty text of at most {_MAX_TEXT} characters", field=key)


def follow(
    current: TroubleTicket,
    updated: TroubleTicket,
    rules: CloseRules | None,
    answer: Answer | None,
    now: datetime,
) -> TroubleTicket:
    """Keep the closure state with a report change, refusing (InvalidInput, nothing changed) a clearing
    without a resolution or a close without what the policy requires. `rules` is None for a report
    outside Track & Manage (no policy): the state is still kept, nothing is required."""
    _check_texts(current, updated)
    state = updated.closure or Closure()
    old, new = current.status, updated.status
    if new is Status.RESOLVED and old is not Status.RESOLVED:
        if rules is not None and rules.require_resolution and resolution_of(updated) is None:
            raise InvalidInput(
                "clearing a customer problem report needs a resolution: send 'resolution' or a "
                "'statusChangeReason'",
                field=RESOLUTION,
            )
        asked = now if rules is not None and rules.satisfaction_survey else None
        state = replace(state, survey_requested=asked, method=None)
    elif old is Status.RESOLVED and new is Status.IN_PROGRESS:
        state = replace(state, reopen_count=state.reopen_count + 1, survey_requested=None)
    elif old is Status.RESOLVED and new is Status.CLOSED:
        absent = missing(updated, rules) if rules is not None else []
        if absent:
            raise InvalidInput(
                f"the report cannot close: {', '.join(absent)} missing (Validate Customer Problem Report)",
                field=absent[0],
            )
        state = replace(state, method=CONFIRMED if answer is not None and answer.fixed else CLOSED_BY_AGENT)
    if answer is not None:
        satisfaction = Satisfaction(answer.fixed, now, answer.score, answer.comment)
        state = replace(state, satisfaction=satisfaction)
    if state == (updated.closure or Closure()):
        return updated
    return replace(updated, closure=state)


def auto_close(
    ticket: TroubleTicket, rules: CloseRules | None, now: datetime
) -> tuple[TroubleTicket, list[TicketEvent], list[str]]:
    """Close a cleared report the customer did not answer about: the closed report and its events, or
    the report unchanged and what it lacks (auto-close blocked). Not cleared: nothing to do."""
    if ticket.status is not Status.RESOLVED:
        return ticket, [], []
    absent = missing(ticket, rules) if rules is not None else []
    if absent:
        return ticket, [], absent
    reason = "closed without a customer answer"
    closed, events = change_ticket(ticket, {"status": Status.CLOSED, "status_change_reason": reason}, now=now)
    state = replace(closed.closure or Closure(), method=AUTO_CLOSED)
    return replace(closed, closure=state), events, []


def improve(
    ticket: TroubleTicket, text: str, author: str, now: datetime
) -> tuple[TroubleTicket, Improvement]:
    """Record an improvement opportunity (1.3.7.4.5) on the report; the list only grows."""
    if not text.strip() or len(text) > _MAX_TEXT:
        raise InvalidInput(
            f"an improvement opportunity needs text of 1..{_MAX_TEXT} characters", field="text"
        )
    state = ticket.closure or Closure()
    item = Improvement(str(len(state.improvements) + 1), text.strip(), author, now)
    state = replace(state, improvements=(*state.improvements, item))
    return replace(ticket, closure=state, version=ticket.version + 1, last_update=now), item


@dataclass(frozen=True, slots=True)
class RestorationMetrics:
    """Restoration figures over reports (research/etom.md §5): MTTR over cleared and closed reports, the
    cancelled ones excluded and counted (1.3.7.3.2), reopen rate and satisfaction at closure (1.3.7.4.1)."""

    restored: int  # reports cleared or closed with a restoration time
    cancelled_excluded: int
    mean_time_to_restore: timedelta | None
    reopened: int  # reports reopened at least once, among those ever cleared
    reopen_rate: float | None
    satisfaction_answers: int
    mean_satisfaction: float | None
    closed_by: dict[str, int]


def restoration_metrics(reports: Iterable[TroubleTicket], cancelled: int) -> RestorationMetrics:
    """The figures over `reports` (none of them cancelled: those are only counted, as `cancelled`)."""
    durations: list[timedelta] = []
    ever_cleared = reopened = 0
    scores: list[int] = []
    closed_by: dict[str, int] = {}
    for t in reports:
        if t.status is Status.CANCELLED:
            raise InvalidInput("cancelled reports are excluded from the restoration metrics")
        state = t.closure or Closure()
        if t.status in {Status.RESOLVED, Status.CLOSED} and t.resolution_date and t.creation_date:
            durations.append(t.resolution_date - t.creation_date)
        if t.status in {Status.RESOLVED, Status.CLOSED} or state.reopen_count:
            ever_cleared += 1
            reopened += 1 if state.reopen_count else 0
        if state.satisfaction is not None and state.satisfaction.score is not None:
            scores.append(state.satisfaction.score)
        if t.status is Status.CLOSED and state.method:
            closed_by[state.method] = closed_by.get(state.method, 0) + 1
    return RestorationMetrics(
        restored=len(durations),
        cancelled_excluded=cancelled,
        mean_time_to_restore=_mean(durations),
        reopened=reopened,
        reopen_rate=reopened / ever_cleared if ever_cleared else None,
        satisfaction_answers=len(scores),
        mean_satisfaction=sum(scores) / len(scores) if scores else None,
        closed_by=closed_by,
    )


def _mean(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None
