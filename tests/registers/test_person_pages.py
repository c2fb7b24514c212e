import datetime as dt

import pytest
from django.utils import timezone

from registers import services
from registers.codes import Category, ChangeKind, RiskRating
from registers.models import Person, Review, StatusChange
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def add_person_data(place, **overrides):
    data = {
        "given_name": "Morag",
        "family_name": "Fraser",
        "date_of_birth": "17/05/1990",
        "sex": "female",
        "local_reference": "NEW-1",
        "referral_source": "health",
        "locality": place.pk,
        "status": "enhanced_monitoring",
        "risk_rating": "amber",
    }
    return data | overrides


def errors_of(response) -> str:
    return response.content.decode()


# Person page -----------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "path",
    [
        "",
        "edit/",
        "status/",
        "quick-status/",
        "review/",
        "leave/",
        "locality/",
        "transfer/",
    ],
)
def test_every_person_page_is_not_found_outside_the_users_scope(client, lead, other_person, path):
    client.force_login(lead)
    assert client.get(f"/register/people/{other_person.pk}/{path}").status_code == 404
    assert client.post(f"/register/people/{other_person.pk}/{path}", {}).status_code in (404, 405)


@pytest.mark.parametrize("path", ["edit/", "status/", "quick-status/", "review/", "leave/"])
def test_a_viewer_cannot_open_the_change_pages(client, viewer, person, path):
    client.force_login(viewer)
    response = client.get(f"/register/people/{person.pk}/{path}")
    assert response.status_code == 403
    assert "You cannot do this" in response.content.decode()


def test_a_friendly_not_found_page_uses_the_layout(client, lead):
    client.force_login(lead)
    response = client.get("/register/people/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# Add a person -----------------------------------------------------------------------------------


def test_a_lead_adds_a_person(client, lead, nithsdale):
    client.force_login(lead)
    response = client.post("/register/add/", add_person_data(nithsdale))
    person = Person.objects.get(local_reference="NEW-1")
    assert response.url == f"/register/people/{person.pk}/"
    assert (person.category, person.risk_rating, person.created_by) == (
        Category.ENHANCED_MONITORING,
        RiskRating.AMBER,
        lead,
    )


def test_adding_someone_in_hospital_records_the_stay(client, lead, nithsdale):
    client.force_login(lead)
    client.post(
        "/register/add/",
        add_person_data(
            nithsdale,
            status="urgent:in_hospital",
            risk_rating="",
            hospital_name="Midpark",
            hospital_type="mental_health_inpatient",
            hospital_in_area="yes",
            admission_date="01/02/2024",
            legal_status="informal",
        ),
    )
    person = Person.objects.get(local_reference="NEW-1")
    assert (person.hospital_name, person.hospital_in_area) == ("Midpark", True)


def test_placement_details_are_ignored_unless_the_person_is_out_of_area(client, lead, nithsdale):
    client.force_login(lead)
    client.post(
        "/register/add/",
        add_person_data(nithsdale, host_area="england", placement_start_date="01/01/2024"),
    )
    person = Person.objects.get(local_reference="NEW-1")
    assert person.host_area is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"given_name": ""}, "This field is required."),
        ({"date_of_birth": "31/02/1990"}, "Enter the date of birth as a real date"),
        ({"date_of_birth": "01/01/2015"}, "The register is for adults"),
        ({"chi_number": "1705901234"}, "check digit is wrong"),
        ({"status": "urgent:at_risk_of_breakdown", "risk_rating": "green"}, "red or amber"),
        ({"status": "urgent:in_hospital", "risk_rating": ""}, "Enter the hospital&#x27;s name."),
        ({"status": "appropriate_out_of_area"}, "Choose the host area"),
        ({"locality": ""}, "This field is required."),
    ],
)
def test_bad_input_when_adding_is_refused_with_a_message_and_nothing_saved(
    client, lead, nithsdale, overrides, message
):
    client.force_login(lead)
    response = client.post("/register/add/", add_person_data(nithsdale, **overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert message in body
    assert "<title>Error: " in body
    assert not Person.objects.exists()


def test_error_summary_links_to_the_field(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post("/register/add/", add_person_data(nithsdale, family_name="")).content
    assert b'<a href="#id_family_name">' in body


def test_a_duplicate_local_reference_is_explained(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, local_reference="NEW-1")
    client.force_login(lead)
    body = client.post("/register/add/", add_person_data(nithsdale)).content.decode()
    assert "already has this local reference" in body
    assert Person.objects.count() == 1


def test_a_practitioner_can_only_add_to_their_own_localities(
    client, practitioner, nithsdale, stewartry
):
    client.force_login(practitioner)
    response = client.post("/register/add/", add_person_data(stewartry))
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.exists()


def test_a_viewer_cannot_add_people(client, viewer):
    client.force_login(viewer)
    assert client.get("/register/add/").status_code == 403


# Edit details and concurrent edits ------------------------------------------------------------


def details_data(person, **overrides):
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": person.date_of_birth.strftime("%d/%m/%Y"),
        "sex": person.sex,
        "chi_number": person.chi_number,
        "local_reference": person.local_reference,
        "referral_source": person.referral_source,
        "version": person.version,
    }
    return data | overrides


def test_editing_details_saves_them(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/edit/", details_data(person, key_worker_name="Iain")
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.key_worker_name, person.version) == ("Iain", 2)


def test_a_concurrent_edit_is_detected_explained_and_not_overwritten(
    client, practitioner, lead, person
):
    stale = details_data(person, key_worker_name="Mine")
    services.update_person_details(lead, person, version=1, key_worker_name="Theirs")
    client.force_login(practitioner)
    response = client.post(f"/register/people/{person.pk}/edit/", stale)
    body = response.content.decode()
    person.refresh_from_db()
    assert person.key_worker_name == "Theirs"
    assert "Someone else changed this record" in body
    assert "Key worker name from blank to Theirs" in body
    # The form now carries the current version, so submitting again is a conscious choice.
    assert 'name="version" value="2"' in body


def test_editing_with_a_bad_date_of_birth_saves_nothing(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/edit/", details_data(person, date_of_birth="2090-01-01")
    )
    assert "cannot be in the future" in response.content.decode()
    person.refresh_from_db()
    assert person.version == 1


# Status changes -----------------------------------------------------------------------------------


def test_the_full_status_form_records_a_hospital_admission(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/status/",
        {
            "status": "urgent:in_hospital",
            "hospital_name": "Carseview",
            "hospital_type": "ld_inpatient",
            "admission_date": TODAY.strftime("%d/%m/%Y"),
            "legal_status": "short_term_detention",
            "reason": "Admitted after crisis",
            "version": person.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.urgent_reason, person.risk_rating) == ("in_hospital", None)


def test_a_status_change_without_a_reason_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/status/",
        {"status": "enhanced_monitoring", "risk_rating": "red", "version": person.version},
    )
    assert "Say why the status changed." in response.content.decode()
    assert StatusChange.objects.filter(person=person).count() == 0


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


# Reviews, leaving, moving, transfers ------------------------------------------------------------


def test_recording_a_review_sets_the_next_due_date(client, practitioner, person):
    client.force_login(practitioner)
    due = TODAY + dt.timedelta(days=60)
    client.post(
        f"/register/people/{person.pk}/review/",
        {
            "review_date": TODAY.strftime("%d/%m/%Y"),
            "attendees": "Team",
            "outcome": "Settled",
            "next_review_due": due.strftime("%d/%m/%Y"),
            "version": person.version,
        },
    )
    person.refresh_from_db()
    assert person.next_review_due == due
    assert Review.objects.filter(person=person).count() == 1


def test_a_review_in_the_future_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/review/",
        {
            "review_date": (TODAY + dt.timedelta(days=3)).strftime("%d/%m/%Y"),
            "attendees": "Team",
            "outcome": "Settled",
            "version": person.version,
        },
    )
    assert "cannot be recorded for a future date" in response.content.decode()
    assert not Review.objects.exists()


def test_leaving_asks_for_confirmation_before_removing(client, practitioner, person):
    client.force_login(practitioner)
    data = {
        "date_left": TODAY.strftime("%d/%m/%Y"),
        "leaving_reason": "settled_in_community",
        "version": person.version,
    }
    response = client.post(f"/register/people/{person.pk}/leave/", data)
    assert "Are you sure" in response.content.decode()
    person.refresh_from_db()
    assert person.date_left is None
    response = client.post(f"/register/people/{person.pk}/leave/", data | {"confirmed": "yes"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.leaving_reason == "settled_in_community"


def test_leaving_without_a_reason_is_refused(client, practitioner, person):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/leave/",
        {"date_left": TODAY.strftime("%d/%m/%Y"), "version": person.version, "confirmed": "yes"},
    )
    assert "Choose why the person left the register." in response.content.decode()
    person.refresh_from_db()
    assert person.date_left is None


def test_moving_locality(client, lead, person, stewartry):
    client.force_login(lead)
    client.post(
        f"/register/people/{person.pk}/locality/",
        {"locality": stewartry.pk, "version": person.version},
    )
    person.refresh_from_db()
    assert person.locality == stewartry
    assert person.status_changes.filter(kind=ChangeKind.LOCALITY).exists()
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Locality: Nithsdale to Stewartry" in body


def test_a_practitioner_cannot_move_someone_to_a_locality_they_do_not_have(
    client, practitioner, person, stewartry
):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/locality/",
        {"locality": stewartry.pk, "version": person.version},
    )
    assert "Select a valid choice" in response.content.decode()
    person.refresh_from_db()
    assert person.locality_id != stewartry.pk


def test_a_transfer_is_requested_accepted_and_shows_on_both_sides(
    client, lead, other_lead, person, other_authority, leith
):
    client.force_login(lead)
    client.post(
        f"/register/people/{person.pk}/transfer/",
        {"to_authority": other_authority.pk, "reason": "Family moved", "version": 1},
    )
    assert "waiting for their lead" in client.get(f"/register/people/{person.pk}/").content.decode()
    transfer = person.transfers.get()
    client.force_login(other_lead)
    assert person.family_name in client.get("/register/transfers/").content.decode()
    response = client.post(
        f"/register/transfers/{transfer.pk}/",
        {"decision": "accept", "locality": leith.pk, "local_reference": "ED-9"},
    )
    new = Person.objects.get(authority=other_authority)
    assert response.url == f"/register/people/{new.pk}/"
    person.refresh_from_db()
    assert person.leaving_reason == "transferred_to_other_ia"


def test_declining_a_transfer_needs_a_reason(client, lead, other_lead, person, other_authority):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(other_lead)
    response = client.post(f"/register/transfers/{transfer.pk}/", {"decision": "decline"})
    assert "Say why the transfer is declined." in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.is_pending


def test_a_transfer_decision_page_is_not_found_for_the_sending_lead(
    client, lead, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(lead)
    assert client.get(f"/register/transfers/{transfer.pk}/").status_code == 404


def test_the_sending_practitioner_can_cancel_a_transfer(
    client, lead, practitioner, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(practitioner)
    client.post(f"/register/transfers/{transfer.pk}/cancel/")
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"


def test_today_is_the_default_review_date(client, practitioner, person):
    client.force_login(practitioner)
    body = client.get(f"/register/people/{person.pk}/review/").content.decode()
    assert timezone.localdate().strftime("%d/%m/%Y") in body


def test_a_viewer_gets_no_change_actions_on_the_person_page(client, viewer, person):
    client.force_login(viewer)
    body = client.get(f"/register/people/{person.pk}/").content.decode()
    assert "Record a new rating or category" not in body
    assert "Edit details" not in body


def test_the_no_javascript_quick_update_keeps_the_list_filters(client, practitioner, person):
    client.force_login(practitioner)
    body = client.get(
        f"/register/people/{person.pk}/quick-status/", {"from": "list", "next": "/register/?q=a"}
    ).content.decode()
    assert 'name="next" value="/register/?q=a"' in body
