"""National figures on screen: headline counts, trends and movement, read from built national
releases only (never the returns, never the disclosure audit in the request)."""

import csv
import datetime as dt
import random
import re

import pytest
from django.utils import timezone

from registers.models import Person
from reporting.builders import tabular
from reporting.census import previous_census_date
from reporting.documents import flat_columns, release_document
from reporting.figures import HEADLINES
from reporting.models import AuthorityReturn, JobKind
from reporting.tables import compute_tables
from tests.factories import AuthorityFactory
from tests.reporting.conftest import build_return, run
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


def publish(analyst, census, kind=JobKind.NATIONAL_CSV):
    """Build a national file as the worker does; its release is what the page shows."""
    job = run(kind, census_date=census, user=analyst)
    assert job.status == "done", job.error
    return job


def published(job):
    """The job's national CSV as {(table, row, column): value}."""
    text = job.output.open("rb").read().decode("utf-8-sig")
    return {
        (r["table"], r["row"], r["column"]): r["value"] for r in csv.DictReader(text.splitlines())
    }


def assert_screen_is_the_file(html, job):
    """Every headline figure on screen, Scotland's and each authority's, is the published CSV's."""
    values = published(job)
    for line, figure in enumerate(HEADLINES):
        _, _, (key, row) = figure
        table = next(t for t in job.release["tables"] if t["key"] == key)
        columns = flat_columns(table)
        single = len(table["columns"]) == 1
        if row is None:
            column, scotland = "Total", ("Total", "Total" if not single else table["columns"][0][1])
        else:
            index = [r for r, _ in table["rows"]].index(row)
            column = columns[index * len(table["columns"])]
            scotland = (table["rows"][index][1], table["columns"][0][1])
        expected = values[(f"Scotland: {table['title']}", *scotland)]
        assert cells(html, "Scotland")[line] == expected
        for ret in job.release["returns"]:
            label = f"{ret['code']} {ret['name']}"
            expected = values[(f"By authority: {table['title']}", label, column)]
            assert cells(html, ret["name"])[line] == expected


def page(client, census, suffix="figures/"):
    response = client.get(f"/reporting/national/{census.isoformat()}/{suffix}")
    assert response.status_code == 200
    return response.content.decode()


def cells(html, row_label):
    row = re.search(rf"<th scope=\"row\">{re.escape(row_label)}</th>(.*?)</tr>", html, re.S)
    return re.findall(r"<td>(?:<strong>)?([^<]*)", row.group(1))


def test_headline_counts_are_the_latest_release_and_equal_the_published_file(
    client, analyst, census
):
    accepted(AuthorityFactory(code="S37000101", name="Alpha"), census, enhanced(20))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(30))
    gamma = AuthorityFactory(code="S37000103", name="Gamma")
    accepted(gamma, census, enhanced(40), status="submitted")
    job = publish(analyst, census)
    client.force_login(analyst)
    html = page(client, census)
    # Submitted and accepted returns alike: the screen is the file, so no differencing.
    assert "<strong>3</strong> of" in html
    assert cells(html, "Scotland")[0] == "90"
    assert cells(html, "Alpha")[0] == "20"
    assert cells(html, "Gamma")[0] == "40"
    assert job.output.open("rb").read() == tabular.render_csv(release_document(job.release))
    assert_screen_is_the_file(html, job)
    # A return accepted after the build is not on screen until the files are built again.
    accepted(AuthorityFactory(code="S37000104", name="Delta"), census, enhanced(50))
    html = page(client, census)
    assert cells(html, "Scotland")[0] == "90" and 'row">Delta</th>' not in html
    assert "4 returns are now submitted or accepted" in html
    later = publish(analyst, census, JobKind.NATIONAL_XLSX)
    html = page(client, census)
    assert cells(html, "Scotland")[0] == "140" and cells(html, "Delta")[0] == "50"
    assert f"/reporting/jobs/{later.pk}/" in html


def test_small_counts_below_scotland_level_are_shown_suppressed_and_scotland_in_full(
    client, analyst, census
):
    alpha = AuthorityFactory(code="S37000101", name="Alpha")
    accepted(alpha, census, enhanced(20) + in_hospital(2))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(30) + in_hospital(9))
    job = publish(analyst, census)
    client.force_login(analyst)
    html = page(client, census)
    alpha = cells(html, "Alpha")
    in_hospital_column = 2
    assert alpha[in_hospital_column] == "c"
    assert cells(html, "Scotland")[in_hospital_column] == "11"
    for line in ("Alpha", "Beta"):
        assert not {v for v in cells(html, line) if v.isdigit() and 0 < int(v) < 5}
    assert_screen_is_the_file(html, job)


def test_trend_charts_have_a_data_table_and_skip_dates_without_a_release(client, analyst, census):
    earlier = previous_census_date(census)
    alpha = AuthorityFactory(code="S37000101", name="Alpha")
    beta = AuthorityFactory(code="S37000102", name="Beta")
    for authority, n in ((alpha, 7), (beta, 8)):
        accepted(authority, census, enhanced(10) + in_hospital(n))
    accepted(alpha, earlier, enhanced(10) + in_hospital(6))
    publish(analyst, census)
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
    assert f'<th scope="row">{earlier:%-d %B %Y}</th><td>-</td><td>No national release' in hospital
    assert 'role="img"' in html and "aria-labelledby" in html


def test_scotland_movement_shows_who_came_home_from_hospital(client, analyst, census):
    for code, home in (("S37000101", 3), ("S37000102", 4)):
        accepted(
            AuthorityFactory(code=code, name=code),
            census,
            enhanced(10),
            transitions={"in_hospital": {"enhanced_monitoring": home}},
        )
    publish(analyst, census)
    client.force_login(analyst)
    html = page(client, census)
    assert "Scotland: movement since the previous census date" in html
    assert cells(html, "Urgent: in hospital")[:2] == ["0", "7"]  # came in 0, went out 7
    assert "Not on the register (added since)" in html and "Left the register" in html


def test_a_date_without_a_release_says_so_with_the_build_action(client, analyst, census):
    alpha = AuthorityFactory(code="S37000101", name="Alpha")
    client.force_login(analyst)
    html = page(client, census)
    assert "No national release for this census date yet" in html
    assert "National files cannot be built yet: 0 of the authorities" in html
    assert "Build file" not in html
    accepted(alpha, census, enhanced(10))
    accepted(AuthorityFactory(code="S37000102", name="Beta"), census, enhanced(10))
    html = page(client, census)
    assert "No national release for this census date yet" in html
    assert f'action="/reporting/national/{census.isoformat()}/files/"' in html
    assert "Build file" in html
    assert 'row">Alpha</th>' not in html
    assert "No movement figures for this census date" in html


def test_the_national_figures_show_no_person_details(
    client, analyst, lead, other_lead, known_register, leith, authority, census
):
    from reporting import services

    # Names no page could hold by chance (a random surname can be an ordinary word or a place).
    for person in known_register:
        person.family_name = f"Surname{person.pk}q"
        Person.objects.filter(pk=person.pk).update(family_name=person.family_name)
    for user, where in ((lead, authority), (other_lead, leith.authority)):
        ret = services.submit_return(user, build_return(where))
        services.accept_return(analyst, ret)
    publish(analyst, census)
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


QUERIES = 9  # the session, user, scope, release, headlines, count: any size (no session save)


@pytest.mark.parametrize("authorities", [2, 12])
def test_national_figures_run_a_constant_number_of_queries(
    client, analyst, census, authorities, django_assert_num_queries
):
    earlier = previous_census_date(census)
    for n in range(authorities):
        authority = AuthorityFactory(code=f"S3700{n + 100:04d}", name=f"IA {n}")
        accepted(authority, census, enhanced(6 + n))
        accepted(authority, earlier, enhanced(5 + n))
    publish(analyst, census)
    publish(analyst, earlier)
    client.force_login(analyst)
    page(client, census)  # the session and the user are read once
    with django_assert_num_queries(QUERIES):
        html = page(client, census)
    assert html.count('<tr><th scope="row">IA ') == authorities


def test_the_lead_sees_their_own_movement_as_a_chart_and_table(
    client, lead, known_register, authority, census
):
    build_return(authority)
    client.force_login(lead)
    html = client.get(f"/reporting/{authority.pk}/{census.isoformat()}/").content.decode()
    assert "Dumfries and Galloway: movement since the previous census date" in html
    assert 'role="img"' in html
    assert "Not on the register (added since)" in html
