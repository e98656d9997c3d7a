"""`troubleflow serve` as a user runs it: a real server process and worker, the README's requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from .running import free_port, served

README = Path(__file__).resolve().parents[1] / "README.md"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with served(tmp_path, "run.db") as base:
        yield base


def test_stopping_serve_also_stops_its_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TROUBLEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/stop.db"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "troubleflow", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not _children(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert workers, "serve started no worker process"

    proc.terminate()
    proc.wait(timeout=15)

    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_readme_curl_example_works_against_a_started_server(server: str) -> None:
    readme = README.read_text()
    body = json.loads(readme.split("<!-- example-body -->")[1].split("```json")[1].split("```")[0])

    created = httpx.post(f"{server}/tmf-api/troubleTicket/v4/troubleTicket", json=body)
    listed = httpx.get(
        f"{server}/tmf-api/troubleTicket/v4/troubleTicket?status=acknowledged&fields=id,status"
    )

    assert created.status_code == 201
    assert created.headers["Location"].startswith(server)
    assert listed.json() == [{"id": created.json()["id"], "status": "acknowledged"}]


def test_started_server_delivers_events_through_its_worker(server: str) -> None:
    _Receiver.received = []
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    try:
        callback = f"http://127.0.0.1:{listener.server_address[1]}/listener"
        hub = httpx.post(
            f"{server}/tmf-api/troubleTicket/v5/hub", json={"@type": "Hub", "callback": callback}
        )
        assert hub.status_code == 201
        ticket = httpx.post(
            f"{server}/tmf-api/troubleTicket/v5/troubleTicket",
            json={"@type": "TroubleTicket", "description": "d", "severity": "Minor", "ticketType": "request"},
        ).json()

        deadline = time.monotonic() + 15
        while not _Receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        listener.shutdown()

    assert [e["eventType"] for e in _Receiver.received] == ["TroubleTicketCreateEvent"]
    assert _Receiver.received[0]["event"]["troubleTicket"]["id"] == ticket["id"]  # type: ignore[index]
