"""National figures on screen: headline counts, trends and movement, from accepted returns."""

import datetime as dt
import random
import re

import pytest
from django.utils import timezone

from reporting.census import previous_census_date
from reporting.models import AuthorityReturn
from reporting.tables import compute_tables
from tests.factories import AuthorityFactory
from tests.reporting.conftest import build_return
from tests.reporting.linked_tables import person_row

pytestmark = pytest.mark.django_db


def accepted(authority, census, rows, *, status="accepted", transitions=None):
    movement = {"added": 0, "left": {}, "moved_between_categories": 0}
    if transitions is not None:
        movement["transitions"] = transitions
    return AuthorityReturn.objects.create(
        authority=authority,
        census_date=census,
        status=status,
        submitted_at=timezone.now(),
        tables=compute_tables(rows, census, movement),
    )


def enhanced(n):
    rng = random.Random(n)
    return [person_row(rng, in_hospital_share=0) | {"category": "enhanced_monitoring"}] * n


def in_hospital(n):
    row = {
        "age": 40,
        "sex": "male",
        "category": "urgent",
        "urgent_reason": "in_hospital",
        "admission_date": dt.date(2024, 1, 1),
        "ready_for_discharge_date": None,
        "hospital_type": "ld_inpatient",
        "delay_reason": "",
        "host_area": "",
    }
    return [row] * n


def page(client, census, suffix="figures/"):
    response = client.get(f"/reporting/national/{census.isoformat()}/{suffix}")
    assert response.status_code == 200
    return response.content.decode()


def cells(html, row_label):
    row = re.search(rf"<th scope=\"row\">{re.escape(row_label)}</th>(.*?)</tr>", html, re.S)
    return re.findall(r"<td>(?:<strong>)?([^<]*)", row.group(1))


def test_headline_counts_come_from_accepted_returns_only(client, analyst, census):
    accepted(AuthorityFactory(code="S37000101", name="Alpha"), census, enhanced(20))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(30))
    accepted(
        AuthorityFactory(code="S37000103", name="Gamma"),
        census,
        enhanced(40),
        status="submitted",
    )
    client.force_login(analyst)
    html = page(client, census)
    assert "<strong>2</strong> of" in html
    assert cells(html, "Scotland")[0] == "50"
    assert cells(html, "Alpha")[0] == "20"
    assert "No accepted return" in html.split('row">Gamma</th>')[1].split("</tr>")[0]


def test_small_counts_below_scotland_level_are_shown_suppressed_and_scotland_in_full(
    client, analyst, census
):
    alpha = AuthorityFactory(code="S37000101", name="Alpha")
    accepted(alpha, census, enhanced(20) + in_hospital(2))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(30) + in_hospital(9))
    client.force_login(analyst)
    html = page(client, census)
    alpha = cells(html, "Alpha")
    in_hospital_column = 2
    assert alpha[in_hospital_column] == "c"
    assert cells(html, "Scotland")[in_hospital_column] == "11"
    for line in ("Alpha", "Beta"):
        assert not {v for v in cells(html, line) if v.isdigit() and 0 < int(v) < 5}


def test_trend_charts_have_a_data_table_and_skip_dates_with_too_few_accepted_returns(
    client, analyst, census
):
    earlier = previous_census_date(census)
    alpha = AuthorityFactory(code="S37000101", name="Alpha")
    beta = AuthorityFactory(code="S37000102", name="Beta")
    for authority, n in ((alpha, 7), (beta, 8)):
        accepted(authority, census, enhanced(10) + in_hospital(n))
    accepted(alpha, earlier, enhanced(10) + in_hospital(6))
    client.force_login(analyst)
    html = page(client, census)
    for title in (
        "In hospital",
        "Delayed discharge",
        "Inappropriately out of area",
        "At risk of breakdown",
    ):
        assert f"{title}: Scotland, by census date: data" in html
        assert '<title id="trend-' in html
    hospital = html.split("<caption>In hospital: Scotland, by census date: data")[1]
    hospital = hospital.split("</table>")[0]
    assert f'<th scope="row">{census:%-d %B %Y}</th><td>2</td><td>15</td>' in hospital
    assert f'<th scope="row">{earlier:%-d %B %Y}</th><td>1</td><td>No figure' in hospital
    assert 'role="img"' in html and "aria-labelledby" in html


def test_scotland_movement_shows_who_came_home_from_hospital(client, analyst, census):
    for code, home in (("S37000101", 3), ("S37000102", 4)):
        accepted(
            AuthorityFactory(code=code, name=code),
            census,
            enhanced(10),
            transitions={"in_hospital": {"enhanced_monitoring": home}},
        )
    client.force_login(analyst)
    html = page(client, census)
    assert "Scotland: movement since the previous census date" in html
    assert cells(html, "Urgent: in hospital")[:2] == ["0", "7"]  # came in 0, went out 7
    assert "Not on the register (added since)" in html and "Left the register" in html


def test_the_page_says_what_to_do_when_no_returns_are_accepted(client, analyst, census):
    AuthorityFactory(code="S37000101", name="Alpha")
    client.force_login(analyst)
    html = page(client, census)
    assert "No national figures yet for this census date" in html
    assert "No movement figures for this census date yet" in html


def test_the_national_figures_show_no_person_details(
    client, analyst, lead, other_lead, known_register, leith, authority, census
):
    from reporting import services

    for user, where in ((lead, authority), (other_lead, leith.authority)):
        ret = services.submit_return(user, build_return(where))
        services.accept_return(analyst, ret)
    client.force_login(analyst)
    html = page(client, census)
    assert "Dumfries and Galloway" in html
    for person in known_register:
        for detail in (person.family_name, person.local_reference, person.chi_number):
            if detail:
                assert detail not in html
        assert person.date_of_birth.strftime("%-d %B %Y") not in html


def test_staff_cannot_open_the_national_figures(client, lead, census):
    client.force_login(lead)
    assert client.get(f"/reporting/national/{census.isoformat()}/figures/").status_code == 404


@pytest.mark.parametrize("authorities", [2, 12])
def test_national_figures_run_a_constant_number_of_queries(
    client, analyst, census, authorities, django_assert_max_num_queries
):
    earlier = previous_census_date(census)
    for n in range(authorities):
        authority = AuthorityFactory(code=f"S3700{n + 100:04d}", name=f"IA {n}")
        accepted(authority, census, enhanced(6 + n))
        accepted(authority, earlier, enhanced(5 + n))
    client.force_login(analyst)
    with django_assert_max_num_queries(12):
        page(client, census)


def test_the_lead_sees_their_own_movement_as_a_chart_and_table(
    client, lead, known_register, authority, census
):
    build_return(authority)
    client.force_login(lead)
    html = client.get(f"/reporting/{authority.pk}/{census.isoformat()}/").content.decode()
    assert "Dumfries and Galloway: movement since the previous census date" in html
    assert 'role="img"' in html
    assert "Not on the register (added since)" in html
