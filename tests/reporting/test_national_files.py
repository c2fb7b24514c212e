"""National files: Scotland totals and per-authority tables with disclosure control, in CSV,
XLSX and PDF, and the authority's own files and the person profile as PDFs."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting import services
from reporting.models import AuthorityReturn, JobKind
from tests.factories import AuthorityFactory, PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_submitted_returns(known_register, authority, lead, leith, other_lead):
    PersonFactory.create_batch(7, locality=leith)
    PersonFactory.create_batch(6, locality=leith, at_risk=True, sex="male")
    PersonFactory.create_batch(3, locality=leith, in_hospital=True)
    returns = [build_return(authority), build_return(leith.authority)]
    services.submit_return(lead, returns[0])
    services.submit_return(other_lead, returns[1])
    return returns


def output(job):
    assert job.status == "done", job.error
    with job.output.open("rb") as f:
        return f.read()


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def national(kind, analyst, census):
    return output(run(kind, census_date=census, user=analyst))


def test_national_csv_publishes_nothing_below_the_threshold_below_scotland_level(
    two_submitted_returns, analyst, census
):
    rows = list(
        csv.DictReader(io.StringIO(national("national_csv", analyst, census).decode("utf-8-sig")))
    )
    below_scotland = [
        r
        for r in rows
        if r["table"].startswith("By authority") and not r["row"].startswith("Scotland")
    ]
    assert below_scotland
    values = {r["value"] for r in below_scotland}
    assert not values & {"1", "2", "3", "4"}
    assert "c" in values
    scotland_urgent = next(
        r
        for r in rows
        if r["table"] == "By authority: People on the register by category"
        and r["row"] == "Scotland"
        and r["column"] == "Urgent"
    )
    assert scotland_urgent["value"] == "14"  # 5 in Dumfries and Galloway + 9 in Edinburgh


def test_national_xlsx_has_a_sheet_per_table_and_notes_naming_suppressed_cells(
    two_submitted_returns, analyst, census
):
    book = load_workbook(io.BytesIO(national("national_xlsx", analyst, census)))
    assert "Notes" in book.sheetnames
    assert len(book.sheetnames) == 1 + 9 + 9 + 1  # returns included, Scotland, by authority, notes
    notes = "\n".join(str(r[0].value) for r in book["Notes"].iter_rows() if r[0].value)
    assert "Dumfries and Galloway - Appropriate out of area: primary (small count)" in notes
    assert "secondary" in notes
    for ws in book.worksheets:
        if not ws["A1"].value.startswith("By authority"):
            continue
        for row in ws.iter_rows(min_row=5, values_only=True):
            if row[1] == "Scotland":
                continue
            assert not {v for v in row[2:] if isinstance(v, int)} & {1, 2, 3, 4}, ws.title


def test_national_pdf_shows_suppressed_cells_as_c_and_no_personal_marking(
    two_submitted_returns, analyst, census
):
    text = pdf_text(national("national_pdf", analyst, census))
    assert "25 September 2025" in text
    assert "Scotland" in text
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("S37000006 Dumfries and Galloway") and ln.count(" c") >= 2
    )
    assert not {"1", "2", "3", "4"} & set(line.split()[4:])
    assert "OFFICIAL-SENSITIVE" not in text
    assert "generated" in text.lower()


def test_national_files_need_two_returns_so_no_authority_is_exposed(
    known_register, authority, lead, analyst, census
):
    services.submit_return(lead, build_return(authority))
    job = run(JobKind.NATIONAL_CSV, census_date=census, user=analyst)
    assert job.status == "failed"
    assert "At least two" in job.error
    assert not job.output


def test_draft_returns_are_left_out_of_the_national_return(two_submitted_returns, analyst, census):
    aberdeen = AuthorityFactory(code="S37000001")
    AuthorityReturn.objects.create(
        authority=aberdeen, census_date=census, tables=two_submitted_returns[0].tables
    )
    rows = national("national_csv", analyst, census).decode("utf-8-sig")
    assert rows.count("Returns included,") == 2


def test_authority_summary_pdf_has_figures_chart_and_marking(known_register, authority, census):
    build_return(authority, dt.date(2025, 6, 26))
    build_return(authority)
    job = run(JobKind.AUTHORITY_PDF, authority=authority, census_date=census)
    data = output(job)
    text = pdf_text(data)
    assert "OFFICIAL-SENSITIVE" in text
    assert "Dumfries and Galloway" in text and "25 September 2025" in text
    assert "Urgent 5" in text
    assert b"<svg" not in data and "Jun 2025" in text  # the SVG chart is drawn, axis labelled
    assert job.filename == "dsr-summary-S37000006-2025-09-25.pdf"


def test_person_profile_pdf_is_marked_official_sensitive(person, lead):
    job = run(
        JobKind.PERSON_PROFILE,
        authority=person.authority,
        census_date=None,
        person=person,
        user=lead,
    )
    text = pdf_text(output(job))
    assert "OFFICIAL-SENSITIVE" in text
    assert person.local_reference in text and "Dumfries and Galloway" in text
    assert "generated" in text.lower()
