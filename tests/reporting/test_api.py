"""The authority's returns and their status, read through the REST API."""

import pytest

from tests.reporting.conftest import CENSUS, build_return

pytestmark = pytest.mark.django_db


def url(authority, census_date=None):
    base = f"/api/v1/authorities/{authority.pk}/returns/"
    return f"{base}{census_date.isoformat()}/" if census_date else base


def test_staff_read_their_authoritys_returns_with_status_and_tables(
    client, known_register, authority, viewer
):
    build_return(authority)
    client.force_login(viewer)
    listing = client.get(url(authority)).json()
    assert [(r["census_date"], r["status"]) for r in listing] == [(CENSUS.isoformat(), "draft")]
    detail = client.get(url(authority, CENSUS)).json()
    assert detail["authority"] == authority.code
    assert detail["tables"]
    assert "local_reference" not in str(detail)


@pytest.mark.parametrize("who", ["other_lead", "analyst", "no_role_user"])
def test_returns_of_another_authority_are_not_found(
    client, known_register, authority, who, request
):
    build_return(authority)
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(authority)).status_code == 404
    assert client.get(url(authority, CENSUS)).status_code == 404


def test_anonymous_callers_are_refused(client, authority):
    # The endpoints also take API tokens, so an anonymous caller is asked to authenticate (401).
    response = client.get(url(authority))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_a_missing_or_malformed_census_date_is_not_found(client, authority, lead):
    client.force_login(lead)
    assert client.get(url(authority, CENSUS)).status_code == 404
    assert client.get(f"/api/v1/authorities/{authority.pk}/returns/not-a-date/").status_code == 404


@pytest.mark.parametrize("quarters", [1, 4])
def test_listing_returns_runs_a_constant_number_of_queries(
    client, known_register, authority, lead, quarters, django_assert_max_num_queries
):
    import datetime as dt

    from reporting.census import census_dates_between

    days = list(census_dates_between(dt.date(2024, 10, 1), CENSUS))[-quarters:]
    for day in days:
        build_return(authority, day)
    client.force_login(lead)
    with django_assert_max_num_queries(14):
        assert len(client.get(url(authority)).json()) == quarters
