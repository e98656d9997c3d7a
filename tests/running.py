"""troubleflow run the way a user runs it, for the tests that need real processes: `troubleflow serve` as a
subprocess on a free port, and several workers firing timers at once from their own engines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.storage.db import Database
from troubleflow.worker import Worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(tmp_path: Path, database: str, **env: str) -> Iterator[str]:
    """`troubleflow serve` (API and worker) on an SQLite database in `tmp_path`; yields its base URL."""
    port = free_port()
    environ = {
        **os.environ,
        "TROUBLEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/{database}",
        "TROUBLEFLOW_WORKER_POLL_SECONDS": "0.1",
        "TROUBLEFLOW_BASE_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    environ.pop("TROUBLEFLOW_TEST_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "troubleflow", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            proc.terminate()
            raise AssertionError(f"server did not start:\n{proc.communicate(timeout=5)[0]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def fire_with_workers(
    database_url: str, settings: Settings, clock: Clock, workers: int = 2
) -> list[BaseException]:
    """Workers, each on its own engine (as separate processes would be), fire due timers until none is
    left; returns what any of them raised."""
    errors: list[BaseException] = []

    def run() -> None:
        own = Database.from_url(database_url)
        worker = Worker(own, settings, clock=clock)
        try:
            while worker.fire_timers():
                pass
        except BaseException as exc:  # surfaced to the caller
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    return errors
