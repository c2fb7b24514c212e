"""The register's rules in Python, with messages a person can act on.

The database enforces the same rules as constraints (registers/models.py); these run first so that
bad input gets a clear message instead of an integrity error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container
from typing import Any

from django.core.exceptions import ValidationError

from .codes import (
    Category,
    DelayReason,
    HospitalType,
    LegalStatus,
    PlacementType,
    RiskFactor,
    RiskRating,
    UrgentReason,
    values,
)
from .models import HOSPITAL_FIELDS, PLACEMENT_FIELDS

CHI_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# The register is for adults; people from 16 may be recorded while in transition to adult services.
MINIMUM_AGE = 16
ADULT_AGE = 18

# --- Text: names and references ----------------------------------------------------------------
# Characters that change how text is shown without being visible, or that are not text at all:
# C0 and C1 controls (tabs and line breaks included: a name is one line), DEL, the bidirectional
# embeddings, overrides and isolates (which can make "evil.exe" read as "exe.live"), the implicit
# direction marks, and the zero-width characters (which make two references that look the same
# differ). Free text such as a reason may hold line breaks; names and references may not.
INVISIBLE_OR_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb]"
)
# Person fields that are names or references (shown in lists, used in file names and searches).
NAME_AND_REFERENCE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "local_reference",
    "key_worker_name",
    "key_worker_contact",
    "lead_professional_team",
    "hospital_name",
)
CONTROL_CHARACTER_MESSAGE = (
    "Remove the control or invisible characters (such as direction marks, zero-width spaces or "
    "line breaks): type the text again rather than pasting it."
)


def has_control_characters(value: object) -> bool:
    return isinstance(value, str) and INVISIBLE_OR_CONTROL.search(value) is not None


def control_character_errors(
    fields: dict[str, Any], names: tuple[str, ...] = NAME_AND_REFERENCE_FIELDS
) -> dict[str, list[str]]:
    """field -> message for each name or reference holding a control or invisible character."""
    return {
        name: [CONTROL_CHARACTER_MESSAGE]
        for name in names
        if has_control_characters(fields.get(name))
    }


def refuse_control_characters(**values: str | None) -> None:
    """ValidationError naming each given field (a staff name, an API client's name, ...) that
    holds a control or invisible character."""
    raise_if(control_character_errors(values, tuple(values)))


def safe_download_name(name: str, *, fallback: str = "download") -> str:
    """A file name safe to send in Content-Disposition and to save on any system: ASCII letters,
    digits, '.', '_' and '-' only (anything else, a local reference's slash or quote included,
    becomes '_'), no leading dots, at most 120 characters with the extension kept."""
    match = re.search(r"\.([A-Za-z0-9]{1,10})$", name)
    stem, extension = (name[: match.start()], match[1]) if match else (name, "")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", re.sub(r"[^\x20-\x7e]", "_", stem)).strip("_.-")
    stem = stem[: 120 - len(extension) - 1] or fallback
    return f"{stem}.{extension}" if extension else stem


# --- Dates that can be true ---------------------------------------------------------------------
EARLIEST_DATE = dt.date(1900, 1, 1)
# A plan further ahead than this is a typing mistake (a year of 2205 for 2025).
LATEST_PLAN_YEARS = 10
# Dates of something that happened to the person: none can come before they were born.
EVENT_DATES_AFTER_BIRTH = {
    "date_added": "The date added cannot be before the date of birth.",
    "admission_date": "The admission date cannot be before the date of birth.",
    "ready_for_discharge_date": "Ready for discharge cannot be before the date of birth.",
    "placement_start_date": "The placement start date cannot be before the date of birth.",
    "info_sharing_date": "The information-sharing date cannot be before the date of birth.",
}
PLAN_DATES = ("planned_return_date", "planned_move_date", "ready_for_discharge_date")
DATE_FIELDS = (
    "date_of_birth",
    *EVENT_DATES_AFTER_BIRTH,
    "planned_return_date",
    "planned_move_date",
    "next_review_due",
    "effective_date",
)


def date_errors(
    fields: dict[str, Any], *, today: dt.date, born: dt.date | None = None
) -> dict[str, list[str]]:
    """Dates that cannot be true: before 1900, an event before the person's birth, a plan more
    than ten years ahead. `born` defaults to the fields' own date of birth."""
    errors: dict[str, list[str]] = {}
    born = born or fields.get("date_of_birth")
    latest_plan = _years_after(today, LATEST_PLAN_YEARS)
    for name in DATE_FIELDS:
        value = fields.get(name)
        if not isinstance(value, dt.date):
            continue
        if value < EARLIEST_DATE:
            errors[name] = ["Dates before 1900 are not accepted: check the year."]
        elif name in EVENT_DATES_AFTER_BIRTH and isinstance(born, dt.date) and value < born:
            errors[name] = [EVENT_DATES_AFTER_BIRTH[name]]
        elif name in PLAN_DATES and value > latest_plan:
            errors[name] = [
                f"A planned date more than {LATEST_PLAN_YEARS} years ahead is not accepted: "
                "check the year."
            ]
    return errors


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def chi_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit, or None where no valid digit exists (remainder gives 10)."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, CHI_WEIGHTS, strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def chi_mod10_check_digit(first_nine: str) -> int:
    """The modulus-10 check digit NHS Scotland issues since late 2025 (domain.md, "CHI numbers"):
    the 1st, 3rd, 5th, 7th and 9th digits doubled (less 9 when over 9), all nine summed."""
    total = 0
    for position, digit in enumerate(first_nine):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def chi_errors(chi: str) -> list[str]:
    """Why this is not a CHI number as issued today (empty when it is one): 10 digits, the first
    six a real date, and a check digit that passes modulus 11 or modulus 10."""
    if not re.fullmatch(r"[0-9]{10}", chi):
        return ["Enter a CHI number as 10 digits, with no spaces."]
    day, month, year = int(chi[0:2]), int(chi[2:4]), int(chi[4:6])
    if not any(_is_date(century + year, month, day) for century in (1900, 2000)):
        return ["The first six digits of a CHI number are the date of birth (DDMMYY)."]
    check = int(chi[9])
    if check not in (chi_check_digit(chi[:9]), chi_mod10_check_digit(chi[:9])):
        return ["This CHI number's check digit is wrong: check it has been copied correctly."]
    return []


def chi_mismatches(chi: str | None, *, date_of_birth: dt.date | None, sex: str | None) -> list[str]:
    """Where a valid CHI number disagrees with the recorded date of birth or sex.

    Not a refusal: the recorded sex can rightly differ from the CHI's sex digit, and the century
    cannot be told from DDMMYY. The user confirms it, and the return lists it as a data-quality
    warning."""
    if not chi or chi_errors(chi):
        return []
    problems = []
    if date_of_birth and chi[:6] != date_of_birth.strftime("%d%m%y"):
        problems.append("The CHI number does not match the date of birth.")
    if sex in ("male", "female") and (int(chi[8]) % 2 == 1) != (sex == "male"):
        problems.append("The CHI number does not match the recorded sex.")
    return problems


CHI_MISMATCH = "chi_mismatch"  # the error code of an unconfirmed mismatch


def chi_mismatch_error(problems: list[str]) -> ValidationError:
    return ValidationError(
        " ".join(problems)
        + " If the CHI number is right, confirm it: the mismatch is then kept as a data-quality"
        " warning.",
        code=CHI_MISMATCH,
    )


def is_valid_chi(chi: str) -> bool:
    return not chi_errors(chi)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def normalise_status(state: dict[str, Any]) -> dict[str, Any]:
    """Clear what no longer applies: a discharged person has no hospital stay, and so on.

    The history keeps the old values; the current record holds only what is true now.
    """
    state = dict(state)
    if state.get("category") != Category.URGENT:
        state["urgent_reason"] = None
    if state.get("urgent_reason") == UrgentReason.IN_HOSPITAL:
        state["risk_rating"] = None
    else:
        for name in HOSPITAL_FIELDS:
            state[name] = "" if name == "hospital_name" else None
    out_of_area = state.get("category") == Category.APPROPRIATE_OUT_OF_AREA or (
        state.get("urgent_reason") == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
    )
    if out_of_area:
        state["placement_chosen"] = state.get("category") == Category.APPROPRIATE_OUT_OF_AREA
    else:
        for name in PLACEMENT_FIELDS:
            state[name] = None
    if not state.get("ready_for_discharge_date"):
        state["delay_reason"] = None
    state["risk_factors"] = sorted(set(state.get("risk_factors") or []))
    return state


def status_errors(
    state: dict[str, Any],
    *,
    today: dt.date,
    host_areas: Container[str],
    born: dt.date | None = None,
) -> dict[str, list[str]]:
    """Every rule the register status must meet (domain.md), as field -> messages.

    `born`: the person's date of birth, when `state` does not hold it (no event before birth)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    category = state.get("category")
    reason = state.get("urgent_reason")
    rating = state.get("risk_rating")
    if category not in values(Category):
        add("category", "Choose the register category.")
    if category == Category.URGENT and reason not in values(UrgentReason):
        add("urgent_reason", "An urgent entry needs one urgent reason.")
    if reason != UrgentReason.IN_HOSPITAL and rating not in values(RiskRating):
        add("risk_rating", "Choose a risk of breakdown rating (red, amber or green).")
    if reason == UrgentReason.AT_RISK_OF_BREAKDOWN and rating == RiskRating.GREEN:
        add("risk_rating", "At risk of breakdown needs a red or amber rating.")
    unknown = set(state.get("risk_factors") or []) - set(values(RiskFactor))
    if unknown:
        add("risk_factors", f"Unknown risk factors: {', '.join(sorted(unknown))}.")

    if reason == UrgentReason.IN_HOSPITAL:
        admitted = state.get("admission_date")
        ready = state.get("ready_for_discharge_date")
        if not state.get("hospital_name"):
            add("hospital_name", "Enter the hospital's name.")
        if state.get("hospital_type") not in values(HospitalType):
            add("hospital_type", "Choose the type of hospital.")
        if state.get("legal_status") not in values(LegalStatus):
            add("legal_status", "Choose the legal status of the stay.")
        if not admitted:
            add("admission_date", "Enter the admission date.")
        elif admitted > today:
            add("admission_date", "The admission date cannot be in the future.")
        if ready and admitted and ready < admitted:
            add("ready_for_discharge_date", "Ready for discharge cannot be before admission.")
        if state.get("delay_reason") and state["delay_reason"] not in values(DelayReason):
            add("delay_reason", "Choose a delay reason from the list.")

    if (
        category == Category.APPROPRIATE_OUT_OF_AREA
        or reason == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
    ):
        # The host areas are only looked at when one is given.
        if not state.get("host_area") or state["host_area"] not in host_areas:
            add("host_area", "Choose the host area: another IA, or a nation outside Scotland.")
        if state.get("placement_type") not in values(PlacementType):
            add("placement_type", "Choose the type of placement.")
        start = state.get("placement_start_date")
        if not start:
            add("placement_start_date", "Enter the placement's start date.")
        elif start > today:
            add("placement_start_date", "The placement start date cannot be in the future.")
        planned = state.get("planned_return_date")
        if planned and start and planned < start:
            add("planned_return_date", "The planned return cannot be before the placement began.")
    # The date of birth itself is checked with the person's details (identity_extra_errors).
    for name, messages in date_errors(state, today=today, born=born).items():
        if name != "date_of_birth" and name not in errors:
            errors[name] = messages
    for name, messages in control_character_errors(state, ("hospital_name",)).items():
        errors.setdefault(name, []).extend(messages)
    return errors


def identity_extra_errors(fields: dict[str, Any], *, today: dt.date) -> dict[str, list[str]]:
    """The person's details beyond presence and format: dates that can be true, names and
    references without control or invisible characters."""
    errors = date_errors(fields, today=today)
    for name, messages in control_character_errors(fields).items():
        errors.setdefault(name, []).extend(messages)
    return errors


def identity_errors(
    fields: dict[str, Any], *, today: dt.date, chi_mismatch_allowed: bool = False
) -> dict[str, list[Any]]:
    """Who the person is: names, reference, an adult's (or a 16 or 17 year old's) date of birth,
    sex, and a CHI number that agrees with them."""
    errors: dict[str, list[str]] = {}
    for name, label in (
        ("given_name", "given name"),
        ("family_name", "family name"),
        ("local_reference", "local reference"),
    ):
        if not (fields.get(name) or "").strip():
            errors[name] = [f"Enter the {label}."]
    born = fields.get("date_of_birth")
    if not born:
        errors["date_of_birth"] = ["Enter the date of birth."]
    elif born > today:
        errors["date_of_birth"] = ["The date of birth cannot be in the future."]
    elif age_on(born, today) < MINIMUM_AGE:
        errors["date_of_birth"] = [
            "The register is for adults; people from 16 may be recorded while in transition."
        ]
    if fields.get("sex") not in ("male", "female", "not_known"):
        errors["sex"] = ["Choose male, female or not known."]
    if fields.get("chi_number"):
        problems = chi_errors(fields["chi_number"])
        mismatches = chi_mismatches(fields["chi_number"], date_of_birth=born, sex=fields.get("sex"))
        if problems:
            errors["chi_number"] = problems
        elif mismatches and not chi_mismatch_allowed:
            errors["chi_number"] = [chi_mismatch_error(mismatches)]
    if fields.get("info_sharing_date") and not fields.get("info_sharing_recorded"):
        errors["info_sharing_date"] = ["A date needs the information-sharing basis recorded."]
    for name, messages in identity_extra_errors(fields, today=today).items():
        errors[name] = errors.get(name) or messages
    return errors


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def make_chi(date_of_birth: dt.date, sex: str, serial: int) -> str | None:
    """A valid CHI number for a date of birth and sex (synthetic data and tests).

    `serial` picks the two free digits; returns None where that serial has no valid check digit.
    """
    sex_digit = (serial % 5) * 2 + (1 if sex == "male" else 0)
    first_nine = f"{date_of_birth:%d%m%y}{(serial // 5) % 100:02d}{sex_digit}"
    check = chi_check_digit(first_nine)
    return None if check is None else f"{first_nine}{check}"
