"""The person page: grouped details, flags, timeline, review history, and the audited read."""

import datetime as dt

import pytest

from registers import services
from registers.codes import Category, RiskRating
from registers.models import AuditEvent
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def test_person_page_groups_the_details_and_flags_an_overdue_review(client, lead, nithsdale):
    person = PersonFactory(locality=nithsdale, next_review_due=TODAY - dt.timedelta(days=2))
    client.force_login(lead)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    for heading in ("Register status", "Placement in the authority", "Identity", "Planning"):
        assert f">{heading}</h2>" in body
    assert "Review overdue" in body


def test_person_page_flags_a_long_hospital_stay_and_delayed_discharge(client, lead, nithsdale):
    person = PersonFactory(
        locality=nithsdale, in_hospital=True, ready_for_discharge_date=dt.date(2024, 3, 1)
    )
    client.force_login(lead)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Long stay:" in body
    assert "Delayed discharge" in body


def test_person_page_timeline_says_who_what_and_why(client, lead, person):
    services.record_status_change(
        lead,
        person,
        version=person.version,
        category=Category.ENHANCED_MONITORING,
        risk_rating=RiskRating.AMBER,
        reason="Provider gave notice",
    )
    client.force_login(lead)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Risk of breakdown: Green to Amber" in body
    assert "Why: Provider gave notice" in body
    assert str(lead) in body


def test_person_page_shows_review_history(client, lead, person):
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=TODAY,
        attendees="Key worker, sister",
        outcome="Stable",
    )
    client.force_login(lead)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Key worker, sister" in body
    assert "Review history" in body


def test_a_viewer_gets_no_change_actions_on_the_person_page(client, viewer, person):
    client.force_login(viewer)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Update status" not in body
    assert "Edit details" not in body


def test_a_friendly_not_found_page_uses_the_layout(client, lead):
    client.force_login(lead)
    response = client.get("/register/people/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("changes", [1, 30])
def test_person_page_runs_a_constant_number_of_queries(
    client, lead, person, changes, django_assert_max_num_queries
):
    from registers import services

    for version in range(1, changes + 1):
        services.update_person_details(
            lead, person, version=version, key_worker_name=f"Worker {version}"
        )
    client.force_login(lead)
    with django_assert_max_num_queries(14):
        assert client.get(f"/register/people/{person.pk}/").status_code == 200


def test_viewing_a_person_is_audited(client, viewer, person):
    client.force_login(viewer)
    client.get(f"/register/people/{person.pk}/")
    event = AuditEvent.objects.get(action="person.viewed")
    assert (event.actor, event.object_id, event.authority_id) == (
        viewer,
        str(person.pk),
        person.authority_id,
    )
    assert event.ip_address == "127.0.0.1"


def test_the_person_pages_read_equals_the_orm_reads(
    lead, person, nithsdale, stewartry, other_authority
):
    """`person_page` reads the person, their locality and authority, history, reviews and pending
    transfer with SQL written out once: the same rows, in the same order, as the ORM's."""
    from django.db import transaction

    from dsr import onerow
    from registers import access, selectors
    from registers.models import Locality, Person, Review, StatusChange, Transfer

    def fresh():
        person.refresh_from_db()
        return person.version

    services.record_status_change(
        lead,
        person,
        version=fresh(),
        category=Category.URGENT,
        urgent_reason="at_risk_of_breakdown",
        risk_rating=RiskRating.RED,
        reason="Carer unwell",
    )
    services.update_person_details(lead, person, version=fresh(), key_worker_name="Sam <Smith>")
    services.move_locality(lead, person, version=fresh(), locality=stewartry, reason="Moved")
    services.record_review(
        lead, person, version=fresh(), review_date=TODAY, attendees="Sam", outcome="Stable"
    )
    services.request_transfer(
        lead, person, version=fresh(), to_authority=other_authority, reason="Moving to Edinburgh"
    )
    with transaction.atomic(), access.using_scope(access.scope_for(lead)):
        page = selectors.person_page(lead, person.pk)
        read = Person.objects.select_related("locality", "authority").get(pk=person.pk)
        history = list(
            StatusChange.objects.filter(person=person)
            .select_related("changed_by")
            .order_by("-effective_date", "-changed_at", "-id")
        )
        reviews = list(Review.objects.filter(person=person))
        transfers = list(
            Transfer.objects.filter(person=person, status="pending").select_related("to_authority")
        )

    def fields(rows):  # every column but the history's stored state, which the page leaves out
        return [
            {
                f.attname: getattr(row, f.attname)
                for f in row._meta.concrete_fields
                if f.name != "state"
            }
            for row in rows
        ]

    assert len(history) == 4
    assert fields(page.history) == fields(history)
    assert [str(c.changed_by) for c in page.history] == [str(c.changed_by) for c in history]
    assert fields(page.reviews) == fields(reviews) and len(reviews) == 1
    assert fields(page.transfers) == fields(transfers) and len(transfers) == 1
    assert page.transfers[0].to_authority.name == "Edinburgh"
    assert page.locality_names == {person.locality_id: "Stewartry", nithsdale.pk: "Nithsdale"}
    for got, orm in ((page.person, read), (page.person.locality, read.locality)):
        assert fields([got]) == fields([orm])
    assert fields([page.person.authority]) == fields([read.authority])
    assert onerow.unconverted(Locality)
