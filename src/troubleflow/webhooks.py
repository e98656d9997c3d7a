"""Outgoing webhook calls: render the TMF event envelope for a subscription and POST it, signed.

Signature: `X-Troubleflow-Signature: sha256=<hex>` = HMAC-SHA256(secret, "<timestamp>.<body>") with
`X-Troubleflow-Timestamp` (Unix seconds), so a receiver can verify origin and refuse replays.
`X-Troubleflow-Event-Id` repeats the envelope's `eventId`, stable across retries, for de-duplication.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

import msgspec

from troubleflow.api import tmf656_representation as tmf656
from troubleflow.api.representation import Representation, ticket_href
from troubleflow.api.tmf621_v4 import V4
from troubleflow.api.tmf621_v5 import V5
from troubleflow.domain.events import SERVICE_PROBLEM_API
from troubleflow.keep_alive import KeepAlivePool
from troubleflow.storage import service_problems
from troubleflow.storage.codec import decode_ticket
from troubleflow.storage.outbox import OutboxEvent

REPRESENTATIONS: dict[str, Representation] = {"v4": V4(), "v5": V5()}


def envelope(event: OutboxEvent, api_version: str, base_url: str) -> dict[str, Any]:
    if event.api == SERVICE_PROBLEM_API:  # TMF656 (docs/service-problems.md)
        problem = service_problems.decode(event.payload)
        return tmf656.REPRESENTATIONS[api_version].envelope(event, problem, base_url)
    rep = REPRESENTATIONS[api_version]
    ticket = decode_ticket(event.payload)
    return rep.envelope(event, ticket, ticket_href(base_url, api_version, ticket.id))


def heard_by(event: OutboxEvent, api: str, api_version: str) -> bool:
    """Whether a subscription of this API and version hears the event (TMF656 v4 has no delete event)."""
    if event.api != api:
        return False
    return event.api != SERVICE_PROBLEM_API or tmf656.REPRESENTATIONS[api_version].delivers(event.kind)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str | None = None


def client(timeout_seconds: float, connections: int) -> KeepAlivePool:
    """The HTTP client for callbacks: kept-alive `http.client` connections, `connections` per host
    (keep_alive.py has the measurements that chose it)."""
    return KeepAlivePool(timeout_seconds, connections)


def post(
    http: KeepAlivePool,
    callback: str,
    body: dict[str, Any],
    *,
    secret: str,
    event_id: str,
    timestamp: int,
) -> Outcome:
    raw = msgspec.json.encode(body)
    headers = {
        "Content-Type": "application/json",
        "X-Troubleflow-Event-Id": event_id,
        "X-Troubleflow-Timestamp": str(timestamp),
        "X-Troubleflow-Signature": sign(secret, timestamp, raw),
    }
    try:
        status, answer = http.post(callback, raw, headers)
    except (OSError, HTTPException, ValueError) as exc:  # ValueError: a malformed URL
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    if 200 <= status < 300:
        return Outcome(True)
    return Outcome(False, f"HTTP {status}: {answer[:200].decode(errors='replace')}")
