"""An authority's returns addressed by its HSCP code, as well as by its id, with the same scope:
another authority's code (or an unknown one) is 404."""

import pytest

from accounts.services import create_api_client
from tests.registers.api.conftest import client_with
from tests.reporting.conftest import CENSUS, build_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(authority, lead):
    _, token = create_api_client(lead, authority, name="Dashboard", scopes=["read"])
    return client_with(token)


def by_code(code, census_date=None):
    base = f"/api/v1/authorities/by-code/{code}/returns/"
    return f"{base}{census_date.isoformat()}/" if census_date else base


def test_a_client_reads_its_returns_by_hscp_code_as_by_id(reader, known_register, authority):
    build_return(authority)
    by_id = reader.get(f"/api/v1/authorities/{authority.pk}/returns/")
    coded = reader.get(by_code(authority.code))
    assert coded.status_code == 200
    assert coded.json() == by_id.json()
    detail = reader.get(by_code(authority.code, CENSUS))
    assert detail.status_code == 200
    assert detail.json()["authority"] == authority.code
    assert (
        detail.json()
        == reader.get(f"/api/v1/authorities/{authority.pk}/returns/{CENSUS.isoformat()}/").json()
    )


@pytest.mark.parametrize("code", ["S37000012", "S37999999", "not-a-code"])
def test_another_or_an_unknown_authoritys_code_is_404(reader, known_register, authority, code):
    from tests.factories import AuthorityFactory

    AuthorityFactory(code="S37000012", name="Edinburgh")
    build_return(authority)
    for url in (by_code(code), by_code(code, CENSUS)):
        response = reader.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "No such authority in your scope."


def test_another_authoritys_id_is_404_for_a_client(reader, known_register, other_authority):
    response = reader.get(f"/api/v1/authorities/{other_authority.pk}/returns/")
    assert response.status_code == 404


def test_staff_in_the_browser_read_returns_by_code_too(client, known_register, authority, viewer):
    build_return(authority)
    client.force_login(viewer)
    assert client.get(by_code(authority.code)).status_code == 200


@pytest.mark.parametrize("quarters", [1, 4])
def test_listing_returns_by_code_runs_a_constant_number_of_queries(
    reader, known_register, authority, quarters, django_assert_max_num_queries
):
    import datetime as dt

    from reporting.census import census_dates_between

    for day in list(census_dates_between(dt.date(2024, 10, 1), CENSUS))[-quarters:]:
        build_return(authority, day)
    with django_assert_max_num_queries(15):
        assert len(reader.get(by_code(authority.code)).json()) == quarters
