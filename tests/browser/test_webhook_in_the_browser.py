"""The webhook page of an API client in a real browser, at a phone's width (390 px) and a
desktop's: a long address and the deliveries table never make the page scroll sideways, axe-core
finds no serious violation, and removing asks first."""

import pytest

from accounts.services import create_api_client
from registers import webhooks
from registers.models import WebhookDelivery, WebhookEndpoint
from tests.browser.conftest import VENDOR
from tests.browser.test_accessibility import RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "https://case-management.dumfries-and-galloway.example.org/integrations/dsr/notices/" + (
    "x" * 120
)


@pytest.fixture
def care_first(lead, authority):
    client, _ = create_api_client(lead, authority, name="Care First", scopes=["read"])
    endpoint, _ = webhooks.register_endpoint(lead, client, url=LONG)
    for n, (status, code, error) in enumerate(
        [
            ("delivered", 200, ""),
            ("retrying", 502, "Answered 502."),
            ("failed", None, "No answer in time."),
        ]
    ):
        WebhookDelivery.objects.create(
            authority=authority,
            endpoint=endpoint,
            after=1000 + n,
            next=1001 + n,
            payload={},
            status=status,
            attempts=n + 1,
            last_status_code=code,
            last_error=error,
        )
    return client


def test_the_webhook_page_fits_a_phone_and_removing_asks_first(signed_in, lead, care_first):
    page = signed_in(lead, init_script=(VENDOR / "axe-core" / "axe.min.js").read_text())
    url = f"/staff/api-clients/{care_first.pk}/webhook/"
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(RUN_AXE) == []
    assert page.get_by_role(
        "table", name="Last deliveries to the webhook of Care First"
    ).is_visible()

    page.set_viewport_size({"width": 390, "height": 900})
    page.get_by_role("link", name="Remove the webhook of Care First").click()
    assert page.get_by_role(
        "heading", name="Are you sure you want to remove the webhook of Care First?"
    ).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Yes, remove the webhook").click()
    page.wait_for_url(f"**{url}")
    assert not WebhookEndpoint.objects.filter(removed_at__isnull=True).exists()
    page.get_by_label("Address").fill("https://cms.example.org/dsr")
    page.get_by_role("button", name="Register the webhook").click()
    assert page.get_by_label("Secret").input_value().startswith("whsec_")
