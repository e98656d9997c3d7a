"""The Close Customer Problem Report (1.3.7.4) state of one report: what the customer answered, how often
the report was reopened, how it was closed and the improvement opportunities recorded on it.

Server-owned; stored in the report document like `tracking` and rendered as TMF630 extension attributes
(docs/closure.md). The rules that change it live in `domain/close.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# How a report was closed (the `closureMethod` extension attribute).
CONFIRMED = "confirmed"  # the customer confirmed the fix (Contact Customer, 1.3.7.4.1)
AUTO_CLOSED = "autoClosed"  # no answer within the policy's `close.auto_close_after`
CLOSED_BY_AGENT = "closedByAgent"  # an agent closed it (PATCH status, `troubleflow ticket close`)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the customer says when asked whether the problem is fixed (1.3.7.4.1): fixed or not, and an
    optional satisfaction score (1..5) with a comment."""

    fixed: bool
    score: int | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The customer's latest answer, as recorded."""

    fixed: bool
    answered: datetime
    score: int | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Improvement:
    """An improvement opportunity learned from the report (1.3.7.4.5); append-only."""

    id: str
    text: str
    author: str
    date: datetime


@dataclass(frozen=True, slots=True)
class Closure:
    reopen_count: int = 0  # times the report went from cleared (resolved) back to inProgress
    survey_requested: datetime | None = None  # when the customer was last asked (cleared, survey on)
    satisfaction: Satisfaction | None = None
    method: str | None = None  # CONFIRMED, AUTO_CLOSED or CLOSED_BY_AGENT once closed
    improvements: tuple[Improvement, ...] = ()
