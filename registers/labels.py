"""Labels for people: every code the register stores (registers/codes.py), shown in words.

Pages, PDFs, emails, the audit log and the readable register export show labels, never codes;
this module is the one place a code becomes its label. The codes stay what is stored, what the
API speaks and what the coded register file holds (for re-import).

Dates for display have one format, set in `dsr/formats/en/formats.py` (Django's `date` filter
with no argument gives "17 December 2026", `date:"SHORT_DATE_FORMAT"` gives "17 Dec 2026");
`display_date` is the same for Python code.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.utils import dates, formats, timezone, translation
from django.utils.dates import MONTHS_3

from . import codes
from .authorities import AUTHORITIES

# The person's fields that hold a code, and the code list each takes its values from.
FIELD_CODES: dict[str, type[models.TextChoices]] = {
    "sex": codes.Sex,
    "category": codes.Category,
    "urgent_reason": codes.UrgentReason,
    "risk_rating": codes.RiskRating,
    "risk_factors": codes.RiskFactor,
    "referral_source": codes.ReferralSource,
    "hospital_type": codes.HospitalType,
    "legal_status": codes.LegalStatus,
    "delay_reason": codes.DelayReason,
    "placement_type": codes.PlacementType,
    "leaving_reason": codes.LeavingReason,
}

_AUTHORITY_NAMES = {code: name for code, name, _weight in AUTHORITIES}
_AUTHORITY_NAMES.update(
    {old: _AUTHORITY_NAMES[new] for old, new in codes.REPLACED_AUTHORITY_CODES.items()}
)
_OUTSIDE_SCOTLAND = dict(codes.HostAreaOutsideScotland.choices)


@functools.cache
def _labels_of(choices: type[models.TextChoices]) -> dict[str, str]:
    # `choices.choices` builds a new list from the enum on every call; the lists never change.
    return {value: str(text) for value, text in choices.choices}


def label(choices: type[models.TextChoices], value: Any) -> str:
    """The label of one code (a code no longer in the list shows as it is stored)."""
    if value in (None, ""):
        return ""
    return str(_labels_of(choices).get(value, value))


def labels(choices: type[models.TextChoices], values: Iterable[Any]) -> list[str]:
    return [label(choices, v) for v in values]


def host_area(code: str | None) -> str:
    """A host area: another authority's name for its S37 code, or a place beyond Scotland."""
    if not code:
        return ""
    return _AUTHORITY_NAMES.get(code) or str(_OUTSIDE_SCOTLAND.get(code, code))


def is_authority_code(value: str) -> bool:
    return value in _AUTHORITY_NAMES


def field_value(field: str, value: Any) -> Any:
    """A person field's stored value, in words where it is a code (lists joined with commas)."""
    if field == "host_area":
        return host_area(value)
    choices = FIELD_CODES.get(field)
    if choices is None:
        return value
    if isinstance(value, list | tuple):
        return ", ".join(labels(choices, value))
    return label(choices, value)


# The formats dsr/formats/en/formats.py sets, which `_month_names` writes without Django's
# format parser (about twenty times faster: a person's timeline shows some thirty dates).
KNOWN_FORMATS = {
    "DATE_FORMAT": "j F Y",
    "SHORT_DATE_FORMAT": "j M Y",
    "SHORT_DATETIME_FORMAT": "j M Y, H:i",
}


@functools.cache
def _month_names(language: str | None) -> tuple[list[str], list[str]] | None:
    """The month names ("December", "Dec") of the language, if its formats are the known ones
    (otherwise Django formats the date)."""
    if any(formats.get_format(name, language) != f for name, f in KNOWN_FORMATS.items()):
        return None
    with translation.override(language):
        full = [""] + [str(dates.MONTHS[m]) for m in range(1, 13)]
        short = [""] + [str(dates.MONTHS_3[m]).title() for m in range(1, 13)]
    return full, short


def display_date(value: dt.date | None, *, short: bool = False) -> str:
    """A date as pages show it: "17 December 2026" (short: "17 Dec 2026"), as Django's `date`
    filter with DATE_FORMAT (SHORT_DATE_FORMAT) writes it."""
    if value is None:
        return ""
    names = _month_names(translation.get_language())
    if names is None:
        return formats.date_format(value, "SHORT_DATE_FORMAT" if short else "DATE_FORMAT")
    return f"{value.day} {names[1 if short else 0][value.month]} {value.year:04d}"


def display_datetime(value: dt.datetime | None) -> str:
    """A moment as pages show it, in local time: "17 Dec 2026, 14:05" (Django's `date` filter
    with SHORT_DATETIME_FORMAT)."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    names = _month_names(translation.get_language())
    if names is None:
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    return f"{display_date(value, short=True)}, {value.hour:02d}:{value.minute:02d}"


def short_date_formatter() -> Callable[[dt.date | None], str]:
    """`display_date(value, short=True)` for the many dates of one page (a list's rows).

    With the service's short format, "j M Y", the month names are looked up once; Django's
    formatter costs about 10 to 20 microseconds a date, a tenth of a 50-row page's Python. Any
    other format goes through Django's formatter.
    """
    if formats.get_format("SHORT_DATE_FORMAT") != "j M Y":
        return lambda value: display_date(value, short=True)
    # As Django's "M": the language's three-letter month, title-cased.
    months = ["", *(str(MONTHS_3[month]).title() for month in range(1, 13))]

    def short(value: dt.date | None) -> str:
        return "" if value is None else f"{value.day} {months[value.month]} {value.year:04d}"

    return short
