"""Deployment settings, read once from `TROUBLEFLOW_*` variables by `cli.main()` or `create_app()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

DEFAULT_DATABASE_URL = "sqlite:///troubleflow.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = ""  # absolute prefix for href/Location; empty = derive from the request
    webhook_secret: str = "dev-secret-change-me"
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 1.0
    webhook_backoff_max_seconds: float = 300.0
    webhook_concurrency: int = 16  # callbacks posted at once (each to a different subscription/ticket line)
    worker_poll_seconds: float = 0.5
    worker_batch_size: int = 200
    # Due timers fired per transaction: on SQLite a pass holds the one writer lock, so API writes wait for
    # it (50 firings hold it for a few tens of ms; 200 Track & Manage starts for about half a second).
    worker_timer_batch_size: int = 50
    delivery_lease_seconds: float = 30.0
    log_level: str = "INFO"
    log_json: bool = False
    policy_dir: str = ""  # directory (or file) of policies/*.yaml; empty = the packaged default policy
    smtp_url: str = ""  # escalation emails: smtp://[user:password@]host[:port] or smtps://; empty = none
    smtp_from: str = "troubleflow@localhost"  # the From address of escalation emails

    def retry_delay(self, attempts: int) -> timedelta:
        """How long a failed outgoing call (webhook delivery, notification) waits before the next attempt:
        doubling from `webhook_backoff_seconds`, capped at `webhook_backoff_max_seconds`."""
        seconds = self.webhook_backoff_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(self.webhook_backoff_max_seconds, seconds))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment; a malformed value fails here, naming its variable."""
        env = os.environ if environ is None else environ
        s = cls()
        casts: dict[str, type] = {
            "database_url": str,
            "base_url": str,
            "webhook_secret": str,
            "webhook_timeout_seconds": float,
            "webhook_max_attempts": int,
            "webhook_backoff_seconds": float,
            "webhook_backoff_max_seconds": float,
            "webhook_concurrency": int,
            "worker_poll_seconds": float,
            "worker_batch_size": int,
            "worker_timer_batch_size": int,
            "delivery_lease_seconds": float,
            "log_level": str,
            "log_json": bool,
            "policy_dir": str,
            "smtp_url": str,
            "smtp_from": str,
        }
        changes: dict[str, object] = {}
        for name, cast in casts.items():
            var = f"TROUBLEFLOW_{name.upper()}"
            if var not in env:
                continue
            raw = env[var]
            try:
                changes[name] = raw.lower() in {"1", "true", "yes", "on"} if cast is bool else cast(raw)
            except ValueError as exc:
                raise SystemExit(f"{var}={raw!r} is not a valid {cast.__name__}") from exc
        return replace(s, **changes)  # type: ignore[arg-type]
