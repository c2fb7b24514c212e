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


def test_a_page_of_people_reads_them_without_joining_their_authority(cms, nithsdale, authority):
    # Every person of the page is the client's own authority's: it is given to them, not joined
    # and built again for each row.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PersonFactory.create_batch(3, locality=nithsdale)
    with CaptureQueriesContext(connection) as captured:
        page = cms.get("/api/v1/people/").json()
    assert [p["authority"] for p in page["results"]] == [authority.code] * 3
    people = [q["sql"] for q in captured.captured_queries if 'FROM "registers_person"' in q["sql"]]
    assert people and not any("registers_integrationauthority" in sql for sql in people)


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


def _reads_after_the_change(captured, tables: tuple[str, ...]) -> list[str]:
    """SELECTs of the given tables after the change's last write (audit rows aside)."""
    sql = [query["sql"] for query in captured.captured_queries]
    writes = [
        i
        for i, statement in enumerate(sql)
        if statement.startswith(("INSERT", "UPDATE")) and '"registers_auditevent"' not in statement
    ]
    return [
        statement
        for statement in sql[writes[-1] + 1 :]
        if statement.startswith("SELECT") and any(f'"{table}"' in statement for table in tables)
    ]


def test_a_status_change_is_answered_without_reading_it_back(cms, person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = cms.post(
            f"/api/v1/people/{person.pk}/status-changes/",
            {
                "category": "urgent",
                "urgent_reason": "at_risk_of_breakdown",
                "risk_rating": "red",
                "reason": "Placement ending",
            },
            format="json",
            HTTP_IF_MATCH=f'"{person.version}"',
        )
    assert response.status_code == 201, response.json()
    assert response["ETag"] == f'"{person.version + 1}"'
    assert _reads_after_the_change(captured, ("registers_statuschange", "registers_person")) == []
    stored = cms.get(f"/api/v1/people/{person.pk}/status-changes/").json()["results"][-1]
    assert stored == response.json()


def test_a_review_is_answered_without_reading_the_person_again(cms, person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = cms.post(
            f"/api/v1/people/{person.pk}/reviews/",
            {
                "review_date": timezone.localdate().isoformat(),
                "attendees": "Key worker, family",
                "outcome": "Stable",
            },
            format="json",
            HTTP_IF_MATCH=f'"{person.version}"',
        )
    assert response.status_code == 201, response.json()
    assert response["ETag"] == f'"{person.version + 1}"'
    assert _reads_after_the_change(captured, ("registers_person", "registers_review")) == []
