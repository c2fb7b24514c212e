"""The return's tables (domain.md), computed from a census snapshot, and its data-quality checks.

A table is plain JSON: row and column keys with labels, a matrix of counts, and whether its rows
add up (so that row and column totals are meaningful). Only adults are counted; people in
transition (under 18 on the census date) stay in the snapshot but out of the return.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any

from registers.codes import (
    Category,
    DelayReason,
    HospitalType,
    LeavingReason,
    Sex,
    UrgentReason,
)

from .snapshots import ADULT_AGE, LEFT_REGISTER, NOT_ON_REGISTER

AGE_GROUPS = [("18-24", 18, 24), ("25-34", 25, 34), ("35-44", 35, 44), ("45-54", 45, 54)]
AGE_GROUPS += [("55-64", 55, 64), ("65+", 65, 200)]
STAY_BANDS = [("<6m", 6), ("6-12m", 12), ("1-2y", 24), ("2-5y", 60), ("5-10y", 120), ("10y+", None)]
DELAY_BANDS = [("<1m", 1), ("1-3m", 3), ("3-6m", 6), ("6-12m", 12), ("12m+", None)]
HOST_GROUPS = [
    ("other_scottish_ia", "Another Scottish IA"),
    ("england", "England"),
    ("wales", "Wales"),
    ("northern_ireland", "Northern Ireland"),
    ("outside_uk", "Outside the UK"),
]
NOT_RECORDED = ("not_recorded", "Not recorded")
# The bands' keys are the return's codes (in the API and the coded files); people read these.
BAND_LABELS = {
    "18-24": "18 to 24",
    "25-34": "25 to 34",
    "35-44": "35 to 44",
    "45-54": "45 to 54",
    "55-64": "55 to 64",
    "65+": "65 and over",
    "<1m": "Under 1 month",
    "1-3m": "1 to 3 months",
    "3-6m": "3 to 6 months",
    "<6m": "Under 6 months",
    "6-12m": "6 to 12 months",
    "12m+": "12 months or more",
    "1-2y": "1 to 2 years",
    "2-5y": "2 to 5 years",
    "5-10y": "5 to 10 years",
    "10y+": "10 years or more",
}
# Where people stood at a census date, for movement between census dates: urgent split by reason.
PLACES = [
    [UrgentReason.IN_HOSPITAL.value, "Urgent: in hospital"],
    [UrgentReason.INAPPROPRIATE_OUT_OF_AREA.value, "Urgent: inappropriately out of area"],
    [UrgentReason.AT_RISK_OF_BREAKDOWN.value, "Urgent: at risk of breakdown"],
    [Category.ENHANCED_MONITORING.value, Category.ENHANCED_MONITORING.label],
    [Category.APPROPRIATE_OUT_OF_AREA.value, Category.APPROPRIATE_OUT_OF_AREA.label],
]
MOVEMENT_FROM = [[NOT_ON_REGISTER, "Not on the register (added since)"], *PLACES]
MOVEMENT_TO = [*PLACES, [LEFT_REGISTER, "Left the register"]]
# Tables a national release publishes for Scotland only, never by authority. Movement between
# census dates by authority would tie each authority's figures of this quarter to those of the
# last (its rows are the last release's categories) and add 36 linked cells per authority to the
# disclosure audit; at Scotland level it discloses nothing about any authority (see
# docs/reporting.md, "Movement between census dates").
SCOTLAND_ONLY_TABLES = frozenset({"category_movement"})

Row = dict[str, Any]


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _band(months: int, bands: list[tuple[str, int | None]]) -> str:
    for label, upper in bands:
        if upper is None or months < upper:
            return label
    raise AssertionError("the last band is open")


def _choices(choices) -> list[list[str]]:
    return [[c.value, c.label] for c in choices]


def row_label(key: str, label: str) -> str:
    """A row's label as people read it, also for a table stored before the bands had labels
    (its label was then the band's key, `<6m`)."""
    return BAND_LABELS.get(key, label)


def _labels(keys: Iterable[str]) -> list[list[str]]:
    return [[k, BAND_LABELS[k]] for k in keys]


def _table(
    key: str,
    title: str,
    rows: list[list[str]],
    columns: list[list[str]],
    people: Iterable[Row],
    place: Callable[[Row], tuple[str, str] | None],
    *,
    additive: bool = True,
) -> dict[str, Any]:
    row_index = {r[0]: i for i, r in enumerate(rows)}
    column_index = {c[0]: j for j, c in enumerate(columns)}
    cells = [[0] * len(columns) for _ in rows]
    for person in people:
        where = place(person)
        if where is not None:
            cells[row_index[where[0]]][column_index[where[1]]] += 1
    return {
        "key": key,
        "title": title,
        "rows": rows,
        "columns": columns,
        "cells": cells,
        "additive": additive,
    }


def is_delayed(row: Row, census_date: dt.date) -> bool:
    ready = row["ready_for_discharge_date"]
    return row["urgent_reason"] == UrgentReason.IN_HOSPITAL and bool(ready and ready < census_date)


def _is_out_of_area(row: Row) -> bool:
    return row["category"] == Category.APPROPRIATE_OUT_OF_AREA or (
        row["urgent_reason"] == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
    )


def host_group(host_area: str) -> str:
    return "other_scottish_ia" if host_area.startswith("S37") else host_area


@functools.cache  # asked once per adult of every return: 146,000 times in a national build
def age_group(age: int) -> str:
    return next(label for label, low, high in AGE_GROUPS if low <= age <= high)


def compute_tables(
    rows: list[Row], census_date: dt.date, movement: dict[str, Any]
) -> list[dict[str, Any]]:
    adults = [r for r in rows if r["age"] >= ADULT_AGE]
    urgent = [r for r in adults if r["category"] == Category.URGENT]
    in_hospital = [r for r in urgent if r["urgent_reason"] == UrgentReason.IN_HOSPITAL]
    delayed = [r for r in in_hospital if is_delayed(r, census_date)]
    out_of_area = [r for r in adults if _is_out_of_area(r) and r["host_area"]]
    people = [["people", "People"]]
    categories = _choices(Category)
    stays = [r for r in in_hospital if r["admission_date"] and r["hospital_type"]]
    left = movement.get("left", {})
    movement_rows = [["added", "Added to the register"]]
    # "Left: moved outside Scotland": the label in a sentence, names keeping their capitals.
    movement_rows += [
        [f"left_{c.value}", f"Left: {c.label[0].lower()}{c.label[1:]}"] for c in LeavingReason
    ]
    movement_rows += [["moved_between_categories", "Moved between categories"]]
    movement_counts = {"added": movement.get("added", 0)}
    movement_counts |= {f"left_{c.value}": left.get(c.value, 0) for c in LeavingReason}
    movement_counts["moved_between_categories"] = movement.get("moved_between_categories", 0)
    movement_table = _table(
        "movement",
        "Movement in the quarter",
        movement_rows,
        people,
        [],
        lambda r: None,
        additive=False,
    )
    for i, (key, _label) in enumerate(movement_rows):
        movement_table["cells"][i][0] = movement_counts[key]
    return [
        _table(
            "category",
            "People on the register by category",
            categories,
            people,
            adults,
            lambda r: (r["category"], "people"),
        ),
        _table(
            "urgent_reason",
            "Urgent: by reason",
            _choices(UrgentReason),
            people,
            urgent,
            lambda r: (r["urgent_reason"], "people"),
        ),
        _table(
            "delayed_discharge",
            "In hospital: of which delayed discharge",
            [["delayed", "Delayed discharge"], ["not_delayed", "Not delayed"]],
            people,
            in_hospital,
            lambda r: ("delayed" if is_delayed(r, census_date) else "not_delayed", "people"),
        ),
        _table(
            "category_by_sex",
            "Category by sex",
            categories,
            _choices(Sex),
            adults,
            lambda r: (r["category"], r["sex"]),
        ),
        _table(
            "category_by_age",
            "Category by age group",
            categories,
            _labels(label for label, _, _ in AGE_GROUPS),
            adults,
            lambda r: (r["category"], age_group(r["age"])),
        ),
        _table(
            "hospital_stay",
            "In hospital: length of stay at census by hospital type",
            _labels(label for label, _ in STAY_BANDS),
            _choices(HospitalType),
            stays,
            lambda r: (
                _band(months_between(r["admission_date"], census_date), STAY_BANDS),
                r["hospital_type"],
            ),
        ),
        _table(
            "delays",
            "Delayed discharges: time delayed by delay reason",
            _labels(label for label, _ in DELAY_BANDS),
            [*_choices(DelayReason), list(NOT_RECORDED)],
            delayed,
            lambda r: (
                _band(months_between(r["ready_for_discharge_date"], census_date), DELAY_BANDS),
                r["delay_reason"] or NOT_RECORDED[0],
            ),
        ),
        _table(
            "out_of_area",
            "Out-of-area placements by host area",
            [list(g) for g in HOST_GROUPS],
            [["appropriate", "Appropriate"], ["inappropriate", "Inappropriate"]],
            out_of_area,
            lambda r: (
                host_group(r["host_area"]),
                "appropriate"
                if r["category"] == Category.APPROPRIATE_OUT_OF_AREA
                else "inappropriate",
            ),
        ),
        movement_table,
        category_movement_table(movement.get("transitions", {})),
    ]


def category_movement_table(transitions: dict[str, dict[str, int]]) -> dict[str, Any]:
    """From where each person stood at the previous census date (rows) to where they stand at
    this one (columns): onto the register, between categories, off it. The diagonal is people
    who stayed where they were."""
    table = _table(
        "category_movement",
        "Movement between census dates: from the previous census (rows) to this one (columns)",
        MOVEMENT_FROM,
        MOVEMENT_TO,
        [],
        lambda r: None,
    )
    rows = {key: i for i, (key, _) in enumerate(MOVEMENT_FROM)}
    columns = {key: j for j, (key, _) in enumerate(MOVEMENT_TO)}
    for origin, destinations in transitions.items():
        for destination, count in destinations.items():
            if origin in rows and destination in columns:
                table["cells"][rows[origin]][columns[destination]] += count
    return table


WARNINGS = {
    "review_overdue": "Review overdue on the census date",
    "hospital_no_admission_date": "In hospital without an admission date",
    "hospital_details_missing": "In hospital without a hospital type or legal status",
    "delay_reason_missing": "Delayed discharge without a delay reason",
    "placement_details_missing": "Out of area without a host area, placement type or choice",
    "risk_rating_missing": "No risk of breakdown rating (required unless in hospital)",
    "sex_not_known": "Sex not known (counted as 'not known' in the tables)",
    "chi_mismatch": "CHI number does not match the date of birth or sex (confirmed when entered)",
}


def warning_codes(row: Row, census_date: dt.date) -> list[str]:
    """The data-quality problems of one snapshot row."""
    codes = []
    due = row["next_review_due"]
    if due and due < census_date:
        codes.append("review_overdue")
    if row["urgent_reason"] == UrgentReason.IN_HOSPITAL:
        if not row["admission_date"]:
            codes.append("hospital_no_admission_date")
        if not (row["hospital_type"] and row["legal_status"]):
            codes.append("hospital_details_missing")
        if is_delayed(row, census_date) and not row["delay_reason"]:
            codes.append("delay_reason_missing")
    elif not row["risk_rating"]:
        codes.append("risk_rating_missing")
    if _is_out_of_area(row) and not (
        row["host_area"] and row["placement_type"] and row["placement_chosen"] is not None
    ):
        codes.append("placement_details_missing")
    if row["sex"] == Sex.NOT_KNOWN:
        codes.append("sex_not_known")
    if row.get("chi_mismatch"):
        codes.append("chi_mismatch")
    return codes


def summarise_warnings(rows: list[Row], census_date: dt.date) -> list[dict[str, Any]]:
    """Counts per warning, in a fixed order; no person identifiers (the return is aggregate)."""
    counts = dict.fromkeys(WARNINGS, 0)
    for row in rows:
        for code in warning_codes(row, census_date):
            counts[code] += 1
    return [
        {"code": code, "message": WARNINGS[code], "count": n} for code, n in counts.items() if n
    ]


# Facts that hold between one authority's tables, which an attacker of a national release may
# assume (each table is selected as (table key, row key or None for every row, column key or None
# for every column)). "<=" facts hold as inequalities because some people are left out of the
# left-hand table (a hospital stay without its admission date, a placement without its host area).
Selection = tuple[str, str | None, str | None]
TABLE_LINKS: list[tuple[Selection, str, Selection]] = [
    (("urgent_reason", None, None), "=", ("category", Category.URGENT, "people")),
    (("delayed_discharge", None, None), "=", ("urgent_reason", UrgentReason.IN_HOSPITAL, "people")),
    *[(("category_by_sex", c, None), "=", ("category", c, "people")) for c in Category.values],
    *[(("category_by_age", c, None), "=", ("category", c, "people")) for c in Category.values],
    (("hospital_stay", None, None), "<=", ("urgent_reason", UrgentReason.IN_HOSPITAL, "people")),
    (("delays", None, None), "=", ("delayed_discharge", "delayed", "people")),
    (
        ("out_of_area", None, "appropriate"),
        "<=",
        ("category", Category.APPROPRIATE_OUT_OF_AREA, "people"),
    ),
    (
        ("out_of_area", None, "inappropriate"),
        "<=",
        ("urgent_reason", UrgentReason.INAPPROPRIATE_OUT_OF_AREA, "people"),
    ),
]


def selected_cells(table: dict[str, Any], row: str | None, column: str | None) -> list[int]:
    """Positions (row-major, as in a by-authority table) of the selected cells of a table."""
    width = len(table["columns"])
    return [
        i * width + j
        for i, (row_key, _) in enumerate(table["rows"])
        for j, (column_key, _) in enumerate(table["columns"])
        if (row is None or row_key == row) and (column is None or column_key == column)
    ]
