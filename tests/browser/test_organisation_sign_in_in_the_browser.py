"""Signing in with the organisation's account in Chromium, through the real redirect flow: the
service's sign-in page, the provider's own page (tests/oidc/provider.mjs), and back."""

import re

import pytest

from registers.models import AuditEvent
from tests.factories import make_member
from tests.oidc import DOMAIN, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_signs_in_with_the_organisation_and_signs_out_of_both(
    chromium, live_server, organisation, identity_provider, authority, artifacts
):
    identity_provider.trusts_provider_mfa = True
    identity_provider.save()
    lead = make_member(authority, "lead", email=f"ola.lead@{DOMAIN}")
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(10000)
    page = context.new_page()

    page.goto("/accounts/login/?next=/staff/")
    page.get_by_label("Email").fill(lead.email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Sign in with Test Health Board").click()

    # The provider's own page, with the email's account already chosen (login_hint).
    page.wait_for_url(re.compile(re.escape(organisation.issuer) + "/interaction/"))
    assert page.get_by_label("Username").input_value() == "ola.lead"
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in to the test organisation").click()

    # Back at the service, signed in, past the second factor (the organisation's counted).
    page.wait_for_url(f"{live_server.url}/staff/")
    assert page.locator("h1").inner_text().startswith("Staff")
    page.screenshot(path=str(artifacts / "organisation-sign-in.png"))
    assert AuditEvent.objects.filter(action="login", actor=lead).get().changes["provider"] == (
        "Test Health Board"
    )

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You have signed out").wait_for()
    page.get_by_role("link", name="Sign out of Test Health Board too").click()
    # oidc-provider asks whether to sign out there too; yes, then back to the sign-in page.
    page.wait_for_url(re.compile(re.escape(organisation.issuer) + "/session/end"))
    page.get_by_role("button", name=re.compile("Yes", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + "/accounts/login/"))
    page.goto("/staff/")
    assert "/accounts/login/" in page.url
    context.close()
