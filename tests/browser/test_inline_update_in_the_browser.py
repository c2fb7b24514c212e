"""After an inline (htmx) status update, focus and scroll go to the change and a live region
announces it: on the person page and in a register list row."""

import pytest
from playwright.sync_api import expect

from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(scope, label: str) -> None:
    scope.locator("label", has_text=label).click()
    expect(scope.get_by_label(label, exact=True)).to_be_checked()


def wait_in_viewport(page, selector: str) -> None:
    """Wait until the element is wholly on screen (scrolling may be smooth, so not at once)."""
    page.wait_for_function(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }""",
        arg=selector,
        timeout=3000,
    )


def test_an_inline_update_on_the_person_page_is_focused_shown_and_announced(
    signed_in, practitioner, nithsdale, artifacts
):
    person = PersonFactory(locality=nithsdale, given_name="Iona", family_name="Grant")
    page = signed_in(practitioner)
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"/register/people/{person.pk}/")
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#quick-update summary").click()
    form = page.locator("#quick-update form")
    choose(form, "Red: breakdown likely without immediate action")
    form.get_by_label("Reason for the change").fill("Provider has given notice")
    form.get_by_role("button", name="Save status").click()

    change = page.locator("#status-updated")
    expect(change).to_be_focused()
    expect(change).to_contain_text("Status updated for Iona Grant")
    expect(page.locator("#dsr-announcer")).to_have_text(
        "Status updated for Iona Grant: Enhanced monitoring, risk of breakdown red."
    )
    assert page.locator("#dsr-announcer").get_attribute("aria-live") == "polite"
    wait_in_viewport(page, "#status-updated")
    # The new entry joined the timeline further down, without a reload.
    expect(page.locator("#timeline")).to_contain_text("Why: Provider has given notice")
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=str(artifacts / "person-inline-update.png"), full_page=True)


def test_an_inline_update_in_the_list_focuses_and_announces_the_row(
    signed_in, practitioner, nithsdale
):
    person = PersonFactory(locality=nithsdale, given_name="Ewan", family_name="Ross")
    page = signed_in(practitioner)
    page.goto("/register/")
    page.get_by_role("link", name="Update status for Ewan Ross").click()
    row = page.locator(f"#person-{person.pk}")
    choose(row, "Amber: at risk without extra support soon")
    row.get_by_label("Reason for the change").fill("Carer unwell")
    row.get_by_role("button", name="Save status").click()
    expect(row).to_be_focused()
    expect(page.locator("#dsr-announcer")).to_contain_text("Status updated for Ewan Ross")
