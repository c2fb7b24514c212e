"""Building register files in code for the import tests (no binary fixtures)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

from openpyxl import Workbook

from registers.imports import COLUMNS, ImportRefused, stage_import
from registers.validation import make_chi

_serials = itertools.count(500)
_chis: dict[tuple[str, dt.date, str], str] = {}


def chi_for(born: dt.date, sex: str, reference: str = "") -> str:
    """A valid CHI number, the same each time for the same reference."""
    key = (reference, born, sex)
    if reference and key in _chis:
        return _chis[key]
    while True:
        chi = make_chi(born, sex, next(_serials))
        if chi:
            _chis[key] = chi
            return chi


def good_row(reference: str = "IMP-1", **overrides: str) -> dict[str, str]:
    """An enhanced-monitoring person in Nithsdale, every column present."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        local_reference=reference,
        given_name="Morag",
        family_name="Fraser",
        date_of_birth="1990-05-17",
        sex="female",
        chi_number=chi_for(dt.date(1990, 5, 17), "female", reference),
        locality="Nithsdale",
        referral_source="health",
        date_added="2025-01-10",
        category="enhanced_monitoring",
        risk_rating="amber",
        risk_factors="housing;carer_breakdown",
        guardianship_or_poa="no",
        info_sharing_recorded="no",
    )
    row.update(overrides)
    return row


def hospital_row(reference: str = "IMP-H", **overrides: str) -> dict[str, str]:
    return (
        good_row(reference)
        | {
            "chi_number": "",
            "category": "urgent",
            "urgent_reason": "in_hospital",
            "risk_rating": "",
            "risk_factors": "",
            "hospital_name": "Leverndale",
            "hospital_type": "ld_inpatient",
            "hospital_in_area": "no",
            "admission_date": "02/11/2024",
            "legal_status": "informal",
            "ready_for_discharge_date": "2025-02-01",
            "delay_reason": "accommodation",
        }
        | overrides
    )


def out_of_area_row(reference: str = "IMP-O", **overrides: str) -> dict[str, str]:
    return (
        good_row(reference)
        | {
            "chi_number": "",
            "given_name": "Iain",
            "sex": "male",
            "category": "appropriate_out_of_area",
            "risk_rating": "green",
            "risk_factors": "",
            "host_area": "england",
            "placement_type": "supported_living",
            "placement_start_date": "2023-06-01",
        }
        | overrides
    )


def csv_bytes(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict[str, str]], *, formula_in: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    if formula_in:
        sheet[formula_in] = "=1+1"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stage(actor, authority, name: str, content: bytes):
    return stage_import(actor, authority, filename=name, file=io.BytesIO(content))


def refusal(actor, authority, name: str, content: bytes) -> str:
    try:
        stage(actor, authority, name, content)
    except ImportRefused as exc:
        return str(exc)
    raise AssertionError("the file was not refused")
