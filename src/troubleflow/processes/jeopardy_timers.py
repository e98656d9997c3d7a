"""The jeopardy timer (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4): a report's one armed threshold
instant. Kept apart from the firing (`processes/timers.py`) so that what arms it need not import what
fires it."""

from __future__ import annotations

from datetime import datetime

from troubleflow.domain import etom
from troubleflow.domain.jeopardy import check_threshold
from troubleflow.storage.timers import ArmRequest

JEOPARDY = "jeopardy"


def jeopardy_timer(ticket_id: str, due_at: datetime, threshold: int) -> ArmRequest:
    threshold = check_threshold(threshold)
    return ArmRequest(ticket_id, JEOPARDY, etom.MONITOR_JEOPARDY, due_at, {"threshold": threshold})
