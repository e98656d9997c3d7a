"""Reading customer inventory files (docs/inventory.md): one JSON document holding any of the kinds, or a
JSON array or CSV file of one kind. Every record is validated; errors name the file, the line (CSV) or
the record's position (JSON) and the attribute, and are all reported at once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from troubleflow.domain.inventory import KINDS, Customer, Partner, Product, Record, Service
from troubleflow.errors import InvalidInput
from troubleflow.policy_schema import Duration, iso_duration

Located = tuple[str, Record]  # (where it was read, e.g. "products.csv:7", the record)
MAX_ERRORS = 20

Id = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]+$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# TMF637 ProductStatusType and TMF638 ServiceStateType.
ProductStatus = Literal[
    "created",
    "pendingActive",
    "cancelled",
    "active",
    "pendingTerminate",
    "suspended",
    "aborted",
    "terminated",
]
ServiceState = Literal["feasibilityChecked", "designed", "reserved", "inactive", "active", "terminated"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class _Contact(_Strict):
    name: Text | None = None
    email: Text | None = None
    phone: Short | None = None


class _Partner(_Strict):
    id: Id
    name: Text
    contact: _Contact | None = None
    restoration_time: Duration | None = Field(None, alias="restorationTime")
    endpoint: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)] | None = None

    def record(self) -> Partner:
        time = iso_duration(self.restoration_time) if self.restoration_time else None
        endpoint = self.endpoint.rstrip("/") if self.endpoint else None
        return Partner(self.id, self.name, _contact_doc(self.contact), time, endpoint)


class _Customer(_Strict):
    id: Id
    name: Text
    segment: Short | None = None
    sla_class: Short | None = Field(None, alias="slaClass")
    region: Short | None = None
    contact: _Contact | None = None

    def record(self) -> Customer:
        return Customer(
            self.id, self.name, self.segment, self.sla_class, self.region, _contact_doc(self.contact)
        )


class _Product(_Strict):
    id: Id
    customer_id: Id = Field(alias="customerId")
    name: Text
    offering: Text | None = Field(None, alias="productOffering")
    status: ProductStatus = "active"
    region: Short | None = None
    partner_id: Id | None = Field(None, alias="partnerId")
    sla_class: Short | None = Field(None, alias="slaClass")

    def record(self) -> Product:
        return Product(
            self.id,
            self.customer_id,
            self.name,
            self.offering,
            self.status,
            self.region,
            self.partner_id,
            self.sla_class,
        )


class _Service(_Strict):
    id: Id
    product_id: Id = Field(alias="productId")
    name: Text
    category: Short | None = None
    specification: Text | None = Field(None, alias="serviceSpecification")
    status: ServiceState = "active"

    def record(self) -> Service:
        return Service(self.id, self.product_id, self.name, self.category, self.specification, self.status)


_MODELS: dict[str, type[_Partner | _Customer | _Product | _Service]] = {
    "partner": _Partner,
    "customer": _Customer,
    "product": _Product,
    "service": _Service,
}
_CONTACT_COLUMNS = {"contactName": "name", "contactEmail": "email", "contactPhone": "phone"}


def _contact_doc(c: _Contact | None) -> dict[str, Any]:
    return c.model_dump(exclude_none=True) if c is not None else {}


def read(path: str | Path, kind: str | None = None) -> list[Located]:
    """The records in one file: `.csv` (one kind: `kind`, else the file name, e.g. `customers.csv`) or
    `.json` (an object keyed by kind, or an array of one kind). InvalidInput lists every problem."""
    path = Path(path)
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown inventory kind '{kind}'; use one of {', '.join(KINDS)}", field="kind")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name}: cannot read the file: {exc}") from None
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path.name, text, kind or _kind_from_name(path))
    elif path.suffix.lower() == ".json":
        rows = _json_rows(path.name, text, kind)
    else:
        raise InvalidInput(f"{path.name}: an inventory file is .json or .csv")
    return _validate(rows)


def _kind_from_name(path: Path) -> str:
    stem = path.stem.lower()
    found = [k for k in KINDS if stem.startswith(k)]
    if len(found) != 1:
        raise InvalidInput(
            f"{path.name}: name the kind of a CSV file with --kind ({', '.join(KINDS)}) or in its name "
            "(e.g. customers.csv)",
            field="kind",
        )
    return found[0]


def _csv_rows(name: str, text: str, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if "id" not in columns:
        raise InvalidInput(f"{name}:1: the header row must name the columns, 'id' among them", field="id")
    for row in reader:
        where = f"{name}:{reader.line_num}"
        if None in row:
            raise InvalidInput(f"{where}: more cells than the header names")
        values: dict[str, Any] = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        contact = {_CONTACT_COLUMNS[k]: values.pop(k) for k in list(values) if k in _CONTACT_COLUMNS}
        if contact:
            values["contact"] = contact
        yield where, kind, values


def _json_rows(name: str, text: str, kind: str | None) -> Iterator[tuple[str, str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if isinstance(doc, list):
        if kind is None:
            raise InvalidInput(f"{name}: a JSON array holds one kind: name it with --kind", field="kind")
        groups = {kind: doc}
    elif isinstance(doc, dict):
        unknown = sorted(set(doc) - set(KINDS))
        if unknown:
            raise InvalidInput(f"{name}: unknown kind(s) {', '.join(unknown)}; use {', '.join(KINDS)}")
        groups = {k: doc[k] for k in KINDS if k in doc and (kind is None or k == kind)}
    else:
        raise InvalidInput(f"{name}: expected an object keyed by kind or an array of records")
    for group, items in groups.items():
        if not isinstance(items, list):
            raise InvalidInput(f"{name}: '{group}' must be an array of records", field=group)
        for index, item in enumerate(items):
            label = f" (id {item.get('id')!r})" if isinstance(item, dict) and item.get("id") else ""
            yield f"{name}: {group}[{index}]{label}", group, item


def _validate(rows: Iterator[tuple[str, str, Any]]) -> list[Located]:
    records: list[Located] = []
    errors: list[str] = []
    for where, kind, values in rows:
        try:
            records.append((where, _MODELS[kind].model_validate(values).record()))
        except ValidationError as exc:
            errors += [f"{where}: {_describe(e)}" for e in exc.errors()]
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise InvalidInput("invalid inventory records:\n  " + "\n  ".join(errors[:MAX_ERRORS]))
    return records


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "record"
    if error["type"] == "missing":
        return f"'{where}' is mandatory"
    if error["type"] == "extra_forbidden":
        return f"'{where}' is not an attribute of this kind"
    if where == "record":
        return "a record must be a JSON object"
    return f"'{where}': {error['msg']}"
