"""The lead's audit log: the authority's events only, filters, and who may open it."""

import datetime as dt

import pytest

from registers.audit import record_event
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_audit_log_shows_the_authoritys_events_and_not_anothers(
    client, lead, other_lead, person, other_person
):
    record_event(other_lead, "person.viewed", obj=other_person)
    client.force_login(lead)
    client.get(f"/register/people/{person.pk}/")
    page = client.get("/register/audit/").content.decode()
    assert f"person {person.pk}" in page
    assert f"person {other_person.pk}" not in page
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
