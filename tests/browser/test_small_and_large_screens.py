"""Every page, found from the URL configuration, at a phone's width (390 px) and a desktop's
(1280 px): the page never scrolls sideways (wide tables scroll inside their own box), the main
navigation can be reached (behind "Menu" on the phone), and axe-core finds no serious or critical
violation. Screenshots go to test-artifacts/screens/ (git-ignored) for people to look at."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from reporting.census import latest_census_date
from tests.browser.conftest import VENDOR
from tests.browser.test_accessibility import RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)
# Not pages: the API, the admin, and routes that only take a POST or give a file.
NOT_PAGES = re.compile(
    r"^(api|admin)|logout|/authority/$|/(remove|rotate|revoke|cancel|confirm|retry|submit|build|"
    r"decide|erase|download)/$|files/$|\.csv$|\(\?P|<slug:action>"
)


def _routes(patterns=None, prefix: str = "") -> list[str]:
    out = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            out += _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            out.append(prefix + str(p.pattern))
    return out


def _fill(route: str, ids: dict[str, int | str]) -> str:
    """The route with its parameters filled from `ids` by the words before them."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        key = f"{before}:{name}" if f"{before}:{name}" in ids else name
        if key not in ids:
            raise AssertionError(f"no value for <{name}> in {route}: add it to the test's ids")
        return str(ids[key])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def _ids(person, lead, practitioner, authority, census) -> dict[str, int | str]:
    return {
        "people:pk": person.pk,
        "person_id": person.pk,
        "staff:pk": practitioner.pk,
        "localities:pk": person.locality_id,
        "authority_id": authority.pk,
        "census_date": census.isoformat(),
        "uidb64": "MQ",
        "token": "set-password",
        "organisation-sign-in:slug": "no-such-organisation",
        # Objects this test does not make: their pages answer 404, which is checked too.
        "transfers:pk": 987654,
        "imports:pk": 987654,
        "returns:pk": 987654,
        "jobs:pk": 987654,
        "national:pk": lead.pk,
        "pk": 987654,
    }


def _check(page, path: str, width: int, artifacts) -> list[str]:
    problems = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"scrolls sideways: {scroll} px wide")
    if page.locator(".ds_site-navigation").count():
        nav = "#mobile-navigation" if width < 768 else ".ds_site-header__navigation"
        if width < 768:
            page.get_by_role("button", name="Menu").click()
        if not page.locator(f"{nav} a").first.is_visible():
            problems.append("main navigation out of reach")
        if width < 768:
            page.get_by_role("button", name="Menu").click()
    problems += page.evaluate(RUN_AXE)
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    page.screenshot(path=str(artifacts / f"{name}-{width}.png"), full_page=True)
    return problems


def test_every_page_fits_a_phone_and_a_desktop_with_navigation_and_no_serious_violations(
    signed_in, lead, practitioner, analyst, varied_register, authority, artifacts
):
    person = varied_register
    census = latest_census_date(dt.date.today())
    ids = _ids(person, lead, practitioner, authority, census)
    paths = sorted({_fill(r, ids) for r in _routes() if not NOT_PAGES.search(r)})
    screens = artifacts / "screens"
    screens.mkdir(exist_ok=True)
    axe = (VENDOR / "axe-core" / "axe.min.js").read_text()
    pages = [signed_in(user, init_script=axe) for user in (lead, analyst)]
    problems, shown = {}, set()
    for width in WIDTHS:
        for page in pages:
            page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            for page in pages:
                response = page.goto(path)
                if response.status == 200 and "text/html" in response.headers["content-type"]:
                    break
            found = _check(page, path, width, screens)
            if found:
                problems[(path, width)] = found
            shown.add(path)
    assert problems == {}
    assert {"/register/", f"/register/people/{person.pk}/", "/staff/", "/reporting/"} <= shown
