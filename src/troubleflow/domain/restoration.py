"""Correct & Recover Customer Problem (eTOM 1.3.7.6): the records a restoration leaves on a report and the
rules they impose. Pure: no storage, no web.

A report's restoration trail is append-only: restoration actions with exactly one outcome (1.3.7.6.1,
1.3.7.6.2), feasibility decisions (1.3.7.6.3), solution validations (1.3.7.6.5) and major-problem reviews
(1.3.7.6.7). Beside it live the items a restoration opens and that outlive the report: change requests
(1.3.7.6.6, the permanent fix behind a workaround), product order requests (re-assessment: withdraw,
upgrade or renew the purchased offering) and requests to other CRM processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from troubleflow.domain import etom
from troubleflow.domain.policy import RestorationRules as Rules
from troubleflow.errors import Conflict, InvalidInput, InvalidTransition

MAX_TEXT = 4000


class Outcome(StrEnum):
    """The three results Report Customer Product Restoration (1.3.7.6.2) gives Track & Manage."""

    RESTORED = "restored"
    RESTORED_BY_WORKAROUND = "restoredByWorkaround"
    RESTORATION_FAILED = "restorationFailed"


SUCCESSFUL = frozenset({Outcome.RESTORED, Outcome.RESTORED_BY_WORKAROUND})


class ResolutionType(StrEnum):
    """How the report was corrected (the seed's list): a repair, or educating the customer (usage error)."""

    REPAIR = "repair"
    CUSTOMER_EDUCATION = "customerEducation"


class Kind(StrEnum):
    """The kinds of record on a report's restoration trail."""

    ACTION = "restorationAction"
    FEASIBILITY = "feasibility"
    VALIDATION = "solutionValidation"
    REVIEW = "majorProblemReview"


# The process that records each kind (the audit trail carries it).
PROCESS_OF = {
    Kind.ACTION: etom.REPORT_RESTORATION,
    Kind.FEASIBILITY: etom.RESOLUTION_FEASIBILITY,
    Kind.VALIDATION: etom.VALIDATE_SOLUTION,
    Kind.REVIEW: etom.REVIEW_MAJOR_PROBLEM,
}


@dataclass(frozen=True, slots=True)
class Record:
    """One entry of a report's restoration trail; `id` is its number within the report ("1", "2", …).
    `outcome` is the action's outcome, the feasibility decision (`feasible`/`notFeasible`), the
    validation's result (`passed`/`failed`) or `reviewed`; `details` holds the kind's other facts."""

    ticket_id: str
    id: str
    kind: Kind
    outcome: str
    description: str
    actor: str
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


# -- input ----------------------------------------------------------------------------------------------


def text(values: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    """A non-empty text of at most MAX_TEXT characters (InvalidInput naming the attribute otherwise)."""
    value = values.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' must be a non-empty text", field=name)
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"'{name}' must be at most {MAX_TEXT} characters", field=name)
    return value.strip()


def parse_outcome(value: Any) -> Outcome:
    """Exactly one outcome: a list, an object or an unknown word is refused."""
    allowed = ", ".join(o.value for o in Outcome)
    if isinstance(value, list):
        raise InvalidInput(
            f"a restoration action has exactly one 'outcome' (one of: {allowed})", field="outcome"
        )
    try:
        return Outcome(value)
    except ValueError:
        raise InvalidInput(
            f"'{value}' is not a restoration outcome; use one of: {allowed}", field="outcome"
        ) from None


@dataclass(frozen=True, slots=True)
class Action:
    """A restoration action as asked for: its outcome, what was done (or why it failed) and, by outcome,
    the guidance given (education), the workaround and its permanent-fix items."""

    outcome: Outcome
    description: str
    resolution_type: ResolutionType = ResolutionType.REPAIR
    guidance: str | None = None
    workaround: str | None = None
    known_error_id: int | None = None
    change_request: str | None = None  # the change wanted for the permanent fix (1.3.7.6.6)


def parse_action(values: Mapping[str, Any]) -> Action:
    """Check a restoration action (InvalidInput, nothing recorded): one known outcome, a description
    (what was done, or the reason it failed), guidance for customer education, which restores."""
    outcome = parse_outcome(values.get("outcome"))
    description = text(values, "description", required=True)
    assert description is not None
    raw_type = values.get("resolution_type") or ResolutionType.REPAIR.value
    try:
        resolution_type = ResolutionType(raw_type)
    except ValueError:
        allowed = ", ".join(r.value for r in ResolutionType)
        raise InvalidInput(
            f"'{raw_type}' is not a resolution type; use one of: {allowed}", field="resolutionType"
        ) from None
    guidance = text(values, "guidance", required=resolution_type is ResolutionType.CUSTOMER_EDUCATION)
    if resolution_type is ResolutionType.CUSTOMER_EDUCATION and outcome is not Outcome.RESTORED:
        raise InvalidInput(
            "customer education restores the product: its outcome is 'restored'", field="outcome"
        )
    workaround = text(values, "workaround", required=False)
    change = text(values, "change_request", required=False)
    known = values.get("known_error_id")
    if outcome is not Outcome.RESTORED_BY_WORKAROUND and (workaround or change or known is not None):
        raise InvalidInput(
            "a workaround, a known error or a change request belongs to outcome 'restoredByWorkaround'",
            field="outcome",
        )
    if known is not None and (isinstance(known, bool) or not isinstance(known, int) or known < 1):
        raise InvalidInput("'knownError.id' must name a known error", field="knownError")
    return Action(outcome, description, resolution_type, guidance, workaround, known, change)


# -- rules ----------------------------------------------------------------------------------------------


def successful_actions(records: Iterable[Record]) -> list[Record]:
    return [r for r in records if r.kind is Kind.ACTION and r.outcome in SUCCESSFUL]


def latest_action(records: Iterable[Record]) -> Record | None:
    actions = [r for r in records if r.kind is Kind.ACTION]
    return actions[-1] if actions else None


def validated(records: Iterable[Record]) -> bool:
    """A successful outcome validated (1.3.7.6.5): the latest action succeeded and a passing validation
    was recorded after it."""
    trail = list(records)
    last = latest_action(trail)
    if last is None or last.outcome not in SUCCESSFUL:
        return False
    after = [r for r in trail if r.kind is Kind.VALIDATION and int(r.id) > int(last.id)]
    return bool(after) and after[-1].outcome == "passed"


def check_clearable(records: Iterable[Record], open_orders: Iterable[str], rules: Rules) -> None:
    """Refuse clearing (TMF `resolved`) while a product order request is open (the report waits for the
    order) or, with `validate_before_clear`, before a successful outcome was validated (1.3.7.6.5)."""
    orders = list(open_orders)
    if orders:
        raise Conflict(
            f"the report waits for product order request {', '.join(orders)}: it cannot be cleared "
            "before its completion is reported",
            field="status",
        )
    if rules.validate_before_clear and not validated(records):
        raise Conflict(
            "the report cannot be cleared before a successful restoration outcome is validated "
            "(solutionValidation, Validate Customer Problem Solution 1.3.7.6.5)",
            field="status",
        )


def is_major(rules: Rules, priority: str | None, severity: str | None, outage_master: bool) -> bool:
    """A major problem (policy): its priority or severity is listed, or it is a major-outage master."""
    return (
        (priority is not None and priority in rules.major_priorities)
        or (severity is not None and severity.lower() in {s.lower() for s in rules.major_severities})
        or (rules.major_outage_masters and outage_master)
    )


def check_closable(records: Iterable[Record], major: bool) -> None:
    """A major problem closes only after its review (Review Major Problem, 1.3.7.6.7)."""
    if major and not any(r.kind is Kind.REVIEW for r in records):
        raise Conflict(
            "a major problem cannot close without its major problem review (majorProblemReview, "
            "Review Major Problem 1.3.7.6.7)",
            field="status",
        )


# -- items that outlive the report ------------------------------------------------------------------------


class ItemState(StrEnum):
    """The lifecycle of a change request or an outbound request (product order, CRM process)."""

    OPEN = "open"  # change request raised / request sent
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_ITEM_STATES = frozenset({ItemState.OPEN, ItemState.IN_PROGRESS})
ITEM_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    ItemState.OPEN: frozenset(
        {ItemState.IN_PROGRESS, ItemState.COMPLETED, ItemState.FAILED, ItemState.CANCELLED}
    ),
    ItemState.IN_PROGRESS: frozenset({ItemState.COMPLETED, ItemState.FAILED, ItemState.CANCELLED}),
    ItemState.COMPLETED: frozenset(),
    ItemState.FAILED: frozenset(),
    ItemState.CANCELLED: frozenset(),
}


def parse_item_state(value: Any) -> ItemState:
    try:
        return ItemState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ItemState)
        raise InvalidInput(f"'{value}' is not a state; use one of: {allowed}", field="state") from None


def check_item_move(current: ItemState, target: ItemState) -> None:
    if target not in ITEM_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ITEM_TRANSITIONS[current])) or "none (final state)"
        raise InvalidTransition(
            f"a request in state '{current.value}' cannot move to '{target.value}'; allowed: {allowed}",
            field="state",
        )


class ItemKind(StrEnum):
    CHANGE_REQUEST = "changeRequest"
    PRODUCT_ORDER = "productOrderRequest"
    PROCESS_REQUEST = "processRequest"


class ProductAction(StrEnum):
    """Re-assessment of the customer's needs (seed 002): the purchased offering is withdrawn, upgraded or
    renewed through Customer Order Handling."""

    WITHDRAW = "withdraw"
    UPGRADE = "upgrade"
    RENEW = "renew"


ORDER_HANDLING = "1.3.3"  # Customer Order Handling: where product order requests go (hand-off H9)


@dataclass(frozen=True, slots=True)
class Item:
    """A change request, a product order request or a request to another CRM process, opened by a
    restoration. It keeps its own lifecycle and stays tracked after the report closes."""

    id: int
    kind: ItemKind
    ticket_id: str
    state: ItemState
    description: str
    created: datetime
    updated: datetime
    target_process: str | None = None  # the eTOM process asked (process and product order requests)
    action: str | None = None  # withdraw | upgrade | renew (product order requests)
    product_id: str | None = None
    known_error_id: int | None = None  # the known error the change request fixes
    reason: str | None = None  # why it reached its state
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ITEM_STATES


def parse_product_action(value: Any) -> ProductAction:
    try:
        return ProductAction(value)
    except ValueError:
        allowed = ", ".join(a.value for a in ProductAction)
        raise InvalidInput(
            f"'{value}' is not a product action; use one of: {allowed}", field="action"
        ) from None


def check_target_process(value: Any) -> str:
    """A request to another CRM process names its eTOM process id (e.g. 1.3.5.x billing, 1.3.3 order
    handling): dotted digits within the CRM layer 1.3."""
    if (
        not isinstance(value, str)
        or not value.startswith("1.3.")
        or not all(p.isdigit() for p in value.split("."))
    ):
        raise InvalidInput(
            "'targetProcess' must be the eTOM id of a CRM process (1.3.x, e.g. 1.3.5.4)",
            field="targetProcess",
        )
    if value.startswith("1.3.7.") or value == "1.3.7":
        raise InvalidInput(
            "'targetProcess' must be another CRM process than Problem Handling", field="targetProcess"
        )
    return value
