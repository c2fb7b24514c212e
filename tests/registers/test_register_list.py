import datetime as dt

import pytest
from django.utils import timezone

from registers.codes import RiskRating
from tests.factories import LocalityFactory, PersonFactory, make_member

pytestmark = pytest.mark.django_db


def refs(response) -> set[str]:
    return {p.local_reference for p in response.context["page"].object_list}


@pytest.fixture
def people(nithsdale, stewartry):
    today = timezone.localdate()
    return {
        "green": PersonFactory(locality=nithsdale, family_name="Green", local_reference="G1"),
        "red": PersonFactory(
            locality=nithsdale, at_risk=True, family_name="Redd", local_reference="R1"
        ),
        "hospital": PersonFactory(
            locality=stewartry,
            in_hospital=True,
            ready_for_discharge_date=dt.date(2024, 3, 1),
            family_name="Ward",
            local_reference="H1",
        ),
        "away": PersonFactory(
            locality=stewartry,
            appropriate_out_of_area=True,
            family_name="Far",
            local_reference="A1",
        ),
        "overdue": PersonFactory(
            locality=nithsdale,
            family_name="Late",
            local_reference="O1",
            next_review_due=today - dt.timedelta(days=3),
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "urgent"}, {"R1", "H1"}),
        ({"urgent_reason": "at_risk_of_breakdown"}, {"R1"}),
        ({"risk_rating": RiskRating.RED}, {"R1"}),
        ({"review_overdue": "yes"}, {"O1"}),
        ({"hospital": "in_hospital"}, {"H1"}),
        ({"hospital": "delayed"}, {"H1"}),
        ({"out_of_area": "yes"}, {"A1"}),
        ({"q": "redd"}, {"R1"}),
        ({"q": "g1"}, {"G1"}),
    ],
)
def test_filters_and_search_narrow_the_register(client, lead, people, query, expected):
    client.force_login(lead)
    assert refs(client.get("/register/", query)) == expected


def test_search_reads_the_names_as_they_are_now_in_any_case(client, lead, nithsdale):
    from registers import services

    person = PersonFactory(locality=nithsdale, given_name="Morag", family_name="Campbell")
    PersonFactory(locality=nithsdale, given_name="Morag", family_name="Ross")
    services.update_person_details(lead, person, version=person.version, preferred_name="Mo")
    services.update_person_details(lead, person, version=person.version + 1, family_name="Baird")
    client.force_login(lead)
    assert refs(client.get("/register/", {"q": "mo BAIRD"})) == {person.local_reference}
    assert refs(client.get("/register/", {"q": "campbell"})) == set()
    assert len(refs(client.get("/register/", {"q": "morag"}))) == 2


def test_search_finds_a_person_by_chi_number(client, lead, people):
    client.force_login(lead)
    assert refs(client.get("/register/", {"q": people["away"].chi_number})) == {"A1"}


def test_locality_filter_shows_only_that_locality(client, lead, people, stewartry):
    client.force_login(lead)
    assert refs(client.get("/register/", {"locality": stewartry.pk})) == {"H1", "A1"}


def test_sorting_by_name_descending_reverses_the_order(client, lead, people):
    client.force_login(lead)
    page = client.get("/register/", {"sort": "-name"}).context["page"]
    names = [p.family_name for p in page.object_list]
    assert names == sorted(names, reverse=True)


def test_an_unknown_sort_is_refused_politely_and_shows_everyone(client, lead, people):
    client.force_login(lead)
    response = client.get("/register/", {"sort": "password"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_counts_per_category_are_shown_above_the_list(client, lead, people):
    client.force_login(lead)
    rows = {key: n for key, _, n in client.get("/register/").context["counts"]["rows"]}
    assert rows["urgent"] == 2
    assert rows["urgent:in_hospital"] == 1
    assert rows["appropriate_out_of_area"] == 1


def test_pagination_splits_a_long_register(client, lead, nithsdale, settings):
    settings.DSR_PAGE_SIZE = 10
    PersonFactory.create_batch(25, locality=nithsdale)
    client.force_login(lead)
    response = client.get("/register/", {"page": 3})
    assert len(response.context["page"].object_list) == 5
    assert "Page 3 of 3" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "number", "size"),
    [({}, "99", 5), ({"category": "enhanced_monitoring"}, "99", 5), ({"q": "x"}, "abc", 0)],
)
def test_a_page_past_the_end_shows_the_last_and_a_bad_number_the_first(
    client, lead, nithsdale, settings, query, number, size
):
    settings.DSR_PAGE_SIZE = 10
    PersonFactory.create_batch(25, locality=nithsdale, given_name="Ann", family_name="Bell")
    client.force_login(lead)
    page = client.get("/register/", query | {"page": number}).context["page"]
    assert len(page.object_list) == size
    assert page.number == (3 if size else 1)


@pytest.mark.parametrize("query", [{"sort": "name"}, {"sort": "-name", "category": "urgent"}])
def test_pages_follow_one_another_in_the_sort_order(client, lead, nithsdale, settings, query):
    settings.DSR_PAGE_SIZE = 3
    names = ["Adams", "Baird", "Clark", "Dunn", "Ewing", "Fyfe", "Gray"]
    for name in names:
        PersonFactory(locality=nithsdale, family_name=name, at_risk=True)
    PersonFactory(locality=nithsdale, family_name="Hume")  # not urgent
    client.force_login(lead)
    shown = []
    for number in (1, 2, 3):
        page = client.get("/register/", query | {"page": number}).context["page"]
        shown += [person.family_name for person in page.object_list]
    expected = [*names, "Hume"] if "category" not in query else names
    expected = sorted(expected, reverse=query["sort"] == "-name")
    assert shown == expected[:9]
    assert page.paginator.count == len(expected)


def test_an_htmx_request_returns_only_the_results(client, lead, people):
    client.force_login(lead)
    response = client.get("/register/", {"q": "Redd"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert "R1" in body
    assert "1 person matches your filters" in body


def test_filtering_works_without_javascript_as_a_full_page(client, lead, people):
    client.force_login(lead)
    body = client.get("/register/", {"category": "urgent"}).content.decode()
    assert "<html" in body
    assert 'id="results"' in body


@pytest.mark.parametrize("rows", [5, 500])
def test_the_filtered_list_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries, settings
):
    settings.DSR_PAGE_SIZE = 500  # every row on one page
    PersonFactory.create_batch(rows, locality=nithsdale, at_risk=True, chi_number=None)
    client.force_login(lead)
    with django_assert_max_num_queries(17):
        response = client.get("/register/", {"category": "urgent", "sort": "review"})
    assert response.status_code == 200


def test_a_user_in_two_authorities_sees_the_one_chosen_in_the_session(
    client, lead, nithsdale, other_authority, leith, people, other_person
):
    from accounts.models import Membership

    Membership.objects.create(user=lead, authority=other_authority, role="viewer")
    from guardian.shortcuts import assign_perm

    assign_perm("registers.view_people_in_locality", lead, leith)
    client.force_login(lead)
    assert other_person.local_reference not in refs(client.get("/register/"))
    response = client.post("/register/authority/", {"authority": other_authority.pk})
    assert response.status_code == 302
    assert refs(client.get("/register/")) == {other_person.local_reference}


def test_switching_to_an_authority_outside_the_scope_is_not_found(client, lead, other_authority):
    client.force_login(lead)
    response = client.post("/register/authority/", {"authority": other_authority.pk})
    assert response.status_code == 404


def test_a_practitioner_gets_an_update_link_only_for_writable_people(
    client, authority, nithsdale, stewartry
):
    writer = make_member(authority, "practitioner", [nithsdale], email="w@example.scot")
    from guardian.shortcuts import assign_perm

    assign_perm("registers.view_people_in_locality", writer, stewartry)
    mine = PersonFactory(locality=nithsdale)
    theirs = PersonFactory(locality=stewartry)
    client.force_login(writer)
    body = client.get("/register/").content.decode()
    assert f"/register/people/{mine.pk}/quick-status/" in body
    assert f"/register/people/{theirs.pk}/quick-status/" not in body


def test_a_lead_sees_nothing_of_another_authoritys_register(client, other_lead, people):
    LocalityFactory(authority=other_lead.memberships.get().authority)
    client.force_login(other_lead)
    assert refs(client.get("/register/")) == set()


def test_register_list_shows_only_visible_people_with_counts(
    client, practitioner, nithsdale, stewartry, other_person
):
    mine = PersonFactory(locality=nithsdale, at_risk=True)
    hidden = PersonFactory(locality=stewartry)
    client.force_login(practitioner)
    response = client.get("/register/")
    body = response.content.decode()
    assert mine.local_reference in body
    assert hidden.local_reference not in body
    assert other_person.local_reference not in body
    assert '<span class="dsr-counts__n">1</span> urgent' in body


def test_empty_register_explains_why(client, no_role_user):
    client.force_login(no_role_user)
    assert "ask your authority" in client.get("/register/").content.decode()


@pytest.mark.parametrize("rows", [5, 120])
def test_register_list_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries
):
    PersonFactory.create_batch(rows, locality=nithsdale)
    client.force_login(lead)
    with django_assert_max_num_queries(17):
        assert client.get("/register/").status_code == 200
