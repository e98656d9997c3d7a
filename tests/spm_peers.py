"""A faked external service problem manager for the external-manager tests: just enough of a TMF656 v4
server (create, read and merge-patch a service problem; register a hub subscription) on a real HTTP server
on 127.0.0.1, that can answer 500 for a while; plus the policy naming it as a service domain's manager."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.peer_server import serve_json

ROOT = "/tmf-api/serviceProblemManagement/v4"


@dataclass
class FakeManager:
    url: str = ""  # the TMF656 API root
    failures_left: int = 0  # answer 500 to this many requests first
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    hubs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.calls.append((method, path, body))
            if self.failures_left > 0:
                self.failures_left -= 1
                return 500, {"code": "500", "reason": "service problem manager unavailable"}
            if method == "POST" and path == f"{ROOT}/serviceProblem":
                pid = f"SP-{len(self.problems) + 1}"
                doc = {
                    **body,
                    "id": pid,
                    "href": f"{self.url}/serviceProblem/{pid}",
                    "status": "acknowledged",
                }
                self.problems[pid] = doc
                return 201, doc
            if method == "POST" and path == f"{ROOT}/hub":
                hub = {**body, "id": f"H-{len(self.hubs) + 1}"}
                self.hubs.append(hub)
                return 201, hub
            pid = path.rsplit("/", 1)[-1]
            if pid not in self.problems:
                return 404, {"code": "404", "reason": "no such service problem"}
            if method == "PATCH":
                self.problems[pid].update(body)
            return 200, self.problems[pid]


def start_manager(manager: FakeManager) -> ThreadingHTTPServer:
    server, port = serve_json(manager.answer)
    manager.url = f"http://127.0.0.1:{port}{ROOT}"
    return server


def policy_dir(directory: Path, domains: str) -> Path:
    """The default policy with `delegation.service_domains` set to `domains` (YAML, indented 4)."""
    from troubleflow.policy_files import default_policy_dir

    text = (default_policy_dir() / "default.yaml").read_text()
    assert "  auto_submit: true\n" in text
    text = text.replace("  auto_submit: true\n", "  auto_submit: true\n  service_domains:\n" + domains, 1)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "default.yaml").write_text(text)
    return directory


def iptv_domain(endpoint: str) -> str:
    """The IPTV platform's service problems (category service-fault) go to `endpoint`."""
    return f"    - id: iptv-platform\n      endpoint: {endpoint}\n      categories: [service-fault]\n"
