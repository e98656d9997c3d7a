"""What Create Customer Problem Report (1.3.7.5) keeps on a report besides the TMF attributes: the
configuration snapshot (1.3.7.5.2) and its major-outage role (1.3.7.5.3). Server-owned; rendered as
TMF630 extension attributes (docs/extensions.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Intake:
    snapshot: dict[str, Any] | None = None  # the customer's affected configuration as it was at intake
    major_outage: bool = False  # a master report: new reports on what it covers become its children
    child_count: int = 0  # children linked to this master so far
