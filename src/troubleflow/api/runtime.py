"""What the HTTP adapters need at run time: the store, the clock and the deployment settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.domain.policy import Policy, active_policy
from troubleflow.storage.db import Database

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings
    policies: tuple[Policy, ...] = ()

    def policy(self) -> Policy | None:
        """The policy in force now (None when none is loaded: no Track & Manage)."""
        return active_policy(self.policies, self.clock.now()) if self.policies else None

    def base_url(self, request: Request) -> str:
        """Absolute prefix for `href`/`Location`: configured, or taken from the request."""
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"

    async def read(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a read use case. On SQLite it runs on the event loop: a read there is CPU work in this
        process (GIL-bound either way), and the hop to a worker thread cost more than most reads.
        Network databases are read from the thread pool so the loop never waits on a socket."""
        if self.db.dialect == "sqlite":
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    async def write(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a write use case in the thread pool (on SQLite concurrent writers share a group commit)."""
        return await run_in_threadpool(fn, *args, **kwargs)
