"""Known errors (eTOM 1.3.7.1.9 Create Customer Problem Known Record; the 1.3.7.3 flow's *Check Known
Error*): the record, its rules for changing, and the text rule that decides when a new report matches one.

A known error is offered while its `status` is `active`; `retired` ones stay readable (reports link to
them) but are never offered again. `permanentFixStatus` says how the permanent fix is going and does not
by itself stop the offer: a fix that is `fixed` in new firmware still leaves the workaround useful to
customers not yet upgraded, so the engineer retires the record when the fix has reached everyone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from troubleflow.errors import InvalidInput


class FixStatus(StrEnum):
    """Where the permanent fix stands (wire values)."""

    OPEN = "open"
    IN_PROGRESS = "inProgress"
    FIXED = "fixed"
    WONT_FIX = "wontFix"


class KnownErrorStatus(StrEnum):
    ACTIVE = "active"  # offered to new reports
    RETIRED = "retired"  # kept for the links and the audit, never offered


@dataclass(frozen=True, slots=True)
class KnownError:
    id: int
    version: int
    title: str
    symptom: str  # the symptom signature: what a customer or an agent would write
    workaround: str
    created: datetime
    updated: datetime
    category: str | None = None  # policy category id; None: any category
    product: str | None = None  # product (offering or specification) name
    root_cause: str | None = None
    permanent_fix_status: FixStatus = FixStatus.OPEN
    status: KnownErrorStatus = KnownErrorStatus.ACTIVE
    change_request: str | None = None  # reference of the change that brings the permanent fix
    source_ticket_id: str | None = None  # the diagnosed report it was created from


@dataclass(frozen=True, slots=True)
class KnownErrorLink:
    """A report's link to a known error (server-owned): offered by the check, or the report the record
    was created from. `score` is the share of symptom terms the report matched (None for the source)."""

    id: int
    title: str
    workaround: str
    permanent_fix_status: str
    linked: datetime
    score: float | None = None
    source: bool = False


# Attributes a client may set; `title`, `symptom` and `workaround` are mandatory on create.
FIELDS = (
    "title",
    "symptom",
    "workaround",
    "category",
    "product",
    "root_cause",
    "permanent_fix_status",
    "status",
    "change_request",
)
REQUIRED = ("title", "symptom", "workaround")


def new_known_error(
    values: dict[str, Any], *, now: datetime, source_ticket_id: str | None = None
) -> KnownError:
    """A new active record (id 0 until stored)."""
    given = {k: v for k, v in _checked(values, creating=True).items() if v is not None}
    return KnownError(id=0, version=1, created=now, updated=now, source_ticket_id=source_ticket_id, **given)


def change_known_error(current: KnownError, values: dict[str, Any], *, now: datetime) -> KnownError:
    """Apply a client change; the same record when nothing changed, else the next version."""
    checked = _checked(values, creating=False)
    changes = {k: v for k, v in checked.items() if getattr(current, k) != v}
    if not changes:
        return current
    return replace(current, version=current.version + 1, updated=now, **changes)


# The longest text each attribute may hold (the columns' sizes; the long texts are bounded for sanity).
MAX_LENGTH = {
    "title": 500,
    "symptom": 4000,
    "workaround": 4000,
    "root_cause": 4000,
    "category": 100,
    "product": 200,
    "change_request": 200,
    "permanent_fix_status": 20,
    "status": 20,
}


def _checked(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The values with the enumerations parsed; InvalidInput naming the first bad attribute."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"not settable: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    for name in REQUIRED:
        if (creating or name in values) and not _text(values.get(name)):
            raise InvalidInput(f"'{name}' is mandatory and must be a non-empty string", field=name)
    result: dict[str, Any] = {}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"'{name}' must be a string", field=name)
        if value is not None and len(value) > MAX_LENGTH[name]:
            raise InvalidInput(f"'{name}' is longer than {MAX_LENGTH[name]} characters", field=name)
        if value is not None and "\x00" in value:
            raise InvalidInput(f"'{name}' must not contain the NUL character", field=name)
        result[name] = value.strip() if isinstance(value, str) and name in REQUIRED else value
    for name, kind in (("permanent_fix_status", FixStatus), ("status", KnownErrorStatus)):
        if name in values:
            result[name] = _enum(kind, values[name], name)
    if creating and result.get("status") not in (None, KnownErrorStatus.ACTIVE):
        raise InvalidInput("a new known error is active; retire it afterwards", field="status")
    return result


def _enum(kind: type[FixStatus] | type[KnownErrorStatus], value: Any, name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInput(f"'{name}' must be one of {allowed}, not {value!r}", field=name) from None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# --- matching ------------------------------------------------------------------------------------
# Symptom text is short and written by different people: the customer says "no dial tone on my
# landline", the engineer wrote "Landline has no dial-tone after firmware upgrade". So both sides are
# reduced to *significant terms*: words without stop words and helpdesk filler, stemmed so that
# upgrade/upgraded/upgrading or tone/tones meet. A report matches when it shares at least two terms
# with the record and they make up at least half of the shorter of the two term sets (overlap
# coefficient): word order, extra words and missing words do not matter, one shared word is never
# enough ("landline bill wrong" is not a dial-tone fault).

MIN_SHARED = 2
MIN_SCORE = 0.5
MAX_TERMS = 32  # a long description is cut to its first terms: bounded full-text query


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _words(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my myself no nor
    not of off on once only or other our ours out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours since still now also again get
    got getting gets cannot cant dont doesnt isnt wont didnt"""
)
# Words every trouble report uses: they say nothing about which fault it is.
FILLER_WORDS = _words(
    """problem problems issue issues customer customers please help work works working worked fault
    faulty report reported error errors today yesterday tonight morning afternoon night since anymore
    ticket urgent hello hi thanks thank regards"""
)
_WORD = re.compile(r"[^\W_]+")


def terms(*texts: str | None) -> tuple[str, ...]:
    """The significant terms of some text, stemmed, in order of first appearance, without repeats."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
            if len(word) < 2 or word in STOP_WORDS or word in FILLER_WORDS:
                continue
            stem = stem_of(word)
            if stem not in FILLER_STEMS:
                seen.setdefault(stem, None)
    return tuple(seen)[:MAX_TERMS]


def stem_of(word: str) -> str:
    """A light English suffix stripper (a subset of Porter's rules). It only has to send the forms of a
    word to the same stem on both sides; the full-text index uses its own stemmer for candidates."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix, keep in (("ies", "i"), ("ied", "i"), ("sses", "ss")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + keep
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ly", "ment"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and re.search(r"[aeiouy]", base):
            word = base[:-1] if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz" else base
            break
    if word.endswith("ation") and len(word) > 7:
        word = word[:-5]
    elif word.endswith(("tion", "sion")) and len(word) > 6:
        word = word[:-3]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if word.endswith("y") and len(word) > 3:
        word = word[:-1] + "i"
    return word


FILLER_STEMS = frozenset(stem_of(w) for w in FILLER_WORDS)


def symptom_terms(ke: KnownError) -> tuple[str, ...]:
    """What a report is compared with: the title, the symptom signature and the product."""
    return terms(ke.title, ke.symptom, ke.product)


def score(report: tuple[str, ...], known: tuple[str, ...]) -> tuple[float, int]:
    """(overlap coefficient, number of shared terms) of two term sets."""
    shared = len(set(report) & set(known))
    if not report or not known:
        return 0.0, 0
    return round(shared / min(len(set(report)), len(set(known))), 3), shared


def matches(report: tuple[str, ...], known: tuple[str, ...]) -> float | None:
    """The score when the report matches the record by the rule above, else None."""
    value, shared = score(report, known)
    if shared >= MIN_SHARED and value >= MIN_SCORE:
        return value
    return None


def candidate_categories(report: str, undiagnosed: str) -> tuple[str, ...] | None:
    """The record categories offered to a report diagnosed in `report` (None: any). A record for one
    category is offered to reports diagnosed in it, or not categorised yet (the policy default); a
    record without a category is offered to every report."""
    return None if report == undiagnosed else (report,)


def workaround_note(ke: KnownError) -> str:
    """The customer-facing note offering the workaround (Check Known Error)."""
    fix = {
        FixStatus.OPEN: "A permanent fix is being investigated.",
        FixStatus.IN_PROGRESS: "A permanent fix is in progress.",
        FixStatus.FIXED: "A permanent fix is available.",
        FixStatus.WONT_FIX: "No permanent fix is planned.",
    }[ke.permanent_fix_status]
    return f"This looks like a known problem: {ke.title}. Workaround: {ke.workaround} {fix}"


def link_of(
    ke: KnownError, now: datetime, *, score: float | None = None, source: bool = False
) -> KnownErrorLink:
    return KnownErrorLink(
        id=ke.id,
        title=ke.title,
        workaround=ke.workaround,
        permanent_fix_status=ke.permanent_fix_status.value,
        linked=now,
        score=score,
        source=source,
    )
