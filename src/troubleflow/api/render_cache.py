"""Rendered tickets (list entries and GET by id), kept per ticket version: a version never changes, so
neither does its JSON.

NOC dashboards poll the same pages over and over; rendering 50 tickets to TMF JSON was most of a list
request's time. Entries are keyed by (id, version, base URL), so a change to a ticket (a new version)
is never served stale, and the cache is bounded (least recently used entries go first).
"""

from __future__ import annotations

from collections import OrderedDict

import msgspec

from troubleflow.api.representation import Representation, ticket_href
from troubleflow.processes.reports import Found

_encode = msgspec.json.Encoder().encode


class RenderCache:
    def __init__(self, rep: Representation, max_entries: int = 2_000) -> None:
        self._rep, self._max = rep, max_entries
        self._entries: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()

    def get(self, found: Found, base_url: str) -> bytes:
        """The full representation of this version of the ticket, rendered once."""
        key = (found.id, found.version, base_url)
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
            return body
        href = ticket_href(base_url, self._rep.version, found.id)
        body = _encode(self._rep.render(found.ticket, href))
        self._entries[key] = body
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return body
