"""A lead creates an API client in the browser, copies its token once, and the token works; the
pages pass the accessibility check."""

import pytest
import requests

from tests.browser.conftest import VENDOR
from tests.browser.test_accessibility import RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_creates_an_api_client_and_its_token_reads_the_register(
    signed_in, lead, nithsdale, live_server, artifacts, settings
):
    settings.DSR_API_RATE = "1000/min"
    page = signed_in(lead, init_script=(VENDOR / "axe-core" / "axe.min.js").read_text())
    page.goto("/register/")
    page.get_by_role("link", name="API clients").click()
    assert page.evaluate(RUN_AXE) == []
    page.get_by_role("link", name="Create an API client").click()
    page.get_by_role("button", name="Create the client").click()
    page.wait_for_selector("#error-summary")
    assert page.evaluate(RUN_AXE) == []
    page.get_by_label("Name of the system").fill("Care First")
    page.locator("label[for=id_scopes_0]").click()  # the design system styles the label
    page.get_by_role("button", name="Create the client").click()
    token = page.get_by_label("Token").input_value()
    assert token.startswith("dsr_")
    assert page.evaluate(RUN_AXE) == []
    page.screenshot(path=str(artifacts / "api-client-token.png"), full_page=True)

    answer = requests.get(
        f"{live_server.url}/api/v1/localities/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert [loc["name"] for loc in answer.json()] == ["Nithsdale"]

    page.goto("/staff/api-clients/")
    assert token not in page.content()
    page.get_by_role("link", name="Revoke Care First").click()
    assert page.evaluate(RUN_AXE) == []
    page.get_by_role("button", name="Yes, revoke Care First").click()
    page.screenshot(path=str(artifacts / "api-clients.png"), full_page=True)
    assert "Revoked" in page.content()
    refused = requests.get(
        f"{live_server.url}/api/v1/localities/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 401


def test_the_api_documentation_renders_from_local_assets(chromium, live_server, artifacts):
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(10000)
    outside = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Dynamic Support Register API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("text=/api/v1/people/bulk/")
    page.screenshot(path=str(artifacts / "api-docs.png"))
    context.close()
    assert outside == []
