"""The register export for people to read (labels, dates in words) beside the coded one."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from registers import imports
from registers.models import AuditEvent
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(nithsdale):
    return [
        PersonFactory(
            locality=nithsdale,
            in_hospital=True,
            local_reference="A-1",
            ready_for_discharge_date=dt.date(2024, 6, 3),
            delay_reason="adults_with_incapacity",
        ),
        PersonFactory(
            locality=nithsdale,
            at_risk=True,
            local_reference="A-2",
            risk_factors=["carer_breakdown", "recent_crisis"],
        ),
        PersonFactory(locality=nithsdale, inappropriate_out_of_area=True, local_reference="A-3"),
        PersonFactory(
            locality=nithsdale,
            appropriate_out_of_area=True,
            local_reference="A-4",
            host_area="S37000034",
        ),
    ]


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_readable_export_shows_labels_and_dates_in_words(lead, authority, people):
    rows = _csv(imports.export_register(lead, authority, file_format="csv", readable=True))
    by_reference = {row["Local reference"]: row for row in rows}
    assert by_reference["A-1"]["Category"] == "Urgent"
    assert by_reference["A-1"]["Urgent reason"] == "In hospital"
    assert by_reference["A-1"]["Hospital type"] == "Learning disability inpatient"
    assert by_reference["A-1"]["Legal status"] == "Informal"
    assert by_reference["A-1"]["Delay reason"] == "Adults with incapacity"
    assert by_reference["A-1"]["Admission date"] == "1 February 2024"
    assert by_reference["A-1"]["Hospital within the IA"] == "Yes"
    assert by_reference["A-2"]["Risk factors"] == "Carer breakdown, Recent crisis"
    assert by_reference["A-3"]["Host area"] == "England"
    assert by_reference["A-3"]["Placement type"] == "Care home"
    assert by_reference["A-4"]["Host area"] == "Glasgow City"
    assert by_reference["A-4"]["Category"] == "Appropriate out of area"
    assert by_reference["A-1"]["Date of birth"] == "17 May 1990"
    assert by_reference["A-1"]["Sex"] == "Female"
    assert by_reference["A-1"]["Referral source"] == "Social work"


def test_the_coded_export_keeps_the_import_layout_and_codes(lead, authority, people):
    content = imports.export_register(lead, authority, file_format="csv")
    assert content.decode("utf-8-sig").splitlines()[0] == ",".join(imports.COLUMNS)
    rows = {row["local_reference"]: row for row in _csv(content)}
    assert rows["A-2"]["risk_factors"] == "carer_breakdown;recent_crisis"
    assert rows["A-1"]["admission_date"] == "2024-02-01"
    assert rows["A-4"]["host_area"] == "S37000034"


def test_the_readable_export_as_a_spreadsheet_has_the_same_rows(lead, authority, people):
    book = load_workbook(
        io.BytesIO(imports.export_register(lead, authority, file_format="xlsx", readable=True))
    )
    sheet = list(book["Register"].iter_rows(values_only=True))
    assert sheet[0][0] == "Local reference"
    assert len(sheet) == 1 + len(people)
    assert "Carer breakdown, Recent crisis" in {v for row in sheet for v in row}


def test_the_page_offers_both_exports_and_each_is_audited(client, lead, people):
    client.force_login(lead)
    page = client.get("/register/files/").content.decode()
    assert "/register/files/export-readable.xlsx" in page
    assert "/register/files/export.csv" in page
    response = client.get("/register/files/export-readable.csv")
    assert response.status_code == 200
    assert "-readable.csv" in response["Content-Disposition"]
    assert "Urgent reason" in response.content.decode("utf-8-sig")
    event = AuditEvent.objects.get(action="register.exported")
    assert event.changes == {"format": "csv", "people": 4, "layout": "readable"}


@pytest.mark.parametrize("role", ["practitioner", "viewer"])
def test_only_the_lead_may_export_to_read(client, request, role, nithsdale):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/register/files/export-readable.csv").status_code == 403
