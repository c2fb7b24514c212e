"""List endpoints run a constant number of queries whatever the page size."""

import datetime as dt

import pytest
from django.utils import timezone

from registers.services import schedule_review
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("people", [3, 120])
def test_listing_people_runs_a_constant_number_of_queries(
    cms, nithsdale, people, django_assert_max_num_queries
):
    for _ in range(people):
        PersonFactory(locality=nithsdale)
    # The page's positions, then its people: two queries (see PeopleCursor), whatever the count.
    with django_assert_max_num_queries(15):
        page = cms.get("/api/v1/people/", {"page_size": 200}).json()
    assert len(page["results"]) == people


@pytest.mark.parametrize("changes", [1, 30])
def test_listing_history_runs_a_constant_number_of_queries(
    cms, person, lead, changes, django_assert_max_num_queries
):
    for i in range(changes):
        schedule_review(
            lead,
            person.pk,
            version=person.version + i,
            due=timezone.localdate() + dt.timedelta(days=10 + i),
        )
    with django_assert_max_num_queries(15):
        page = cms.get(f"/api/v1/people/{person.pk}/status-changes/?page_size=100").json()
    assert len(page["results"]) == changes
