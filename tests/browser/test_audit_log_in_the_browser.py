"""The audit log at 1280 px: every column in view (none cut off), events as sentences."""

import pytest

from registers.audit import AuditAction, client_ip, record_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_audit_log_shows_every_column_at_1280_px(signed_in, lead, person, artifacts):
    token = client_ip.set("2001:0db8:85a3:0000:0000:8a2e:0370:7334")
    try:
        record_event(
            lead,
            AuditAction.PERSON_DETAILS,
            obj=person,
            changes={
                "key_worker_contact": ["", "someone.with.a.long.address@example.scot.nhs.uk"],
                "lead_professional_team": ["", "Community learning disability team " * 3],
            },
        )
    finally:
        client_ip.reset(token)
    page = signed_in(lead)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/register/audit/")
    table = page.locator("table.dsr-audit")
    assert page.get_by_text("Updated a person's details").first.is_visible()
    box = page.locator(".dsr-results .dsr-table-scroll")
    widths = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], f"the table is cut off: {widths}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    headers = table.locator("thead th")
    for i in range(headers.count()):
        assert headers.nth(i).is_visible()
    page.screenshot(path=str(artifacts / "audit-log-1280.png"), full_page=True)
