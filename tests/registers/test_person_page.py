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
    with django_assert_max_num_queries(19):
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
