"""The design system's date input: day, month and year in three labelled boxes, for every date
people type (https://designsystem.gov.scot/components/date-picker, the "multiple" layout).

The inputs are named `<field>_day`, `<field>_month` and `<field>_year`. A single value under the
field's own name (an imported file's column, a hidden field on a confirmation page, an older link)
is still read, in any of `DATE_FORMATS`, so one field parses every way a date reaches a form. The
cleaned value is a `datetime.date`; the API keeps ISO dates and never sees this field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d %m %Y"]
DATE_HINT = "For example, 27 3 2025"
PARTS = ("day", "month", "year")


class DayMonthYearWidget(forms.MultiWidget):
    """Three text inputs; rendered by templates/includes/field.html with the SGDS markup."""

    template_name = "includes/day_month_year.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        numeric = {"inputmode": "numeric", "autocomplete": "off"}
        super().__init__({part: forms.TextInput(attrs=numeric) for part in PARTS}, attrs)

    def decompress(self, value: Any) -> list[str]:
        return list(date_parts(value))

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if any(f"{name}_{part}" in data for part in PARTS):
            return [(data.get(f"{name}_{part}") or "").strip() for part in PARTS]
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and all(f"{name}_{part}" not in data for part in PARTS)

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else id_


def parse_date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def date_parts(value: Any) -> tuple[str, str, str]:
    """What the three boxes show: a date's parts, what was typed, or nothing."""
    if isinstance(value, (list, tuple)):
        day, month, year = [*list(value), "", "", ""][:3]
        return str(day or ""), str(month or ""), str(year or "")
    if isinstance(value, str) and value.strip():
        value = parse_date(value) or value
        if isinstance(value, str):
            return "", "", ""
    if isinstance(value, dt.date):
        return str(value.day), str(value.month), str(value.year)
    return "", "", ""


def parts_in_error(value: Any) -> tuple[str, ...]:
    """Which boxes to mark when a typed date is refused: the missing or wrong parts, or all three
    when each part is fine alone but together they are no date (31 February)."""
    if not isinstance(value, (list, tuple)):
        return PARTS
    typed = dict(zip(PARTS, date_parts(value), strict=True))
    missing = tuple(part for part in PARTS if not typed[part])
    if missing and len(missing) < 3:
        return missing
    wrong = tuple(part for part in PARTS if not typed[part].isdigit())
    if wrong:
        return wrong
    if len(typed["year"]) != 4:
        return ("year",)
    if not 1 <= int(typed["month"]) <= 12:
        return ("month",)
    if not 1 <= int(typed["day"]) <= 31:
        return ("day",)
    return PARTS


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class DayMonthYearField(forms.Field):
    """A date typed as day, month and year, with errors that name the date and what is wrong."""

    widget = DayMonthYearWidget

    def __init__(self, *, label: str, **kw: Any) -> None:
        self.name = label.removesuffix(" (optional)").strip()
        lower = self.name[0].lower() + self.name[1:]
        messages = {
            "required": f"Enter the {lower}.",
            "invalid": f"Enter the {lower} as a real date, like 27 3 2025.",
            "incomplete": f"{self.name} must include a %(missing)s.",
            "short_year": f"{self.name} must have a year with 4 digits, like 2025.",
        }
        messages.update(kw.pop("error_messages", None) or {})
        super().__init__(label=label, error_messages=messages, **kw)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            return parsed
        day, month, year = date_parts(value)
        if not (day or month or year):
            return None
        missing = [part for part, typed in zip(PARTS, (day, month, year), strict=True) if not typed]
        if missing:
            raise ValidationError(
                self.error_messages["incomplete"],
                code="incomplete",
                params={"missing": _and(missing)},
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(year) != 4:
            raise ValidationError(self.error_messages["short_year"], code="short_year")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value: Any) -> Any:
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True
