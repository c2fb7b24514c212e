"""The quick status update, from the register list and from the person page."""

import pytest

from registers import services

pytestmark = pytest.mark.django_db


def test_quick_update_from_the_list_returns_the_updated_row(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "list",
            "status": "enhanced_monitoring",
            "risk_rating": "red",
            "reason": "Carer unwell",
            "version": person.version,
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<tr id="person-')
    assert "Updated" in body
    person.refresh_from_db()
    assert person.risk_rating == "red"


def test_quick_update_on_the_person_page_returns_the_new_timeline(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "person",
            "status": "urgent:at_risk_of_breakdown",
            "risk_rating": "amber",
            "reason": "Provider notice",
            "version": person.version,
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="status-and-timeline"' in body
    assert "Why: Provider notice" in body


def test_quick_update_without_javascript_redirects_back_to_the_list(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "list",
            "next": "/register/?q=x",
            "status": "enhanced_monitoring",
            "risk_rating": "amber",
            "reason": "Rising risk",
            "version": person.version,
        },
    )
    assert response.url == "/register/?q=x"


def test_quick_update_never_redirects_off_site(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "list",
            "next": "https://evil.example/",
            "status": "enhanced_monitoring",
            "risk_rating": "amber",
            "reason": "Rising risk",
            "version": person.version,
        },
    )
    assert response.url == "/register/"


def test_quick_update_to_in_hospital_points_to_the_full_form(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {"status": "urgent:in_hospital", "reason": "Admitted", "version": person.version},
    )
    body = response.content.decode()
    assert "Use the full status form" in body
    person.refresh_from_db()
    assert person.version == 1


def test_a_stale_quick_update_is_refused(client, practitioner, lead, person):
    services.update_person_details(lead, person, version=1, key_worker_name="Other")
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {"status": "enhanced_monitoring", "risk_rating": "red", "reason": "x", "version": 1},
    )
    assert "Someone else changed this record" in response.content.decode()
    person.refresh_from_db()
    assert person.risk_rating == "green"


def test_the_no_javascript_quick_update_keeps_the_list_filters(client, practitioner, person):
    client.force_login(practitioner)
    body = client.get(
        f"/register/people/{person.pk}/quick-status/", {"from": "list", "next": "/register/?q=a"}
    ).content.decode()
    assert 'name="next" value="/register/?q=a"' in body
