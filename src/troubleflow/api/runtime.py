"""What the HTTP adapters need at run time: the store, the clock and the deployment settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from troubleflow.clock import Clock
from troubleflow.config import Settings
from troubleflow.storage.db import Database


@dataclass(frozen=True, slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings

    def base_url(self, request: Request) -> str:
        """Absolute prefix for `href`/`Location`: configured, or taken from the request."""
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"
