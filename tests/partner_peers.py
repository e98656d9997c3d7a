"""A faked partner for the partner-problem tests: just enough of a TMF621 v4 server (create, read, merge-patch
a trouble ticket; register a hub subscription) on a real HTTP server on 127.0.0.1, that can answer 500 for
a while; plus the inventory and report bodies the tests share."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.peer_server import serve_json

ROOT = "/tmf-api/troubleTicket/v4"


@dataclass
class FakePartner:
    url: str = ""  # the TMF621 API root
    failures_left: int = 0  # answer 500 to this many requests first
    expected_resolution: str | None = None  # put into created tickets
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    hubs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.calls.append((method, path, body))
            if self.failures_left > 0:
                self.failures_left -= 1
                return 500, {"code": "500", "reason": "partner backend unavailable"}
            if method == "POST" and path == f"{ROOT}/troubleTicket":
                tid = f"P-{len(self.tickets) + 1}"
                doc = {**body, "id": tid, "href": f"{self.url}/troubleTicket/{tid}", "status": "acknowledged"}
                if self.expected_resolution:
                    doc["expectedResolutionDate"] = self.expected_resolution
                self.tickets[tid] = doc
                return 201, doc
            if method == "POST" and path == f"{ROOT}/hub":
                hub = {**body, "id": f"H-{len(self.hubs) + 1}"}
                self.hubs.append(hub)
                return 201, hub
            tid = path.rsplit("/", 1)[-1]
            if tid not in self.tickets:
                return 404, {"code": "404", "reason": "no such ticket"}
            if method == "PATCH":
                self.tickets[tid].update(body)
            return 200, self.tickets[tid]

    def set_status(self, tid: str, status: str, reason: str | None = None) -> None:
        with self.lock:
            self.tickets[tid]["status"] = status
            if reason:
                self.tickets[tid]["statusChangeReason"] = reason

    def posted(self, path_end: str) -> list[Any]:
        return [b for m, p, b in self.calls if m == "POST" and p.endswith(path_end)]


def start_partner(partner: FakePartner) -> ThreadingHTTPServer:
    server, port = serve_json(partner.answer)
    partner.url = f"http://127.0.0.1:{port}{ROOT}"
    return server


def inventory_file(directory: Path, endpoint: str | None, restoration_time: str = "PT8H") -> Path:
    """Customer cust-42 with product prod-9 owned by partner fibrenet (TMF621 API at `endpoint`)."""
    partner: dict[str, Any] = {
        "id": "fibrenet",
        "name": "FibreNet Wholesale GmbH",
        "restorationTime": restoration_time,
    }
    if endpoint:
        partner["endpoint"] = endpoint
    doc = {
        "partner": [partner, {"id": "cablenet", "name": "CableNet", "restorationTime": "PT4H"}],
        "customer": [{"id": "cust-42", "name": "Ada Lovelace", "slaClass": "gold"}],
        "product": [
            {"id": "prod-9", "customerId": "cust-42", "name": "Fibre 250", "partnerId": "fibrenet"},
            {"id": "prod-own", "customerId": "cust-42", "name": "Our own line"},
        ],
    }
    path = directory / "inventory.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def partner_report(**overrides: Any) -> dict[str, Any]:
    """A report on the partner-owned product, categorized as a partner fault (its plan has the partner
    tasks: partner-ticket, partner-follow-up, verify-partner)."""
    body: dict[str, Any] = {
        "name": "No sync on the wholesale line",
        "description": "Fibre line shows no sync since 07:50",
        "severity": "Major",
        "ticketType": "incident",
        "category": "partner-fault",
        "relatedParty": [{"id": "cust-42", "role": "customer", "@referredType": "Individual"}],
        "relatedEntity": [{"id": "prod-9", "role": "affectedProduct", "@referredType": "Product"}],
    }
    body.update(overrides)
    return body
