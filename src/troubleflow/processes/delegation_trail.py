"""The audit entry of a delegation to a neighbour process (a partner's 1.6.10 today; a service problem's
1.4.6 later): recorded under our process (1.3.7.3.x), its reason starting with the neighbour process it
hands to, so the trail names both (docs/partners.md). Imports nothing of the other use cases, so the timer
kinds can use it (processes/timers.py is imported by processes/tracking.py)."""

from __future__ import annotations

from datetime import datetime

from troubleflow.domain import etom
from troubleflow.storage.history import HistoryEntry


def trail(
    ticket_id: str, now: datetime, actor: str, process: str, action: str, neighbour: str, text: str
) -> HistoryEntry:
    """An audit entry under our process (1.3.7.3.x) whose reason starts with the neighbour process it
    delegates to: "1.6.10.3 Submit Business Partner Problem: …"."""
    named = f"{neighbour} {etom.REGISTRY[neighbour].name}: {text}"
    return HistoryEntry(ticket_id, now, actor, process, action, reason=named)
