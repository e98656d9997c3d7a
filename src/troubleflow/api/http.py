"""Request-level helpers every router shares: the body as JSON, the media type, `If-Match`, the actor."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import msgspec
from fastapi import Request
from starlette.responses import Response

from troubleflow.api.errors import JSON
from troubleflow.errors import InvalidInput, NotFound, PreconditionFailed

_encode = msgspec.json.Encoder().encode

MERGE_TYPES = frozenset({"application/merge-patch+json", "application/json", ""})


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for TMF error bodies (the `Error` schema) with these status codes."""
    return {
        str(code): {
            "description": HTTPStatus(code).phrase,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def decode_body(raw: bytes) -> Any:
    """A request body as JSON: empty, malformed or NUL-carrying bodies are a 400 TMF error."""
    if not raw.strip():
        raise InvalidInput("the request body is empty; a JSON object is expected")
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc}") from None
    if b"\\u0000" in raw and _has_nul(value):
        raise InvalidInput("text must not contain the NUL character (U+0000)")
    return value


def _has_nul(value: Any) -> bool:
    """PostgreSQL text cannot hold U+0000, so it is refused for every store alike."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def media_type(request: Request) -> str:
    """The request's media type, without parameters, lower case."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def if_match(request: Request) -> int | None:
    """The version an `If-Match` header names (None: no header, or `*`)."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.split(",")[0].strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise PreconditionFailed(f"If-Match '{raw}' does not match any version of this ticket") from None


def actor(request: Request) -> str:
    """Who acts, for the audit trail (`X-Troubleflow-Actor`; "api" when not said)."""
    return request.headers.get("x-troubleflow-actor") or "api"


def raise_unsupported_media(media: str) -> None:
    """PATCH with a media type we do not take: 415 with the TMF error body."""
    from starlette.exceptions import HTTPException

    raise HTTPException(
        415,
        f"PATCH accepts application/merge-patch+json, application/json or "
        f"application/json-patch+json, not '{media}'",
    )


def page(body: list[Any], total: int, headers: dict[str, str] | None = None) -> Response:
    """One page of a collection (TMF630): `X-Total-Count` and `X-Result-Count`, 206 when it holds fewer
    than all."""
    counts = {"X-Total-Count": str(total), "X-Result-Count": str(len(body)), **(headers or {})}
    status = 206 if len(body) < total else 200
    return Response(_encode(body), status_code=status, media_type=JSON, headers=counts)


def check_id(value: str) -> None:
    """A path id with a NUL cannot name anything (PostgreSQL text cannot hold it): 404, not a 500."""
    if "\x00" in value:
        raise NotFound("no resource has an id containing the NUL character", field="id")


def check_callback(callback: str) -> None:
    """A hub subscription's callback must be an http(s) URL (TMF630 hub)."""
    parts = urlsplit(callback)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput(f"callback '{callback}' is not an http(s) URL", field="callback")
