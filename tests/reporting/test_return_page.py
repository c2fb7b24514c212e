"""The authority's return page: tables, warnings, submitting."""

import pytest

from reporting.models import JobKind
from tests.factories import PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


def url(authority, census, suffix=""):
    return f"/reporting/{authority.pk}/{census.isoformat()}/{suffix}"


def test_lead_sees_tables_warnings_and_the_people_behind_them(
    client, lead, known_register, authority, census
):
    build_return(authority)
    client.force_login(lead)
    body = client.get(url(authority, census)).content.decode()
    assert "People on the register by category" in body
    assert "review overdue on the census date" in body
    assert known_register[1].local_reference in body
    assert "Submit to the national team" in body


def test_lead_submits_from_the_page(client, lead, known_register, authority, census):
    ret = build_return(authority)
    client.force_login(lead)
    page = client.post(url(authority, census, "submit/")).content.decode()
    assert "Are you sure you want to submit" in page
    ret.refresh_from_db()
    assert ret.status == "draft"
    response = client.post(url(authority, census, "submit/"), {"confirmed": "yes"}, follow=True)
    assert "Return submitted" in response.content.decode()
    assert "Build and submit" not in response.content.decode()
    ret.refresh_from_db()
    assert ret.status == "submitted"


def test_a_date_that_is_not_a_census_date_is_not_found(client, lead, authority):
    client.force_login(lead)
    assert client.get(f"/reporting/{authority.pk}/2025-09-24/").status_code == 404


@pytest.mark.parametrize("people", [5, 60])
def test_return_page_runs_a_constant_number_of_queries(
    client, lead, nithsdale, authority, census, people, django_assert_max_num_queries
):
    PersonFactory.create_batch(people, locality=nithsdale, next_review_due=census)
    build_return(authority)
    for _ in range(3):
        run(JobKind.AUTHORITY_CSV, authority=authority)
    client.force_login(lead)
    # 20: the layout reads the user's authorities once (the header and the authority switcher).
    with django_assert_max_num_queries(20):
        assert client.get(url(authority, census)).status_code == 200
