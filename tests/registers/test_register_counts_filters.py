"""The register list's count cards count within the list's other filters. When the request asks
for no category and holds no blank value, the list's own filters are reused for the counts; the
result must equal building the counts' own filters from the query without its category, page and
sort (the slow way, kept here), whatever the query."""

import datetime as dt

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registers import access, selectors
from registers.filters import PersonFilter
from registers.views.register import CATEGORY_KEYS
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

VALUES = {
    "category": ["", "urgent", "enhanced_monitoring", "bogus"],
    "urgent_reason": ["", "in_hospital", "at_risk_of_breakdown"],
    "risk_rating": ["", "red", "amber", "green", "bogus"],
    "q": ["", "Redd", "G1", "a b"],
    "review_overdue": ["", "yes"],
    "hospital": ["", "in_hospital", "delayed"],
    "out_of_area": ["", "yes"],
    "sort": ["", "review", "-name", "bogus"],
    "page": ["", "2", "x"],
    "unknown": ["", "1"],
}
queries = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(VALUES[key]))
    ),
    max_size=5,
)


@pytest.fixture
def register(nithsdale):
    PersonFactory.create_batch(3, locality=nithsdale)
    PersonFactory(locality=nithsdale, at_risk=True, family_name="Redd", local_reference="R1")
    PersonFactory(locality=nithsdale, in_hospital=True, local_reference="G1")
    PersonFactory(locality=nithsdale, risk_rating="amber", next_review_due=dt.date(2020, 1, 1))


def _slow_counts(request, user, authority_id):
    with access.using_scope(access.scope_for(user)):
        people = selectors.register_people(user, authority_id=authority_id)
        other = {
            key: [v for v in values if v]
            for key, values in request.GET.lists()
            if key not in CATEGORY_KEYS | {"page", "sort"} and any(values)
        }
        if not other:
            return selectors.category_counts(user, authority_id=authority_id)
        data = QueryDict(mutable=True)
        for key, values in other.items():
            data.setlist(key, values)
        return selectors.counts_by_category(PersonFilter(data, queryset=people, request=request).qs)


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _register_list(client, user, query):
    client.force_login(user)
    data = QueryDict(mutable=True)
    for key, value in query:
        data.appendlist(key, value)
    response = client.get("/register/?" + data.urlencode())
    assert response.status_code == 200
    return response


@PROPERTY
@given(query=queries)
def test_the_counts_equal_the_counts_own_filters(client, practitioner, authority, register, query):
    response = _register_list(client, practitioner, query)
    counts = _slow_counts(response.wsgi_request, practitioner, authority.pk)
    expected = [
        (key, label, counts.get(key, 0)) for key, label, _ in response.context["counts"]["rows"]
    ]
    assert response.context["counts"]["rows"] == expected


@PROPERTY
@given(query=queries)
def test_a_filtered_lists_page_from_the_one_scan_equals_its_page_read_alone(
    client, practitioner, authority, register, settings, query
):
    # A filtered list whose counts are its own (selectors.counted_page) picks its page and counts
    # in one statement: the page, its number and the list's size must be page_of_people's.
    settings.DSR_PAGE_SIZE = 2
    response = _register_list(client, practitioner, query)
    shown, request = response.context["page"], response.wsgi_request
    with access.using_scope(access.scope_for(practitioner)):
        people = selectors.register_people(practitioner, authority_id=authority.pk)
        listed = PersonFilter(request.GET or None, queryset=people, request=request).qs
        alone = selectors.page_of_people(listed, request.GET.get("page"), per_page=2)
    assert [row.pk for row in shown.object_list] == [person.pk for person in alone.object_list]
    assert (shown.number, shown.paginator.count) == (alone.number, alone.paginator.count)


def test_a_filtered_list_reads_its_page_and_counts_in_one_statement(client, practitioner, register):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(practitioner)
    client.get("/register/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/register/?q=Redd&sort=-name")
    assert [row.family_name for row in response.context["page"].object_list] == ["Redd"]
    # Scans of the list (the page's people are then read by id).
    scans = [
        q["sql"]
        for q in captured.captured_queries
        if "search_names" in q["sql"] and '"registers_person"."id" IN (' not in q["sql"]
    ]
    assert len(scans) == 1 and scans[0].startswith("WITH m "), scans


def test_a_list_with_no_possible_match_or_ordered_by_an_expression_still_gets_its_page_and_counts(
    practitioner, authority, register
):
    from django.db.models.functions import Lower

    with access.using_scope(access.scope_for(practitioner)):
        people = selectors.register_people(practitioner, authority_id=authority.pk).on_register()
        page, counts = selectors.counted_page(people.none(), "1", per_page=2)
        assert (list(page.object_list), page.paginator.count, counts) == ([], 0, {})

        by_expression = people.order_by(Lower("family_name"), "-id")
        page, counts = selectors.counted_page(by_expression, "2", per_page=2)
        alone = selectors.page_of_people(by_expression, "2", per_page=2)
        assert [p.pk for p in page.object_list] == [p.pk for p in alone.object_list]
        assert counts == selectors.counts_by_category(by_expression)
        assert page.paginator.count == alone.paginator.count == 6
