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
    HostAreaOutsideScotland,
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


def chi_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit, or None where no valid digit exists (remainder gives 10)."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, CHI_WEIGHTS, strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def chi_errors(
    chi: str, *, date_of_birth: dt.date | None = None, sex: str | None = None
) -> list[str]:
    if not re.fullmatch(r"[0-9]{10}", chi):
        return ["Enter a CHI number as 10 digits, with no spaces."]
    day, month, year = int(chi[0:2]), int(chi[2:4]), int(chi[4:6])
    if not any(_is_date(century + year, month, day) for century in (1900, 2000)):
        return ["The first six digits of a CHI number are the date of birth (DDMMYY)."]
    if chi_check_digit(chi[:9]) != int(chi[9]):
        return ["This CHI number's check digit is wrong: check it has been copied correctly."]
    errors = []
    if date_of_birth and chi[:6] != date_of_birth.strftime("%d%m%y"):
        errors.append("The CHI number does not match the date of birth.")
    if sex in ("male", "female") and (int(chi[8]) % 2 == 1) != (sex == "male"):
        errors.append("The CHI number does not match the recorded sex.")
    return errors


def is_valid_chi(chi: str) -> bool:
    return not chi_errors(chi)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def host_area_codes(authority_codes: list[str]) -> list[str]:
    return [*authority_codes, *values(HostAreaOutsideScotland)]


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
    state: dict[str, Any], *, today: dt.date, host_areas: Container[str]
) -> dict[str, list[str]]:
    """Every rule the register status must meet (domain.md), as field -> messages."""
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
    return errors


def identity_errors(fields: dict[str, Any], *, today: dt.date) -> dict[str, list[str]]:
    """Who the person is: names, reference, an adult's (or a 16 or 17 year old's) date of birth,
    sex, and a CHI number that agrees with them."""
    errors: dict[str, list[str]] = {}
    for name in ("given_name", "family_name", "local_reference"):
        if not (fields.get(name) or "").strip():
            errors[name] = ["This field is required."]
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
        problems = chi_errors(fields["chi_number"], date_of_birth=born, sex=fields.get("sex"))
        if problems:
            errors["chi_number"] = problems
    if fields.get("info_sharing_date") and not fields.get("info_sharing_recorded"):
        errors["info_sharing_date"] = ["A date needs the information-sharing basis recorded."]
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
