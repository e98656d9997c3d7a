"""The stored ticket document: the domain ticket encoded as JSON by msgspec (fast, typed decode)."""

from __future__ import annotations

from typing import Any

import msgspec

from troubleflow.domain.ticket import TroubleTicket

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TroubleTicket)


def encode_ticket(ticket: TroubleTicket) -> str:
    return _encoder.encode(ticket).decode()


def decode_ticket(doc: str | bytes) -> TroubleTicket:
    return _decoder.decode(doc)


def encode_json(value: Any) -> str:
    return _encoder.encode(value).decode()


def decode_json(raw: str | bytes) -> Any:
    return msgspec.json.decode(raw)
