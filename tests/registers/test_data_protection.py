"""Retention (pseudonymising people who left long ago) and the subject access export."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from pypdf import PdfReader

from registers import access, data_protection, services
from registers.models import AuditEvent, Person, Review, StatusChange, Transfer
from registers.tasks import pseudonymise_leavers
from reporting.snapshots import reconstruct
from tests.factories import PersonFactory
from tests.registers.importing import chi_for

pytestmark = pytest.mark.django_db

BORN = dt.date(1980, 3, 21)
CENSUS_2016 = dt.date(2016, 9, 29)


def long_gone(lead, nithsdale, *, left: dt.date = dt.date(2017, 6, 30), ref: str = "OLD-1"):
    """Someone added in 2015, reviewed and re-rated in 2016, who left on `left`."""
    person = services.add_person(
        lead,
        locality=nithsdale,
        reason="Referred by Dr Fiona Watt after a crisis at home",
        date_added=dt.date(2015, 3, 2),
        given_name="Catriona",
        family_name="MacLeod",
        preferred_name="Cat",
        date_of_birth=BORN,
        sex="female",
        chi_number=chi_for(BORN, "female", ref),
        local_reference=ref,
        key_worker_name="Ewan Bell",
        key_worker_contact="01387 000000",
        referral_source="health",
        category="enhanced_monitoring",
        risk_rating="amber",
    )
    person = services.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Mother Janet MacLeod can no longer care at home",
        effective_date=dt.date(2016, 2, 1),
    )
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=dt.date(2016, 3, 1),
        attendees="Catriona, Janet MacLeod, Ewan Bell",
        outcome="Catriona wants to stay in Dumfries",
        actions="Ewan to call the housing team",
    )
    person.refresh_from_db()
    # An earlier correction of her name, as the history records it.
    StatusChange.objects.create(
        authority_id=person.authority_id,
        person=person,
        kind="details",
        effective_date=dt.date(2016, 3, 2),
        new_category=person.category,
        changes={"family_name": ["McLeod", "MacLeod"], "risk_rating": ["amber", "red"]},
        state=person.register_state(),
        version=person.version,
    )
    return services.remove_from_register(
        lead, person, version=person.version, date_left=left, leaving_reason="settled_in_community"
    )


def census_rows(authority):
    rows = reconstruct(authority.pk, CENSUS_2016).rows
    return [
        {k: v for k, v in r.items() if k not in ("local_reference", "date_of_birth")} for r in rows
    ]


def test_people_who_left_more_than_the_retention_period_ago_are_pseudonymised(
    lead, authority, nithsdale, other_authority
):
    person = long_gone(lead, nithsdale)
    Transfer.objects.create(
        authority=authority,
        to_authority=other_authority,
        person=person,
        status="declined",
        decided_at=dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
        reason="Moving near her sister Isla",
        decision_note="No placement for Catriona",
        summary={"name": "Catriona MacLeod", "chi_number": person.chi_number, "sex": "Female"},
    )
    states = list(
        StatusChange.objects.filter(person=person).order_by("id").values_list("state", flat=True)
    )

    assert pseudonymise_leavers() == 1  # the Celery beat task

    person.refresh_from_db()
    assert person.given_name == "Pseudonymised"
    assert person.family_name == f"person {person.pk}"
    assert (person.preferred_name, person.chi_number) == ("", None)
    assert person.local_reference == f"PSEUDONYMISED-{person.pk}"
    assert person.date_of_birth == dt.date(1980, 3, 1)
    assert (person.key_worker_name, person.key_worker_contact) == ("", "")
    assert person.pseudonymised_at is not None
    # What the census reads is kept.
    assert (person.sex, person.category, person.date_left) == (
        "female",
        "urgent",
        dt.date(2017, 6, 30),
    )
    history = list(StatusChange.objects.filter(person=person).order_by("id"))
    assert [c.state for c in history] == states
    assert {c.reason for c in history} <= {"[removed]", ""}
    details = next(c for c in history if c.kind == "details")
    assert details.changes == {
        "family_name": ["[removed]", "[removed]"],
        "risk_rating": ["amber", "red"],
    }
    review = Review.objects.get(person=person)
    assert (review.attendees, review.outcome, review.actions) == ("[removed]", "[removed]", "")
    transfer = Transfer.objects.get(person=person)
    assert transfer.summary == {"name": "[removed]", "chi_number": "[removed]", "sex": "Female"}
    assert (transfer.reason, transfer.decision_note) == ("[removed]", "[removed]")
    event = AuditEvent.objects.get(action="person.pseudonymised")
    assert (event.object_id, event.actor_label) == (str(person.pk), "system")
    assert AuditEvent.objects.filter(
        action="system_scope", changes__reason__startswith="retention:"
    ).exists()


def test_pseudonymisation_leaves_past_census_figures_as_they_were(lead, authority, nithsdale):
    long_gone(lead, nithsdale)
    before = census_rows(authority)
    assert len(before) == 1 and before[0]["age"] == 36
    data_protection.pseudonymise_leavers()
    assert census_rows(authority) == before


def test_pseudonymisation_runs_once_per_person(lead, nithsdale):
    person = long_gone(lead, nithsdale)
    data_protection.pseudonymise_leavers()
    person.refresh_from_db()
    assert data_protection.pseudonymise_leavers() == []
    assert Person.objects.get(pk=person.pk).version == person.version
    assert AuditEvent.objects.filter(action="person.pseudonymised").count() == 1


def test_people_within_the_retention_period_and_on_the_register_are_untouched(
    lead, nithsdale, settings
):
    today = dt.date.today()
    recent = long_gone(lead, nithsdale, left=today.replace(year=today.year - 6), ref="RECENT")
    staying = PersonFactory(locality=nithsdale, date_added=dt.date(2010, 1, 1))
    assert data_protection.pseudonymise_leavers() == []
    settings.DSR_RETENTION_YEARS = 5
    assert data_protection.pseudonymise_leavers() == [recent.pk]
    staying.refresh_from_db()
    assert staying.pseudonymised_at is None


def test_the_retention_period_is_a_setting_with_a_scheduled_task():
    assert settings.DSR_RETENTION_YEARS == 7
    schedule = settings.CELERY_BEAT_SCHEDULE["retention-pseudonymise-leavers"]
    assert schedule["task"] == "registers.tasks.pseudonymise_leavers"
    assert data_protection.retention_cutoff(dt.date(2024, 2, 29)) == dt.date(2017, 2, 28)


def test_the_management_command_counts_and_pseudonymises(lead, nithsdale):
    long_gone(lead, nithsdale)
    out = io.StringIO()
    call_command("pseudonymise_leavers", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 people left before")
    assert Person.objects.filter(pseudonymised_at__isnull=True).count() == 1
    call_command("pseudonymise_leavers", stdout=out)
    assert "Pseudonymised 1 people" in out.getvalue()
    assert Person.objects.filter(pseudonymised_at__isnull=True).count() == 0


# The history stays append-only for everything else ------------------------------------------


def _try(sql: str, params: list, *, pseudonymise: bool) -> None:
    """As the system role (which retention runs as), or else as the runtime role."""
    role = "dsr_system" if pseudonymise else "dsr_app"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('role', %s, true)", [role])
        cursor.execute(sql, params)


def test_an_ordinary_update_of_history_is_still_refused(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    with pytest.raises(DatabaseError, match="permission denied"):
        _try(
            "UPDATE registers_statuschange SET reason = 'x' WHERE id = %s",
            [change.pk],
            pseudonymise=False,
        )


def test_the_system_role_may_change_only_the_free_text_of_history(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    for column, value in (
        ("new_category", "'appropriate_out_of_area'"),
        ("state", "'{}'::jsonb"),
        ("effective_date", "'2010-01-01'"),
    ):
        with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
            _try(
                f"UPDATE registers_statuschange SET {column} = {value} WHERE id = %s",
                [change.pk],
                pseudonymise=True,
            )
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
        _try("DELETE FROM registers_statuschange WHERE id = %s", [change.pk], pseudonymise=True)
    _try(
        "UPDATE registers_statuschange SET reason = '[removed]' WHERE id = %s",
        [change.pk],
        pseudonymise=True,
    )
    change.refresh_from_db()
    assert change.reason == "[removed]"


def test_the_old_pseudonymisation_setting_opens_nothing_to_the_runtime_role(lead, nithsdale):
    change = StatusChange.objects.filter(person=long_gone(lead, nithsdale)).first()
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        access.using_scope(access.scope_for(lead)),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('dsr.scope', 'system', true)")
        cursor.execute("SELECT set_config('dsr.pseudonymise', 'on', true)")
        cursor.execute("UPDATE registers_statuschange SET reason = '' WHERE id = %s", [change.pk])


# Subject access ---------------------------------------------------------------------------------


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
        "person.viewed",
        "person.subject_access_export",
        lead.email,
    ):
        assert expected in text, expected
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
