"""Browser tests: Playwright's Python package driving Debian's Chromium (never a downloaded one).

They need the front-end assets (`bash scripts/assets.sh`) and /usr/bin/chromium
(`bash scripts/browser.sh`); `make test` runs both first.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from registers import services
from tests.factories import PersonFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
VENDOR = Path(settings.BASE_DIR) / "static" / "vendor"


@pytest.fixture(scope="module")
def chromium():
    # Module scope: while Playwright runs, this thread has an event loop, which Django's
    # async-safety check would hold against every later (non-browser) test.
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `bash scripts/browser.sh` (or `make test`).")
    if not (VENDOR / "htmx" / "htmx.min.js").exists():
        pytest.fail("Front-end assets are missing: run `bash scripts/assets.sh` (or `make test`).")
    from playwright.sync_api import sync_playwright

    # The ORM calls these tests make themselves (arranging data, checking results) are still
    # synchronous and safe; the setting is lifted when the module's browser stops.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in(chromium, live_server):
    """`signed_in(user)` -> a page in a fresh browser context with that user's session."""
    contexts = []

    def open_as(user, *, init_script: str | None = None):
        client = Client()
        client.force_login(user)
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(5000)
        if init_script:
            context.add_init_script(init_script)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def varied_register(lead, nithsdale):
    """People in hospital (delayed), at risk and appropriately out of area, the first reviewed
    today: every kind of row and badge the pages draw. Returns the person in hospital."""
    person = PersonFactory(
        locality=nithsdale, in_hospital=True, ready_for_discharge_date=dt.date(2024, 3, 1)
    )
    PersonFactory(locality=nithsdale, at_risk=True)
    PersonFactory(locality=nithsdale, appropriate_out_of_area=True)
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=dt.date.today(),
        attendees="Team",
        outcome="Stable",
    )
    return person
