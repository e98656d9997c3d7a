"""The body posted to a webhook recipient of an escalation step (docs/escalation.md). Kept apart from the
escalation routes so the worker renders it without importing the web framework (RSS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from troubleflow.api.representation import fmt, put, ticket_href


def ticket_href_v4(base_url: str, ticket_id: str) -> str:
    """Where the escalated report is read (TMF621 v4)."""
    return ticket_href(base_url, "v4", ticket_id)


def when(iso: str) -> str:
    """A stored ISO time as the API writes times."""
    return fmt(datetime.fromisoformat(iso))


def notification_body(notification_id: int, facts: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The JSON posted to a webhook recipient: a TMF-style event whose `event` names the report."""
    out: dict[str, Any] = {
        "@type": "EscalationNotification",
        "eventId": f"notification-{notification_id}",
        "eventTime": when(facts["at"]),
        "eventType": "TroubleTicketEscalationEvent",
        "domain": "troubleTicket",
        "title": f"Report {facts['ticket_id']} escalated to level {facts['level']}",
        "description": facts["reason"],
        "priority": facts.get("priority") or "",
    }
    event: dict[str, Any] = {
        "troubleTicket": {
            "id": facts["ticket_id"],
            "href": ticket_href_v4(base_url, facts["ticket_id"]),
            "@referredType": "TroubleTicket",
        },
        "escalationLevel": facts["level"],
        "threshold": facts["threshold"],
        "cause": facts["cause"],
    }
    put(event["troubleTicket"], "name", facts.get("name"))
    for key in ("role", "workgroup", "priority", "reason"):
        put(event, key, facts.get(key))
    put(event, "notificationList", facts.get("list_id"))
    if facts.get("commitment"):
        event["restorationCommitment"] = when(facts["commitment"])
    return out | {"event": event}
