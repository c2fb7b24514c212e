"""Printing the register list and the person page: no navigation, buttons or forms, and tables
whole (not clipped by their scroll boxes)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HIDDEN_IN_PRINT = [
    ".ds_site-navigation",
    ".ds_site-footer",
    ".ds_phase-banner",
    ".dsr-account",
    "form",
    "button",
    ".ds_button",
]


def assert_printable(page) -> None:
    for selector in HIDDEN_IN_PRINT:
        for element in page.locator(selector).all():
            expect(element).to_be_hidden()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('.dsr-table-scroll, .dsr-results')]
            .filter((box) => box.scrollWidth > box.clientWidth + 1).length"""
    )
    assert clipped == 0


def test_the_register_list_prints_without_chrome_and_with_whole_tables(
    signed_in, practitioner, nithsdale, artifacts
):
    for n in range(8):
        PersonFactory(
            locality=nithsdale,
            family_name=f"Longfamilyname-Hyphenated-{n}",
            local_reference=f"DG-2025-LONGREF-{n:04}",
        )
    page = signed_in(practitioner)
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto("/register/")
    expect(page.get_by_role("button", name="Print this list")).to_be_visible()
    expect(page.get_by_text("Printed from the Dynamic Support Register")).to_be_hidden()
    page.emulate_media(media="print")
    assert_printable(page)
    expect(page.locator("#results table")).to_be_visible()
    expect(page.locator(".dsr-col-actions").first).to_be_hidden()
    expect(page.get_by_text("Printed from the Dynamic Support Register")).to_be_visible()
    page.pdf(path=str(artifacts / "register-list-print.pdf"))


def test_the_person_page_prints_without_actions_or_forms(signed_in, lead, nithsdale, artifacts):
    person = PersonFactory(locality=nithsdale)
    page = signed_in(lead)
    page.set_viewport_size({"width": 794, "height": 1123})
    page.goto(f"/register/people/{person.pk}/")
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    expect(page.get_by_text("Printed from the Dynamic Support Register")).to_be_hidden()
    page.emulate_media(media="print")
    assert_printable(page)
    expect(page.locator("#actions-title")).to_be_hidden()
    expect(page.get_by_role("heading", name="Identity")).to_be_visible()
    expect(page.get_by_text("Printed from the Dynamic Support Register")).to_be_visible()
    expect(page.locator("#timeline")).to_be_visible()
    page.pdf(path=str(artifacts / "person-page-print.pdf"))
