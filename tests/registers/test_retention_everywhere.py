"""Retention reaches everything: a person seeded through every path leaves no identifying value
in any text or JSON column of any table, or in any stored file, once they are pseudonymised."""

import datetime as dt
import io
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from registers import access, data_protection, imports, services
from registers.audit import record_event
from registers.models import AuditEvent, Person, StatusChange
from reporting.models import JobKind, ReportJob
from reporting.services import run_job
from tests.factories import PersonFactory
from tests.registers.api.conftest import client_with
from tests.registers.importing import chi_for, csv_bytes, good_row, stage

pytestmark = pytest.mark.django_db

BORN = dt.date(1979, 11, 23)
CHI = chi_for(BORN, "female", "ZQX-1001")
# Every form of the identity the person has had: the imported names and reference, the corrected
# ones, the preferred name, the date of birth as it is written, the CHI number, the key worker.
NEEDLES = [
    "Zephyrine",
    "Zephy",
    "Quilfether",
    "Quillfeather",
    "ZQX-1001",
    "ZQX-1002",
    CHI,
    "1979-11-23",
    "23/11/1979",
    "23 November 1979",
    "Vasquez-Tull",
]
PATTERN = "|".join(re.escape(n) for n in NEEDLES)


def text_and_json_columns():
    """Every text, JSON and array column of every table of the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t"
            " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
            " AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb',"
            " 'ARRAY') ORDER BY 1, 2"
        )
        return cursor.fetchall()


def found_in_database():
    found = []
    with access.using_scope(access.SYSTEM), connection.cursor() as cursor:
        for table, column in text_and_json_columns():
            cursor.execute(
                f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text ~* %s',
                [PATTERN],
            )
            found += [(table, column, value) for (value,) in cursor.fetchall()]
        # Sessions are stored encoded: read them as Django does.
        cursor.execute("SELECT session_data FROM django_session")
        for (data,) in cursor.fetchall():
            decoded = str(SessionStore().decode(data))
            if re.search(PATTERN, decoded, re.IGNORECASE):
                found.append(("django_session", "session_data", decoded))
    return found


def stored_files(path: str = ""):
    """Every file in the service's storage (the database by default), whatever its backend."""
    directories, files = default_storage.listdir(path)
    for name in files:
        yield f"{path}/{name}" if path else name
    for directory in directories:
        yield from stored_files(f"{path}/{directory}" if path else directory)


def found_in_files():
    found = []
    for name in stored_files():
        with default_storage.open(name, "rb") as file:
            data = file.read()
        text = data.decode("latin-1")
        if name.endswith(".pdf"):
            text += "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        if re.search(PATTERN, text + name, re.IGNORECASE):
            found.append(name)
    return found


def seed_through_every_path(client, lead, other_lead, authority, other_authority, nithsdale):
    """Import, API (read by reference, change), pages (person, edit, search by name and CHI),
    edits of names and reference, a status change and a review that name the person, a declined
    transfer, a profile PDF built and downloaded, a subject access PDF, and leaving."""
    row = good_row(
        "ZQX-1001",
        given_name="Zephyrine",
        family_name="Quilfether",
        date_of_birth=BORN.isoformat(),
        chi_number=CHI,
        key_worker_name="Aled Vasquez-Tull",
        key_worker_contact="Vasquez-Tull, 01387 000001",
    )
    imports.apply_import(lead, stage(lead, authority, "register.csv", csv_bytes([row])))
    person = Person.objects.get(local_reference="ZQX-1001")

    from accounts.services import create_api_client

    _, token = create_api_client(lead, authority, name="Care First", scopes=["read", "write"])
    api = client_with(token)
    assert api.get("/api/v1/people/by-reference/ZQX-1001/").status_code == 200
    response = api.patch(
        f"/api/v1/people/{person.pk}/",
        {"preferred_name": "Zephy"},
        format="json",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert response.status_code == 200, response.content

    client.force_login(lead)
    for url in (
        f"/register/people/{person.pk}/",
        f"/register/people/{person.pk}/edit/",
        "/register/?q=Quilfether",
        f"/register/?q={CHI}",
    ):
        assert client.get(url).status_code == 200, url

    person.refresh_from_db()
    person = services.update_person_details(
        lead, person, version=person.version, family_name="Quillfeather", local_reference="ZQX-1002"
    )
    person = services.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Zephyrine Quillfeather's carer Aled Vasquez-Tull has given notice",
    ).person
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=timezone.localdate(),
        attendees="Zephyrine Quillfeather, Aled Vasquez-Tull",
        outcome="Zephy wants to stay in Dumfries",
        actions="Call ZQX-1002's provider",
    )
    person.refresh_from_db()
    transfer = services.request_transfer(
        lead,
        person,
        version=person.version,
        to_authority=other_authority,
        reason="Zephyrine Quillfeather moving near family",
    )
    services.decline_transfer(other_lead, transfer, note="No placement for Zephyrine")

    job = ReportJob.objects.create(
        kind=JobKind.PERSON_PROFILE, authority=authority, person=person, requested_by=lead
    )
    job = run_job(job.pk, authority_id=authority.pk)
    assert job.status == "done", job.error
    assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 200
    assert client.post(f"/register/people/{person.pk}/subject-access/").status_code == 200

    person.refresh_from_db()
    return services.remove_from_register(
        lead,
        person,
        version=person.version,
        date_left=timezone.localdate(),
        leaving_reason="settled_in_community",
    )


def test_a_pseudonymised_person_is_found_nowhere_in_the_database_or_the_files(
    client, lead, other_lead, authority, other_authority, nithsdale, leith
):
    person = seed_through_every_path(
        client, lead, other_lead, authority, other_authority, nithsdale
    )
    assert len(found_in_database()) > 20  # the seeding really stored the identity widely
    assert found_in_files()
    events = AuditEvent.objects.filter(object_type="person", object_id=str(person.pk))
    who_and_when = list(events.order_by("id").values_list("id", "actor_id", "action", "at"))
    history = StatusChange.objects.filter(person=person).count()

    later = timezone.localdate() + dt.timedelta(days=366 * 8)
    assert data_protection.pseudonymise_leavers(today=later) == [person.pk]

    left = found_in_database()
    assert left == [], "\n".join(map(str, left))
    assert found_in_files() == []
    # Who did what and when stays: every audit row and history entry is still there.
    kept = list(
        events.exclude(action="person.pseudonymised")
        .order_by("id")
        .values_list("id", "actor_id", "action", "at")
    )
    assert kept == who_and_when
    assert StatusChange.objects.filter(person=person).count() == history
    assert AuditEvent.objects.filter(action="report.file_deleted_by_retention").count() == 1


def test_a_short_name_is_matched_as_a_whole_word_only(lead, nithsdale):
    """A person called "Al" in hospital: "hospital" keeps its letters, the name goes."""
    person = PersonFactory(
        locality=nithsdale,
        in_hospital=True,
        given_name="Al",
        date_added=dt.date(2008, 1, 1),
        admission_date=dt.date(2008, 6, 1),
        date_left=dt.date(2010, 1, 1),
        leaving_reason="died",
    )
    StatusChange.objects.create(
        authority_id=person.authority_id,
        person=person,
        kind="details",
        effective_date=dt.date(2009, 1, 1),
        new_category=person.category,
        changes={"urgent_reason": ["", "in_hospital"], "note": "Al moved to hospital"},
        state=person.register_state(),
        version=person.version,
    )
    record_event(lead, "person.details", obj=person, changes={"hospital_name": "Leverndale"})

    assert data_protection.pseudonymise_leavers() == [person.pk]

    change = StatusChange.objects.get(person=person)
    assert change.state["urgent_reason"] == "in_hospital"
    assert change.changes == {"urgent_reason": ["", "in_hospital"], "note": "[removed]"}
    event = AuditEvent.objects.get(action="person.details")
    assert event.changes == {"hospital_name": "Leverndale"}
