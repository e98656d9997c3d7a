"""The eTOM process registry: identifiers are keys (stored in the audit trail), names are labels.

Identifiers follow the current (v25.5) numbering; `seed_name` is the Frameworx 16 name the seed pages
use where it differs (see research/etom.md §0 on the two naming eras).
"""

from __future__ import annotations

from dataclasses import dataclass

from troubleflow.domain.status import Status


@dataclass(frozen=True, slots=True)
class Process:
    id: str
    name: str
    level: int
    parent: str | None
    seed_name: str | None = None


_PROCESSES = (
    Process("1.3.1", "Customer Support & Readiness", 2, "1.3"),
    Process("1.3.7", "Customer Problem Management", 2, "1.3", "Problem Handling"),
    Process("1.3.7.1", "Isolate Customer Problem", 3, "1.3.7"),
    Process(
        "1.3.7.1.5", "Categorize Customer Problem", 4, "1.3.7.1", "Perform Initial Diagnosis (ITIL candidate)"
    ),
    Process(
        "1.3.7.1.6",
        "Identify Customer Problem Root Cause",
        4,
        "1.3.7.1",
        "Identify Root Cause / Check for Workarounds; the 1.3.7.3 flow's Check Known Error (ITIL candidate)",
    ),
    Process("1.3.7.1.9", "Create Customer Problem Known Record", 4, "1.3.7.1", "Create Known record"),
    Process("1.3.7.2", "Report Customer Problem", 3, "1.3.7"),
    Process("1.3.7.2.2", "Distribute Customer Problem Notifications", 4, "1.3.7.2"),
    Process("1.3.7.2.4", "Notify Customer Problem", 4, "1.3.7.2"),
    Process("1.3.7.3", "Manage Customer Problem Coordination", 3, "1.3.7", "Track & Manage Customer Problem"),
    Process("1.3.7.3.1", "Coordinate Customer Problem", 4, "1.3.7.3"),
    Process("1.3.7.3.2", "Cancel Customer Problem", 4, "1.3.7.3"),
    Process("1.3.7.3.3", "Escalate Customer Problem", 4, "1.3.7.3", "Escalate/End Customer Problem"),
    Process("1.3.7.3.4", "Monitor Customer Problem Jeopardy Status", 4, "1.3.7.3"),
    Process("1.3.7.3.5", "Prioritize Customer Problem", 4, "1.3.7.3"),
    Process("1.3.7.4", "Close Customer Problem Report", 3, "1.3.7"),
    Process("1.3.7.4.1", "Contact Customer", 4, "1.3.7.4"),
    Process(
        "1.3.7.4.2",
        "Validate Customer Problem Report",
        4,
        "1.3.7.4",
        "Complete and Validate Customer Problem Report",
    ),
    Process(
        "1.3.7.4.3",
        "Update Customer Problem Restoration Time",
        4,
        "1.3.7.4",
        "Update Time to Restore Service",
    ),
    Process("1.3.7.4.4", "Finalize Customer Problem Report", 4, "1.3.7.4"),
    Process(
        "1.3.7.4.5",
        "Communicate Customer Problem Improvement Opportunity",
        4,
        "1.3.7.4",
        "Communicate Service improvement Opportunity",
    ),
    Process("1.3.7.5", "Create Customer Problem Report", 3, "1.3.7"),
    Process("1.3.7.5.1", "Generate Customer Problem Report", 4, "1.3.7.5"),
    Process(
        "1.3.7.5.2", "Obtain Customer Problem Configuration", 4, "1.3.7.5", "Obtain Configuration Information"
    ),
    Process("1.3.7.5.3", "Check Customer Problem Outage", 4, "1.3.7.5", "Check for major outage"),
    Process("1.3.7.6", "Correct Customer Problem", 3, "1.3.7", "Correct & Recover Customer Problem"),
)

REGISTRY: dict[str, Process] = {p.id: p for p in _PROCESSES}

CREATE_REPORT = "1.3.7.5.1"
OBTAIN_CONFIGURATION = "1.3.7.5.2"
CHECK_OUTAGE = "1.3.7.5.3"
COORDINATE = "1.3.7.3.1"
CANCEL = "1.3.7.3.2"
ESCALATE_END = "1.3.7.3.3"
MONITOR_JEOPARDY = "1.3.7.3.4"
TRACK_AND_MANAGE = "1.3.7.3"
CLOSE = "1.3.7.4"
CONTACT_CUSTOMER = "1.3.7.4.1"  # satisfaction inquiry: the customer confirms the fix or reopens
VALIDATE_REPORT = "1.3.7.4.2"
UPDATE_RESTORATION_TIME = "1.3.7.4.3"
FINALIZE_REPORT = "1.3.7.4.4"
IMPROVEMENT_OPPORTUNITY = "1.3.7.4.5"
INITIAL_DIAGNOSIS = "1.3.7.1.5"  # the flow's "Perform Initial Diagnosis" (ITIL candidate) categorizes here
PRIORITIZE = "1.3.7.3.5"
# The flow's "Check Known Error" (ITIL candidate, never an L4) lands where eTOM checks for workarounds.
CHECK_KNOWN_ERROR = "1.3.7.1.6"
CREATE_KNOWN_RECORD = "1.3.7.1.9"
NOTIFY = "1.3.7.2.2"
NOTIFY_CUSTOMER = "1.3.7.2.4"  # customer-facing progress updates (the flow's Monitor Resolution Update)
SUPPORT_READINESS = "1.3.1"

# Which process performs a status change (research/etom.md §2.1): Track & Manage sets *cleared*
# (TMF resolved), Close closes, Cancel cancels, Create rejects an invalid report at reception.
_PROCESS_FOR_TARGET: dict[Status, str] = {
    Status.RESOLVED: TRACK_AND_MANAGE,
    Status.CLOSED: CLOSE,
    Status.CANCELLED: CANCEL,
    Status.REJECTED: "1.3.7.5",
}


def process_for_status(target: Status | None) -> str:
    """The process that performs a change ending in `target` (or a plain update when None)."""
    if target is None:
        return COORDINATE
    return _PROCESS_FOR_TARGET.get(target, COORDINATE)
