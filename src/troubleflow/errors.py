"""The one error hierarchy of troubleflow; every edge (HTTP, CLI, worker) maps it exactly once.

TroubleflowError
 ├── NotFound            the thing named does not exist
 ├── InvalidInput        the request is malformed or breaks a data rule (nothing changed)
 ├── InvalidTransition   the lifecycle does not allow this status change
 ├── Conflict            the change clashes with current state (e.g. idempotency key reused)
 ├── PreconditionFailed  a stale version (If-Match) was supplied
 ├── Forbidden           the caller may not do this
 └── Unsupported         a standard feature not offered (yet)
"""

from __future__ import annotations


class TroubleflowError(Exception):
    """Base class: a domain failure with a human message and, optionally, the field it concerns."""

    code: str = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(TroubleflowError):
    code = "notFound"


class InvalidInput(TroubleflowError):
    code = "invalidInput"


class InvalidTransition(TroubleflowError):
    code = "invalidTransition"


class Conflict(TroubleflowError):
    code = "conflict"


class PreconditionFailed(TroubleflowError):
    code = "preconditionFailed"


class Forbidden(TroubleflowError):
    code = "forbidden"


class Unsupported(TroubleflowError):
    """A standard feature troubleflow does not offer (yet), e.g. TMF630 JSONPath `filter=`."""

    code = "notImplemented"
