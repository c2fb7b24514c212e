"""The lead's audit log: the authority's events only, filters, and who may open it."""

import datetime as dt

import pytest

from accounts.services import create_api_client
from registers.audit import AuditAction, record_event
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_audit_log_shows_the_authoritys_events_and_not_anothers(
    client, lead, other_lead, person, other_person
):
    record_event(other_lead, "person.viewed", obj=other_person)
    client.force_login(lead)
    client.get(f"/register/people/{person.pk}/")
    page = client.get("/register/audit/").content.decode()
    assert f"{person.display_name} ({person.local_reference})" in page
    assert f'href="/register/people/{person.pk}/"' in page
    assert other_person.local_reference not in page
    assert f"Person {other_person.pk}" not in page
    assert other_lead.email not in page


@pytest.mark.parametrize("who", ["practitioner", "viewer"])
def test_only_the_lead_may_open_the_audit_log(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/register/audit/").status_code == 403


def test_the_national_analyst_gets_404_for_the_audit_log(client, analyst):
    client.force_login(analyst)
    assert client.get("/register/audit/").status_code == 404


def test_the_audit_log_filters_by_who_what_person_and_dates(
    client, lead, practitioner, nithsdale, authority
):
    first = PersonFactory(locality=nithsdale, local_reference="REF-A")
    second = PersonFactory(locality=nithsdale, local_reference="REF-B")
    record_event(practitioner, "person.viewed", obj=first)
    record_event(lead, "person.viewed", obj=second)
    record_event(lead, "staff.removed", authority_id=authority.pk)
    client.force_login(lead)

    def shown(query):
        page = client.get("/register/audit/", query).context["page"]
        return {(e.action, e.object_id) for e in page.object_list if e.action != "login"}

    assert shown({"actor": "prac@"}) == {("person.viewed", str(first.pk))}
    assert shown({"action": "staff."}) == {("staff.removed", "")}
    assert shown({"person": "ref-b"}) == {("person.viewed", str(second.pk))}
    today = dt.date.today()
    assert shown({"date_to": (today - dt.timedelta(days=1)).strftime("%d/%m/%Y")}) == set()
    assert ("person.viewed", str(first.pk)) in shown({"date_from": today.strftime("%d/%m/%Y")})


def test_a_bad_date_in_the_audit_filters_is_explained(client, lead):
    client.force_login(lead)
    response = client.get("/register/audit/", {"date_from": "31/02/2025"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]
    assert "<title>Error:" in response.content.decode()


@pytest.mark.parametrize("events", [5, 150])
def test_the_audit_log_runs_a_constant_number_of_queries(
    client, lead, authority, events, django_assert_max_num_queries, settings
):
    for n in range(events):
        record_event(lead, "test.event", authority_id=authority.pk, changes={"n": n})
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        response = client.get("/register/audit/", {"action": "person.", "page": "1"})
        assert response.status_code == 200
    with django_assert_max_num_queries(15):
        response = client.get("/register/audit/")
    assert len(response.context["page"].object_list) == min(events + 1, settings.DSR_PAGE_SIZE)


def test_the_audit_log_tells_events_as_sentences_and_names_their_objects(
    client, lead, practitioner, authority, nithsdale
):
    api_client, _token = create_api_client(lead, authority, name="Nightly sync", scopes=["read"])
    record_event(lead, AuditAction.LOGIN_SECOND_FACTOR, authority_id=authority.pk)
    record_event(lead, AuditAction.API_CLIENT_REVOKED, obj=api_client)
    record_event(lead, AuditAction.STAFF_ROLE_CHANGED, authority_id=authority.pk, obj=practitioner)
    record_event(lead, AuditAction.LOCALITY_RENAMED, obj=nithsdale)
    client.force_login(lead)
    page = client.get("/register/audit/").content.decode()
    for sentence in ("Signed in with second factor", "Revoked an API client"):
        assert sentence in page
    assert "API client \u2018Nightly sync\u2019" in page
    assert str(practitioner) in page
    assert f"Locality \u2018{nithsdale.name}\u2019" in page
    for code in ("login.second_factor", "api_client.revoked", f"apiclient {api_client.pk}"):
        assert code not in page
    assert f"user {practitioner.pk}" not in page


def test_every_audit_action_has_a_sentence_for_people():
    for action in AuditAction:
        assert action.label != action.value
        assert action.label[:1].isupper() and "_" not in action.label


def test_the_audit_log_shows_codes_in_its_details_as_labels(client, lead, person):
    record_event(
        lead,
        AuditAction.PERSON_LEFT,
        obj=person,
        changes={"leaving_reason": [None, "transferred_to_other_ia"]},
    )
    client.force_login(lead)
    page = client.get("/register/audit/").content.decode()
    assert "Leaving reason: blank to Transferred to another IA" in page
    assert "transferred_to_other_ia" not in page


def test_the_audit_log_names_objects_in_a_constant_number_of_queries(
    client, lead, authority, nithsdale, django_assert_max_num_queries
):
    people = PersonFactory.create_batch(12, locality=nithsdale)
    for n, someone in enumerate(people):
        create_api_client(lead, authority, name=f"Client {n}", scopes=["read"])
        record_event(lead, AuditAction.PERSON_VIEWED, obj=someone)
        record_event(lead, AuditAction.STAFF_ADDED, authority_id=authority.pk, obj=lead)
    client.force_login(lead)
    with django_assert_max_num_queries(18):
        page = client.get("/register/audit/").content.decode()
    assert "Client 11" in page and people[-1].local_reference in page


def test_the_audit_log_shows_a_change_as_old_to_new(client, lead, person):
    record_event(
        lead,
        AuditAction.PERSON_DETAILS,
        obj=person,
        changes={
            "key_worker_contact": ["", "01387 000000"],
            "risk_factors": [["housing"], ["housing", "carer_breakdown"]],
        },
    )
    client.force_login(lead)
    page = client.get("/register/audit/").content.decode()
    assert "Key worker contact: blank to 01387 000000" in page
    assert "Risk factors: Housing to Housing, Carer breakdown" in page
    assert "[&#x27;" not in page and "['" not in page
