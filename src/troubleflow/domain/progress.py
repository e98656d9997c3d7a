"""Customer progress updates (the 1.3.7.3 flow's *Monitor Resolution Update*, told by Notify Customer
Problem, 1.3.7.2.4): what the customer is told about a work plan, and when the next update is due. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from troubleflow.domain.work_plan import Task, TaskState
from troubleflow.errors import InvalidInput


def progress_text(plan_: Sequence[Task], eta: datetime | None) -> str:
    """The customer-facing progress summary (Monitor Resolution Update): counts, what is being worked on,
    and the expected resolution. Engineers' names and internal notes stay out."""
    live = [t for t in plan_ if t.state is not TaskState.CANCELLED]
    done = sum(t.state is TaskState.DONE for t in live)
    working = [t.name for t in live if t.state is TaskState.IN_PROGRESS]
    parts = [f"Progress update: {done} of {len(live)} steps done"]
    if working:
        parts.append("in progress: " + "; ".join(working))
    if eta is not None:
        parts.append("expected resolution " + eta.isoformat(timespec="minutes"))
    return ", ".join(parts) + "."


def next_progress(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """The next progress update after one due at `due`: one interval later, skipping the slots a stopped
    worker missed (the customer hears once per interval, never a burst of catch-up updates)."""
    if interval <= timedelta(0):
        raise InvalidInput("a progress update interval must be positive")
    nxt = due + interval
    if nxt <= now:
        nxt += interval * ((now - nxt) // interval + 1)
    return nxt
