"""TMF621 trouble ticket statuses and the one lifecycle table that every change goes through.

The table is the TMF621 v4/v5 lifecycle diagram (research note tmf-apis.md §3). eTOM's *cleared*
(set by Track & Manage Customer Problem, 1.3.7.3) is TMF `resolved`.
"""

from __future__ import annotations

from enum import StrEnum

from troubleflow.errors import InvalidTransition


class Status(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PENDING = "pending"
    HELD = "held"
    IN_PROGRESS = "inProgress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


INITIAL_STATUS = Status.ACKNOWLEDGED

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.REJECTED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.HELD, Status.PENDING, Status.RESOLVED, Status.CANCELLED}),
    Status.HELD: frozenset({Status.IN_PROGRESS}),
    Status.PENDING: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.REJECTED: frozenset(),
}

FINAL_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        from troubleflow.errors import InvalidInput

        raise InvalidInput(
            f"'{value}' is not a trouble ticket status; use one of: {allowed}", field="status"
        ) from None


def check_transition(current: Status, target: Status) -> None:
    """Raise InvalidTransition unless the lifecycle allows `current` → `target`."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final status)"
        raise InvalidTransition(
            f"a ticket in status '{current.value}' cannot move to '{target.value}'; allowed: {allowed}",
            field="status",
        )
