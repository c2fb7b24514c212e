"""The subject access export: a person's full record and history as a PDF, for the lead."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from registers.models import AuditEvent
from tests.factories import long_gone

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_lead_downloads_a_persons_full_record_and_history_as_a_pdf(client, lead, nithsdale):
    person = long_gone(lead, nithsdale, left=dt.date.today(), ref="SAR-1")
    client.force_login(lead)
    client.get(f"/register/people/{person.pk}/")  # a view, logged in the audit trail

    page = client.get(f"/register/people/{person.pk}/subject-access/")
    assert "Download the subject access PDF" in page.content.decode()
    response = client.post(f"/register/people/{person.pk}/subject-access/")

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="dsr-subject-access-SAR-1-'
    )
    text = " ".join(pdf_text(response.content).split())
    for expected in (
        "Record held about Catriona MacLeod",
        "Ewan Bell",
        "Mother Janet MacLeod can no longer care at home",
        "Catriona wants to stay in Dumfries",
        "Settled in the community",
        "Viewed a person's record",
        "Produced a subject access report",
        lead.email,
    ):
        assert expected in text, expected
    assert "person.viewed" not in text and "person.subject_access_export" not in text
    event = AuditEvent.objects.get(action="person.subject_access_export")
    assert (event.actor, event.object_id) == (lead, str(person.pk))


def test_the_person_page_offers_the_export_to_the_lead_only(client, lead, practitioner, person):
    client.force_login(lead)
    assert "Subject access export" in client.get(f"/register/people/{person.pk}/").content.decode()
    client.force_login(practitioner)
    assert (
        "Subject access export" not in client.get(f"/register/people/{person.pk}/").content.decode()
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("practitioner", 403), ("viewer", 403), ("other_lead", 404), ("analyst", 404)],
)
def test_no_one_but_the_lead_may_export_a_persons_record(client, request, person, role, status):
    client.force_login(request.getfixturevalue(role))
    url = f"/register/people/{person.pk}/subject-access/"
    assert client.get(url).status_code == status
    assert client.post(url).status_code == status
    assert not AuditEvent.objects.filter(action="person.subject_access_export").exists()
