"""The quarterly summary PDF's trend chart shows every quarter the authority has a return for
(up to two years), oldest first, in the PDF itself."""

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from reporting.models import JobKind
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db

QUARTERS = [dt.date(2025, 3, 27), dt.date(2025, 6, 26), dt.date(2025, 9, 25)]


def test_the_pdf_trend_chart_has_a_bar_for_every_quarter(known_register, authority, lead):
    for census_date in QUARTERS:
        build_return(authority, census_date)
    job = run(JobKind.AUTHORITY_PDF, authority=authority, census_date=QUARTERS[-1], user=lead)
    assert job.status == "done", job.error
    with job.output.open("rb") as pdf:
        text = PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
    assert re.findall(r"[A-Z][a-z]{2} \d{4}", text)[:3] == ["Mar 2025", "Jun 2025", "Sep 2025"]


def test_a_later_quarter_is_not_in_an_earlier_quarters_chart(known_register, authority, lead):
    for census_date in QUARTERS:
        build_return(authority, census_date)
    job = run(JobKind.AUTHORITY_PDF, authority=authority, census_date=QUARTERS[1], user=lead)
    with job.output.open("rb") as pdf:
        text = PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
    labels = re.findall(r"[A-Z][a-z]{2} \d{4}", text)
    assert "Mar 2025" in labels and "Jun 2025" in labels
    assert "Sep 2025" not in labels
