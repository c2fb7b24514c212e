"""Erasing an entry added in error: the lead only, within the window, with a reason and a
confirmation; the entry and everything about it go, the audit trail keeps that it was erased."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.http import Http404
from django.utils import timezone

from registers import access, data_protection, services
from registers.models import AuditEvent, Person, Review, StatusChange, Transfer
from reporting import services as reporting
from reporting.models import AuthorityReturn, CensusSnapshot, JobKind, ReportJob, SnapshotRow
from tests.registers.importing import chi_for
from tests.reporting.conftest import (
    CENSUS,
    build_return,
    known_register,  # noqa: F401 (a fixture)
    run,
)

pytestmark = pytest.mark.django_db

BORN = dt.date(1984, 7, 9)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mistaken(lead, nithsdale):
    """An entry added with someone else's CHI, then changed, reviewed and profiled."""
    person = services.add_person(
        lead,
        locality=nithsdale,
        reason="Referred by Dr Watt for Ishbel Drummond",
        date_added=dt.date(2025, 6, 2),
        given_name="Ishbel",
        family_name="Drummond",
        date_of_birth=BORN,
        sex="female",
        chi_number=chi_for(BORN, "female", "ERR-1"),
        local_reference="ERR-1",
        key_worker_name="Callum Rennie",
        referral_source="health",
        category="enhanced_monitoring",
        risk_rating="amber",
    )
    person = services.update_person_details(
        lead, person, version=person.version, preferred_name="Ish"
    )
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=timezone.localdate(),
        attendees="Ishbel Drummond",
        outcome="Ishbel is settled",
    )
    person.refresh_from_db()
    return person


def identity_left_in_audit():
    texts = [str(c) for c in AuditEvent.objects.values_list("changes", flat=True)]
    return [t for t in texts if any(v in t for v in ("Ish", "Drummond", "ERR-1", "1984-07-09"))]


def test_the_lead_erases_the_entry_its_history_reviews_and_files(mistaken, lead, authority):
    job = run(JobKind.PERSON_PROFILE, authority=authority, census_date=None, person=mistaken)
    path = job.output.name
    assert default_storage.exists(path) and identity_left_in_audit()

    erased = data_protection.erase_entry(
        lead, mistaken, version=mistaken.version, reason="Wrong person: another person's CHI"
    )

    assert erased == 3  # added, details, review
    assert not Person.objects.filter(pk=mistaken.pk).exists()
    assert not StatusChange.objects.filter(person_id=mistaken.pk).exists()
    assert not Review.objects.filter(person_id=mistaken.pk).exists()
    assert not ReportJob.objects.filter(person_id=mistaken.pk).exists()
    assert not default_storage.exists(path)
    assert identity_left_in_audit() == []


def test_one_audit_row_says_an_entry_was_erased_by_whom_and_why_without_the_identity(
    mistaken, lead, authority
):
    before = AuditEvent.objects.filter(object_type="person", object_id=str(mistaken.pk)).count()
    data_protection.erase_entry(
        lead, mistaken, version=mistaken.version, reason="Duplicate of Ishbel Drummond, ERR-0"
    )
    event = AuditEvent.objects.get(action="person.erased")
    assert (event.actor_id, event.authority_id, event.object_id) == (
        lead.pk,
        authority.pk,
        str(mistaken.pk),
    )
    assert event.changes["reason"] == "Duplicate of [removed], ERR-0"
    assert event.changes["history_entries"] == 3
    # The earlier events stay (who did what, when), without the identity.
    after = AuditEvent.objects.filter(object_type="person", object_id=str(mistaken.pk))
    assert after.exclude(action="person.erased").count() == before


def test_a_reason_is_required(mistaken, lead):
    with pytest.raises(ValidationError) as caught:
        data_protection.erase_entry(lead, mistaken, version=mistaken.version, reason="  ")
    assert "reason" in caught.value.message_dict
    assert Person.objects.filter(pk=mistaken.pk).exists()


def test_a_stale_version_erases_nothing(mistaken, lead):
    with pytest.raises(services.StaleVersion):
        data_protection.erase_entry(lead, mistaken, version=mistaken.version - 1, reason="Wrong")
    assert Person.objects.filter(pk=mistaken.pk).exists()


def test_an_entry_older_than_the_window_cannot_be_erased(mistaken, lead, settings):
    settings.DSR_ERASURE_WINDOW_DAYS = 10
    Person.objects.filter(pk=mistaken.pk).update(created_at=timezone.now() - dt.timedelta(days=11))
    with pytest.raises(ValidationError) as caught:
        data_protection.erase_entry(lead, mistaken, version=mistaken.version, reason="Wrong")
    assert caught.value.code == "too_late"
    assert "last 10 days" in caught.value.messages[0]
    assert Person.objects.filter(pk=mistaken.pk).exists()


def test_the_window_is_a_setting_of_thirty_days_by_default(settings):
    from pathlib import Path

    assert settings.DSR_ERASURE_WINDOW_DAYS == 30
    assert "DSR_ERASURE_WINDOW_DAYS=30" in Path(".env.example").read_text()


@pytest.mark.parametrize(
    ("who", "expected"),
    [("practitioner", PermissionDenied), ("viewer", PermissionDenied), ("other_lead", Http404)],
)
def test_only_the_authoritys_lead_may_erase(mistaken, request, who, expected):
    actor = request.getfixturevalue(who)
    with pytest.raises(expected):
        data_protection.erase_entry(actor, mistaken, version=mistaken.version, reason="Wrong")
    assert Person.objects.filter(pk=mistaken.pk).exists()


@pytest.fixture
def counted(known_register, authority, lead):  # noqa: F811 (the fixture imported above)
    """A person counted in the census of 25 September 2025."""
    return known_register[0]


def test_an_entry_counted_in_a_submitted_return_cannot_be_erased(counted, authority, lead):
    reporting.submit_return(lead, build_return(authority))
    with pytest.raises(ValidationError) as caught:
        data_protection.erase_entry(lead, counted, version=counted.version, reason="Wrong")
    assert caught.value.code == "counted_in_return"
    assert "submitted return for 25 September 2025" in caught.value.messages[0]
    # The database function refuses it too, whoever calls it.
    with (
        pytest.raises(DatabaseError, match="submitted return"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT dsr_erase_register_entry(%s)", [counted.pk])
    assert Person.objects.filter(pk=counted.pk).exists()


def test_a_draft_return_that_counted_the_entry_is_rebuilt_without_it(counted, authority, lead):
    before = build_return(authority).tables[0]["cells"]
    data_protection.erase_entry(lead, counted, version=counted.version, reason="Duplicate")
    snapshot = CensusSnapshot.objects.get(authority=authority, census_date=CENSUS)
    assert snapshot.people == 10
    assert not SnapshotRow.objects.filter(person_id=counted.pk).exists()
    after = AuthorityReturn.objects.get(authority=authority, census_date=CENSUS)
    assert after.status == "draft" and after.tables[0]["cells"] != before


def test_an_entry_that_was_transferred_cannot_be_erased(mistaken, lead, other_authority):
    Transfer.objects.create(
        authority=mistaken.authority,
        to_authority=other_authority,
        person=mistaken,
        reason="Moving",
        status="declined",
        decided_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as caught:
        data_protection.erase_entry(lead, mistaken, version=mistaken.version, reason="Wrong")
    assert caught.value.code == "transferred"


def test_history_cannot_be_deleted_except_by_the_erasure_function(mistaken, lead):
    # The runtime role holds no DELETE on history; the table's owner meets the trigger.
    with (
        access.using_scope(access.scope_for(lead)),
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
    ):
        StatusChange.objects.filter(person=mistaken).delete()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('role', 'none', true)")  # the owner
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                StatusChange.objects.filter(person=mistaken).delete()
        transaction.set_rollback(True)
    assert StatusChange.objects.filter(person=mistaken).count() == 3


def test_the_erasure_function_covers_every_table_that_points_at_a_person():
    """Discovered from the app registry: a new table about people must be added to the function
    (or the person row could not be deleted)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'dsr_erase_register_entry'")
        source = cursor.fetchone()[0]
    for model, fk in data_protection.person_linked_rows():
        # Deleted, or (a transfer into this entry) refused.
        assert f"FROM {model._meta.db_table}" in source, model
        assert f"{fk}_id = p_person_id" in source, (model, fk)


# --- The page --------------------------------------------------------------------------------


def test_erasing_from_the_page_takes_a_reason_and_a_confirmation(client, mistaken, lead):
    client.force_login(lead)
    url = f"/register/people/{mistaken.pk}/erase/"
    page = client.get(url).content.decode()
    assert "Erase an entry added in error" in page and "cannot be undone" in page
    assert (
        "Say why this entry was added in error."
        in client.post(url, {"version": mistaken.version, "reason": ""}).content.decode()
    )
    confirm = client.post(url, {"version": mistaken.version, "reason": "Wrong CHI used"})
    assert "Are you sure you want to erase this entry?" in confirm.content.decode()
    assert Person.objects.filter(pk=mistaken.pk).exists()

    done = client.post(
        url, {"version": mistaken.version, "reason": "Wrong CHI used", "confirmed": "yes"}
    )
    assert done.status_code == 302 and done.url == "/register/"
    assert not Person.objects.filter(pk=mistaken.pk).exists()


def test_the_page_explains_the_correction_route_once_counted_in_a_submitted_return(
    client, counted, authority, lead
):
    reporting.submit_return(lead, build_return(authority))
    client.force_login(lead)
    page = client.get(f"/register/people/{counted.pk}/erase/").content.decode()
    assert "This entry cannot be erased." in page
    assert "send the return back so you can rebuild and resubmit it" in page
    response = client.post(
        f"/register/people/{counted.pk}/erase/",
        {"version": counted.version, "reason": "Wrong", "confirmed": "yes"},
    )
    assert response.status_code == 200 and Person.objects.filter(pk=counted.pk).exists()


@pytest.mark.parametrize(("who", "status"), [("practitioner", 403), ("other_lead", 404)])
def test_the_page_is_the_leads_only_and_404_across_authorities(
    client, mistaken, request, who, status
):
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/register/people/{mistaken.pk}/erase/").status_code == status
    response = client.post(
        f"/register/people/{mistaken.pk}/erase/",
        {"version": mistaken.version, "reason": "Wrong", "confirmed": "yes"},
    )
    assert response.status_code == status
    assert Person.objects.filter(pk=mistaken.pk).exists()


def test_the_person_page_links_the_lead_to_erasure(client, mistaken, lead, practitioner):
    client.force_login(lead)
    link = f"/register/people/{mistaken.pk}/erase/"
    assert link in client.get(f"/register/people/{mistaken.pk}/").content.decode()
    client.force_login(practitioner)
    assert link not in client.get(f"/register/people/{mistaken.pk}/").content.decode()
