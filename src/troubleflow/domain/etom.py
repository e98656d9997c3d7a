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
    # 1.3.7.1 Isolate Customer Problem
    Process("1.3.7.1", "Isolate Customer Problem", 3, "1.3.7"),
    Process(
        "1.3.7.1.1", "Verify Customer Product Configuration", 4, "1.3.7.1", "Verify Product Configuration"
    ),
    Process(
        "1.3.7.1.2",
        "Diagnose Customer Problem",
        4,
        "1.3.7.1",
        "Perform Specific Customer Problem Diagnostics",
    ),
    Process(
        "1.3.7.1.3", "Conduct Customer Problem Test", 4, "1.3.7.1", "Perform Specific Customer Problem Tests"
    ),
    Process(
        "1.3.7.1.4", "Notify Customer Root Cause", 4, "1.3.7.1", "Notify T&M Root Cause Customer Problem"
    ),
    Process("1.3.7.1.5", "Categorize Customer Problem", 4, "1.3.7.1"),
    Process(
        "1.3.7.1.6",
        "Identify Customer Problem Root Cause",
        4,
        "1.3.7.1",
        "Identify Root Cause / Check for Workarounds",
    ),
    Process("1.3.7.1.7", "Obtain Permanent Fix or Workarounds", 4, "1.3.7.1"),
    Process("1.3.7.1.8", "Create Customer Problem Restoration Plan", 4, "1.3.7.1"),
    Process("1.3.7.1.9", "Create Customer Problem Known Record", 4, "1.3.7.1", "Create Known record"),
    # 1.3.7.2 Report Customer Problem
    Process("1.3.7.2", "Report Customer Problem", 3, "1.3.7"),
    Process("1.3.7.2.1", "Monitor Customer Problem", 4, "1.3.7.2"),
    Process("1.3.7.2.2", "Distribute Customer Problem Notifications", 4, "1.3.7.2"),
    Process(
        "1.3.7.2.3",
        "Distribute Customer Problem Management Report",
        4,
        "1.3.7.2",
        "Distribute Customer Problem Management Reports & Summaries",
    ),
    Process("1.3.7.2.4", "Notify Customer Problem", 4, "1.3.7.2"),
    Process("1.3.7.2.5", "Issue Customer Problem Management Summaries", 4, "1.3.7.2"),
    Process("1.3.7.2.6", "Generate Customer Problem Management Reports", 4, "1.3.7.2"),
    # 1.3.7.3 Track & Manage Customer Problem (seed 001; 1.3.7.3.1 is seed 000)
    Process("1.3.7.3", "Manage Customer Problem Coordination", 3, "1.3.7", "Track & Manage Customer Problem"),
    Process("1.3.7.3.1", "Coordinate Customer Problem", 4, "1.3.7.3"),
    Process("1.3.7.3.2", "Cancel Customer Problem", 4, "1.3.7.3"),
    Process("1.3.7.3.3", "Escalate Customer Problem", 4, "1.3.7.3", "Escalate/End Customer Problem"),
    Process("1.3.7.3.4", "Monitor Customer Problem Jeopardy Status", 4, "1.3.7.3"),
    Process("1.3.7.3.5", "Prioritize Customer Problem", 4, "1.3.7.3"),
    # 1.3.7.4 Close Customer Problem Report
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
    # 1.3.7.5 Create Customer Problem Report
    Process("1.3.7.5", "Create Customer Problem Report", 3, "1.3.7"),
    Process("1.3.7.5.1", "Generate Customer Problem Report", 4, "1.3.7.5"),
    Process(
        "1.3.7.5.2", "Obtain Customer Problem Configuration", 4, "1.3.7.5", "Obtain Configuration Information"
    ),
    Process("1.3.7.5.3", "Check Customer Problem Outage", 4, "1.3.7.5", "Check for major outage"),
    # 1.3.7.6 Correct & Recover Customer Problem (seed 002)
    Process("1.3.7.6", "Correct Customer Problem", 3, "1.3.7", "Correct & Recover Customer Problem"),
    Process("1.3.7.6.1", "Manage Customer Problem Restoration", 4, "1.3.7.6", "Manage Product Restoration"),
    Process(
        "1.3.7.6.2", "Report Customer Product Restoration", 4, "1.3.7.6", "Report Product Restoration Results"
    ),
    Process(
        "1.3.7.6.3",
        "Determine Customer Problem Resolution Feasibility",
        4,
        "1.3.7.6",
        "Determine Resolution Feasibility and Justification",
    ),
    Process("1.3.7.6.4", "Implement Customer Problem Workaround", 4, "1.3.7.6"),
    Process(
        "1.3.7.6.5",
        "Validate Customer Problem Solution",
        4,
        "1.3.7.6",
        "Test & Validate Implemented Solution",
    ),
    Process("1.3.7.6.6", "Initiate Customer Problem Change Request", 4, "1.3.7.6", "Initiate Change Request"),
    Process("1.3.7.6.7", "Review Major Problem", 4, "1.3.7.6", "Review Major Customer Problem"),
    # Neighbour: 1.4.6 Service Problem Management (research/etom.md §1.4; hand-offs H4/H5, TMF656)
    Process("1.4.6", "Service Problem Management", 2, "1.4"),
    Process("1.4.6.1", "Create Service Trouble Report", 3, "1.4.6"),
    Process("1.4.6.1.1", "Generate Service Problem", 4, "1.4.6.1"),
    Process("1.4.6.1.2", "Convert Report To Service Problem Format", 4, "1.4.6.1"),
    Process("1.4.6.1.3", "Estimate Time For Restoring Service", 4, "1.4.6.1"),
    Process("1.4.6.4", "Track & Manage Service Problem", 3, "1.4.6"),
    Process("1.4.6.6", "Close Service Trouble Report", 3, "1.4.6"),
    # Neighbour: 1.6.10 Business Partner Problem Management (S/P Problem Reporting & Management), which
    # Track & Manage delegates partner-owned components to (research/etom.md §1.4, H6).
    Process("1.6.10", "Business Partner Problem Management", 2, "1.6", "S/P Problem Reporting & Management"),
    Process("1.6.10.1", "Receive Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.2", "Assess Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.3", "Submit Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.4", "Track Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.5", "Resolve Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.6", "Manage Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.7", "Report Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.8", "Close Business Partner Problem", 3, "1.6.10"),
    Process("1.6.10.9", "Analyze Business Partner Problem Trend", 3, "1.6.10"),
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An ITIL activity the Frameworx 16 flows place on an eTOM flow without making it an L4 (research/etom.md
    §3): the audit trail records its work under the process it lands in."""

    name: str
    flow: str  # the eTOM flow it is drawn on
    lands_in: str  # the process identifier troubleflow records it under


ITIL_CANDIDATES = (
    Candidate("Perform Initial Diagnosis", "1.3.7.3", "1.3.7.1.5"),
    Candidate("Check Known Error", "1.3.7.3", "1.3.7.1.6"),
    Candidate("Monitor Resolution Update", "1.3.7.3", "1.3.7.3.1"),
    Candidate("Escalate to Support Team", "1.3.7.1", "1.3.7.3.3"),
    Candidate("Categorize & Prioritize Customer Problem", "1.3.7.5", "1.3.7.3.5"),
)

REGISTRY: dict[str, Process] = {p.id: p for p in _PROCESSES}


def by_name(name: str) -> Process:
    """A process by its current name, its seed (Frameworx 16) name, or an ITIL candidate's name: names are
    labels that changed between eras, identifiers are the keys (KeyError when nothing matches)."""
    wanted = name.strip().casefold()
    for p in _PROCESSES:
        if wanted in (p.name.casefold(), (p.seed_name or "").casefold()):
            return p
    for c in ITIL_CANDIDATES:
        if wanted == c.name.casefold():
            return REGISTRY[c.lands_in]
    raise KeyError(name)


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
# Service Problem Management (1.4.6), the neighbour a report delegates service-layer faults to (TMF656).
CREATE_SERVICE_TROUBLE_REPORT = "1.4.6.1"
ESTIMATE_RESTORATION = "1.4.6.1.3"
TRACK_SERVICE_PROBLEM = "1.4.6.4"
CLOSE_SERVICE_TROUBLE_REPORT = "1.4.6.6"
PARTNER_SUBMIT = "1.6.10.3"  # neighbour processes a partner delegation names (docs/partners.md)
PARTNER_TRACK = "1.6.10.4"
PARTNER_RESOLVE = "1.6.10.5"
PARTNER_MANAGE = "1.6.10.6"

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


# Correct & Recover Customer Problem (1.3.7.6, seed 002): the restoration trail (docs/restoration.md).
CORRECT_RECOVER = "1.3.7.6"
MANAGE_RESTORATION = "1.3.7.6.1"
REPORT_RESTORATION = "1.3.7.6.2"
RESOLUTION_FEASIBILITY = "1.3.7.6.3"
IMPLEMENT_WORKAROUND = "1.3.7.6.4"
VALIDATE_SOLUTION = "1.3.7.6.5"
INITIATE_CHANGE_REQUEST = "1.3.7.6.6"
REVIEW_MAJOR_PROBLEM = "1.3.7.6.7"
