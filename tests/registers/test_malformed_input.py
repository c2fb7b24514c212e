"""A corpus of malformed and hostile input through every front door: the register file import, the
API and the browser forms. Each one gets a clear 4xx answer or a clear error on the page, the
register is unchanged, and nothing answers 500."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import create_api_client
from registers.models import AuditEvent, Person, StatusChange
from tests.registers.api.conftest import client_with, new_person
from tests.registers.importing import csv_bytes, good_row, hospital_row, xlsx_bytes
from tests.registers.test_add_person_page import add_person_data
from tests.registers.test_edit_details_page import details_data

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # right-to-left override
ZWSP = "\u200b"  # zero-width space


def register_state() -> tuple[int, int]:
    return Person.objects.count(), StatusChange.objects.count()


# --- Register files ------------------------------------------------------------------------------


def _xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook whose first sheet's XML is replaced."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([good_row()])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            target.writestr(info.filename, data)
    return out.getvalue()


SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData>'
    b"</worksheet>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + SHEET
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "lol">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b'<!ENTITY e "&i;">]>'
    + SHEET
)
MALFORMED_XML = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row'
)


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


FILES = [
    pytest.param("entity.xlsx", lambda: _xlsx_with_sheet(EXTERNAL_ENTITY), "entity", id="xlsx-xxe"),
    pytest.param(
        "laughs.xlsx", lambda: _xlsx_with_sheet(BILLION_LAUGHS), "entity", id="xlsx-billion-laughs"
    ),
    pytest.param(
        "broken.xlsx", lambda: _xlsx_with_sheet(MALFORMED_XML), "damaged", id="xlsx-malformed-xml"
    ),
    pytest.param("empty.xlsx", _zip_without_workbook, "damaged", id="xlsx-zip-without-workbook"),
    pytest.param(
        "trunc.xlsx", lambda: xlsx_bytes([good_row()])[:400], "damaged", id="xlsx-truncated"
    ),
    pytest.param(
        "nul.csv", lambda: csv_bytes([good_row()]) + b"\x00\x00", "not a text file", id="csv-nul"
    ),
    pytest.param(
        "latin1.csv",
        lambda: csv_bytes([good_row(given_name="Mòrag")]).decode().encode("latin-1"),
        "not UTF-8",
        id="csv-not-utf8",
    ),
]


@pytest.mark.parametrize(("name", "make", "message"), FILES)
def test_a_hostile_or_damaged_register_file_is_refused_audited_and_stores_nothing(
    client, lead, nithsdale, name, make, message
):
    before = register_state()
    client.force_login(lead)
    response = client.post("/register/files/", {"file": SimpleUploadedFile(name, make())})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert register_state() == before
    refusal = AuditEvent.objects.get(action="register.import_refused")
    assert message in refusal.changes["reason"]


ROWS = [
    pytest.param({"given_name": f"Mor{RLO}ag"}, "given_name", "invisible", id="row-bidi-name"),
    pytest.param(
        {"local_reference": f"IMP{ZWSP}-1"}, "local_reference", "invisible", id="row-zero-width"
    ),
    pytest.param({"family_name": "Fra\x07ser"}, "family_name", "control", id="row-c0-control"),
    pytest.param({"given_name": "Mo\x85rag"}, "given_name", "control", id="row-c1-control"),
    pytest.param({"date_of_birth": "1850-01-01"}, "date_of_birth", "1900", id="row-born-1850"),
    pytest.param(
        {"date_added": "1985-01-01"}, "date_added", "before the date of birth", id="row-added"
    ),
    pytest.param({"date_of_birth": "2025-02-30"}, "date_of_birth", "date", id="row-no-such-day"),
]


@pytest.mark.parametrize(("overrides", "column", "message"), ROWS)
def test_an_impossible_row_is_reported_by_column_and_nothing_is_stored(
    client, lead, nithsdale, overrides, column, message
):
    before = register_state()
    client.force_login(lead)
    upload = SimpleUploadedFile("people.csv", csv_bytes([good_row(**overrides)]))
    response = client.post("/register/files/", {"file": upload}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert column in body
    assert message in body
    assert register_state() == before


def test_an_admission_before_birth_in_a_file_is_reported(client, lead, nithsdale):
    client.force_login(lead)
    upload = SimpleUploadedFile(
        "people.csv", csv_bytes([hospital_row(admission_date="1989-01-01")])
    )
    body = client.post("/register/files/", {"file": upload}, follow=True).content.decode()
    assert "The admission date cannot be before the date of birth." in body
    assert not Person.objects.exists()


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture
def cms(authority, lead, settings):
    settings.DSR_API_RATE = "10000/min"
    _, token = create_api_client(lead, authority, name="Care First", scopes=["read", "write"])
    return client_with(token)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _post(api, body, content_type="application/json", path="/api/v1/people/"):
    return api.generic("POST", path, body, content_type=content_type)


API_BODIES = [
    pytest.param(lambda loc: "[" * 5000 + "]" * 5000, "levels deep", id="api-nested-5000"),
    pytest.param(
        lambda loc: json.dumps(new_person(loc) | {"x": json.loads("[" * 22 + "]" * 22)}),
        "levels deep",
        id="api-nested-22",
    ),
    pytest.param(lambda loc: '{"given_name": "Morag",', "JSON parse error", id="api-truncated"),
    pytest.param(lambda loc: b"\xff\xfe{}", "not valid utf-8", id="api-not-utf8"),
    pytest.param(lambda loc: '{"a": NaN}', "JSON parse error", id="api-nan"),
    pytest.param(
        lambda loc: json.dumps(new_person(loc, date_of_birth="1899-12-31")),
        "1900",
        id="api-born-1899",
    ),
    pytest.param(
        lambda loc: json.dumps(new_person(loc, given_name=f"{RLO}gaorM")),
        "invisible",
        id="api-bidi-name",
    ),
    pytest.param(
        lambda loc: json.dumps(new_person(loc, local_reference=f"CMS{ZWSP}1")),
        "invisible",
        id="api-zero-width-reference",
    ),
    pytest.param(
        lambda loc: json.dumps(new_person(loc, family_name="Camp\x00bell")),
        "Null characters",
        id="api-nul-in-name",
    ),
    pytest.param(
        lambda loc: json.dumps(new_person(loc) | {"locality": 10**30}),
        "locality",
        id="api-huge-id",
    ),
    pytest.param(
        lambda loc: json.dumps(new_person(loc, date_of_birth="0001-01-01")),
        "1900",
        id="api-year-one",
    ),
]


@pytest.mark.parametrize(("make", "message"), API_BODIES)
def test_a_malformed_api_body_is_a_problem_400_and_stores_nothing(cms, nithsdale, make, message):
    before = register_state()
    problem = _problem(_post(cms, make(nithsdale)), 400)
    assert message.lower() in json.dumps(problem, ensure_ascii=False).lower()
    assert register_state() == before


def test_an_api_admission_before_birth_is_refused(cms, nithsdale):
    body = new_person(
        nithsdale,
        urgent_reason="in_hospital",
        risk_rating=None,
        hospital_name="Leverndale",
        hospital_type="ld_inpatient",
        hospital_in_area=False,
        admission_date="1980-01-01",
        legal_status="informal",
    )
    problem = _problem(_post(cms, json.dumps(body)), 400)
    assert problem["errors"]["admission_date"] == [
        "The admission date cannot be before the date of birth."
    ]
    assert not Person.objects.exists()


def test_an_oversized_api_body_is_a_problem_413(cms, nithsdale, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps(new_person(nithsdale, reason="x" * 20_000))
    problem = _problem(_post(cms, body), 413)
    assert problem["type"] == "urn:dsr:problem:payload-too-large"
    assert "10000 bytes" in problem["detail"]
    assert not Person.objects.exists()


def test_an_oversized_bulk_body_is_a_problem_413(cms, nithsdale, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    items = [new_person(nithsdale, reference=f"CMS-{i}") for i in range(40)]
    _problem(_post(cms, json.dumps({"people": items}), path="/api/v1/people/bulk/"), 413)
    assert not Person.objects.exists()


def test_an_unauthenticated_oversized_body_is_also_a_problem_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/v1/people/", "x" * 5000, content_type="application/json")
    _problem(response, 413)


# --- Forms ---------------------------------------------------------------------------------------


FORMS = [
    pytest.param({"date_of_birth": "01/01/1899"}, "1900", id="form-born-1899"),
    pytest.param({"given_name": f"Mor{RLO}ag"}, "invisible", id="form-bidi-name"),
    pytest.param({"local_reference": f"NEW{ZWSP}-1"}, "invisible", id="form-zero-width-ref"),
    pytest.param({"family_name": "Fra\x00ser"}, "Null characters", id="form-nul"),
    pytest.param({"given_name": "Mo\nrag"}, "line breaks", id="form-line-break-in-name"),
    pytest.param({"locality": "99999999999999999999999"}, "Select a valid choice", id="form-huge"),
    pytest.param({"date_of_birth": "31/02/1990"}, "as a real date", id="form-no-such-day"),
    pytest.param(
        {
            "status": "urgent:in_hospital",
            "risk_rating": "",
            "hospital_name": "Midpark",
            "hospital_type": "mental_health_inpatient",
            "hospital_in_area": "yes",
            "admission_date": "01/02/1980",
            "legal_status": "informal",
        },
        "The admission date cannot be before the date of birth.",
        id="form-admitted-before-birth",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), FORMS)
def test_an_impossible_add_person_form_shows_the_error_and_stores_nothing(
    client, lead, nithsdale, overrides, message
):
    before = register_state()
    client.force_login(lead)
    response = client.post("/register/add/", add_person_data(nithsdale, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert register_state() == before


def test_an_edit_with_an_invisible_character_in_the_reference_changes_nothing(
    client, practitioner, person
):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/edit/",
        details_data(person, local_reference=f"{person.local_reference}{ZWSP}"),
    )
    assert response.status_code == 200
    assert "invisible" in response.content.decode()
    person.refresh_from_db()
    assert person.version == 1
