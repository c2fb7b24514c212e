"""The national analyst's journey with the demo data, in Chromium: sign in with the password
and the authenticator code, land on the national page, accept a submitted return after reading
it, build the national CSV of an earlier census date and download it. The demo code seeds three
authorities (enough for a national release, and quick to seed) and builds their returns from the
seeded history, as `make run` does."""

import csv
import io

import pytest
from django.db import transaction
from django.utils.formats import date_format

from dsr.celery import app
from registers import access, demo
from registers.authorities import AUTHORITIES
from registers.models import IntegrationAuthority
from reporting import demo as reporting_demo
from reporting.census import previous_census_date
from reporting.models import AuthorityReturn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THREE = [code for code, _name, _weight in AUTHORITIES[:3]]


@pytest.fixture
def demo_returns():
    with transaction.atomic(), access.system_scope("test: three demo authorities"):
        IntegrationAuthority.objects.exclude(code__in=THREE).delete()
        for code, name, _weight in AUTHORITIES[:3]:
            IntegrationAuthority.objects.get_or_create(code=code, defaults={"name": name})
    demo.seed(scale=0.1)
    reporting_demo.seed_returns()


@pytest.fixture
def jobs_run_at_once():
    """The live server's build runs in its request, as a worker would run it a moment later."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = eager


def test_the_analyst_signs_in_decides_a_return_and_downloads_the_national_file(
    chromium, live_server, demo_returns, jobs_run_at_once, artifacts
):
    context = chromium.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/")
    page.fill("#id_username", demo.NATIONAL_ANALYST_EMAIL)
    page.locator("main").get_by_role("button", name="Continue").click()
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.fill("#id_code", demo.demo_totp_code())
    page.locator("main form").first.get_by_role("button").first.click()

    page.wait_for_url("**/reporting/national/**")
    assert page.get_by_role("heading", name="National return").is_visible()

    # A submitted return: the analyst reads its tables, then accepts it after confirming.
    submitted = AuthorityReturn.objects.filter(status="submitted").count()
    if submitted:
        page.get_by_role("link", name="Review the return and decide").first.click()
        page.locator("main").get_by_role("button", name="Accept").click()
        page.locator("main").get_by_role("button", name="Yes, accept").click()
        page.wait_for_load_state()
        assert AuthorityReturn.objects.filter(status="submitted").count() == submitted - 1

    # The latest census date still waits for returns (its page says so, with no Build button):
    # the previous one, all accepted, builds.
    page.get_by_role("link", name="Back to census returns").click()
    previous = previous_census_date(AuthorityReturn.objects.latest("census_date").census_date)
    page.get_by_role("link", name=date_format(previous, "j F Y"), exact=True).first.click()
    page.locator("input[name=kind][value=national_csv]").check()
    page.get_by_role("button", name="Build file").click()
    link = page.get_by_role("link", name="Download")
    link.first.wait_for()
    with page.expect_download() as download:
        link.first.click()
    path = artifacts / "national.csv"
    download.value.save_as(path)
    page.screenshot(path=str(artifacts / "national-journey.png"), full_page=True)

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    text = "\n".join(",".join(row) for row in rows)
    assert "Scotland" in text
    # Aggregates only: nothing about a person, ever.
    for person_word in ("DEMO-", "@demo.dsr.scot"):
        assert person_word not in text
