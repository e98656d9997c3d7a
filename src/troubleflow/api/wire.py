"""Shared wire types for the TMF schemas: open models (unknown attributes kept) and UTC date-times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    """Naive means UTC; precision is cut to milliseconds, the precision we render."""
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise ValueError("the date-time is out of range once converted to UTC") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]


class Open(BaseModel):
    """TMF schemas are open: unknown (extension) attributes are accepted and kept verbatim."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)

    type_: str | None = Field(None, alias="@type")
    base_type: str | None = Field(None, alias="@baseType")
    schema_location: str | None = Field(None, alias="@schemaLocation")


class TimePeriod(Open):
    start_date_time: UtcDateTime | None = Field(None, alias="startDateTime")
    end_date_time: UtcDateTime | None = Field(None, alias="endDateTime")


class Quantity(Open):
    amount: float | None = None
    units: str | None = None


class Error(BaseModel):
    """TMF630 error body."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    code: str
    reason: str
    message: str | None = None
    status: str | None = None
    reference_error: str | None = Field(None, alias="referenceError")
    type_: str = Field("Error", alias="@type")


def extras(model: BaseModel) -> dict[str, Any]:
    return dict(model.model_extra or {})
