"""Keep-alive HTTP/1.1 connections for the worker's callback POSTs (hub events, webhook notifications), on
the standard library's `http.client`.

Delivery is bound by the worker's CPU per POST. Against the bench listener on one machine: urllib3 491 µs
of CPU per POST, `http.client` on a kept-alive connection 212 µs (httpx had cost twice urllib3's). What
urllib3 adds (retries, redirects, proxies, header dicts) a callback does not use: no retries here (the
outbox retries with backoff), no redirects (a callback that redirects is misconfigured). Partner and
manager calls (`b2b.py`) keep urllib3.

Idle connections wait per origin (scheme, host, port), at most `per_origin` of them; a connection the
server may close (`Connection: close`, an HTTP/1.0 answer) is not kept. A kept connection can have been
closed by the server while idle: a request on it that fails before any answer is sent once more on a
fresh connection, as urllib3 does (the callback receiver deduplicates by event id either way).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.client import HTTPConnection, HTTPSConnection, RemoteDisconnected
from urllib.parse import urlsplit

Origin = tuple[str, str, int]
# A kept connection the server closed meanwhile fails with one of these before any answer arrives.
_STALE = (RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class KeepAlivePool:
    def __init__(self, timeout_seconds: float, per_origin: int) -> None:
        self._timeout = timeout_seconds
        self._per_origin = max(1, per_origin)
        self._idle: dict[Origin, list[HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST `body` to `url`; returns (status, response body). Raises OSError or
        http.client.HTTPException when no answer came, ValueError for a URL that is not http(s)."""
        origin, target = _split(url)
        kept = self._take(origin)
        if kept is not None:
            try:
                return self._send(origin, kept, target, body, headers)
            except _STALE:
                pass  # the server closed it while it was idle: once more, on a fresh connection
        return self._send(origin, self._connect(origin), target, body, headers)

    def _send(
        self, origin: Origin, conn: HTTPConnection, target: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        """One exchange on `conn`; the connection is kept for the next call when the server allows it,
        closed otherwise and on any failure."""
        try:
            status, answer, keep = _exchange(conn, target, body, headers)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give_back(origin, conn)
        else:
            conn.close()
        return status, answer

    def clear(self) -> None:
        """Close every idle connection (worker shutdown)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def _take(self, origin: Origin) -> HTTPConnection | None:
        with self._lock:
            conns = self._idle.get(origin)
            return conns.pop() if conns else None

    def _give_back(self, origin: Origin, conn: HTTPConnection) -> None:
        with self._lock:
            conns = self._idle.setdefault(origin, [])
            if len(conns) < self._per_origin:
                conns.append(conn)
                return
        conn.close()

    def _connect(self, origin: Origin) -> HTTPConnection:
        scheme, host, port = origin
        kind = HTTPSConnection if scheme == "https" else HTTPConnection
        return kind(host, port, timeout=self._timeout)


def _split(url: str) -> tuple[Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port), target


def _exchange(
    conn: HTTPConnection, target: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, bytes, bool]:
    conn.request("POST", target, body=body, headers=dict(headers))
    response = conn.getresponse()
    answer = response.read()
    return response.status, answer, not response.will_close
