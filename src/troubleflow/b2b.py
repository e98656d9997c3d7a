"""Outgoing B2B calls of the hand-off outbox (processes/handoffs.py): one HTTP request to a peer's API
with urllib3 (the worker's pooled client, no retries or redirects of its own), its answer decoded."""

from __future__ import annotations

import msgspec
import urllib3

from troubleflow.processes.handoffs import Reply
from troubleflow.storage.handoffs import Handoff

_RETRYABLE = frozenset({408, 429})


def client(timeout_seconds: float, connections: int) -> urllib3.PoolManager:
    """The worker's client for peers' APIs: keep-alive pools per host, no retries of its own (the
    hand-off outbox retries with backoff) and no redirects."""
    return urllib3.PoolManager(
        num_pools=64,
        maxsize=connections,
        retries=False,
        timeout=urllib3.Timeout(total=timeout_seconds),
    )


def call(http: urllib3.PoolManager, item: Handoff) -> Reply:
    headers = {"Accept": "application/json", "X-Troubleflow-Handoff-Id": str(item.id)}
    body = item.body.encode() if item.body is not None else None
    if body is not None:
        # TMF630: PATCH takes merge-patch; POST takes the resource as JSON.
        headers["Content-Type"] = (
            "application/merge-patch+json" if item.method == "PATCH" else "application/json"
        )
    try:
        response = http.request(item.method, item.url, body=body, headers=headers, redirect=False)
    except (urllib3.exceptions.HTTPError, ValueError) as exc:  # ValueError: a malformed URL
        return Reply(False, error=f"{type(exc).__name__}: {exc}")
    try:
        decoded = msgspec.json.decode(response.data) if response.data else None
    except msgspec.DecodeError:
        decoded = None
    if 200 <= response.status < 300:
        return Reply(True, response.status, decoded)
    retry = response.status >= 500 or response.status in _RETRYABLE
    text = response.data[:300].decode(errors="replace")
    return Reply(False, response.status, decoded, f"HTTP {response.status}: {text}", retry)
