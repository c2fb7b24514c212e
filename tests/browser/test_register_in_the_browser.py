import datetime as dt

import pytest
from playwright.sync_api import expect

from registers.models import Person
from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(scope, label: str) -> None:
    """Pick a radio button as a user does: by clicking its label (the design system styles the
    label over the input)."""
    scope.locator("label", has_text=label).click()
    expect(scope.get_by_label(label, exact=True)).to_be_checked()


def test_a_lead_adds_a_person_and_a_practitioner_updates_their_rating_from_the_list(
    signed_in, lead, practitioner, nithsdale, artifacts
):
    page = signed_in(lead)
    page.goto("/register/add/")
    page.get_by_label("Given name").fill("Morag")
    page.get_by_label("Family name").fill("Fraser")
    born = page.get_by_role("group", name="Date of birth")
    born.get_by_label("Day").fill("17")
    born.get_by_label("Month").fill("5")
    born.get_by_label("Year").fill("1990")
    choose(page, "Female")
    page.get_by_label("Local reference").fill("DG-100")
    page.get_by_label("Locality", exact=True).select_option(label="Nithsdale")
    page.get_by_label("Referral source").select_option("health")
    # Hospital and placement sections show only when they apply.
    choose(page, "Urgent: in hospital")
    expect(page.get_by_label("Hospital name")).to_be_visible()
    expect(page.get_by_label("Host area")).to_be_hidden()
    choose(page, "Enhanced monitoring")
    expect(page.get_by_label("Hospital name")).to_be_hidden()
    choose(page, "Amber: at risk without extra support soon")
    page.get_by_role("button", name="Add to the register").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Morag Fraser")
    person = Person.objects.get(local_reference="DG-100")

    page = signed_in(practitioner)
    page.goto("/register/")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("link", name="Update status for Morag Fraser").click()
    row = page.locator(f"#person-{person.pk}")
    choose(row, "Red: breakdown likely without immediate action")
    row.get_by_label("Reason for the change").fill("Provider has given notice")
    row.get_by_role("button", name="Save status").click()
    expect(row.get_by_text("Updated")).to_be_visible()
    expect(row.locator(".dsr-rag")).to_have_text("Red")
    assert page.evaluate("window.stillTheSamePage") is True

    page.get_by_role("link", name="Morag Fraser", exact=True).click()
    timeline = page.locator(".dsr-timeline")
    expect(timeline).to_contain_text("Risk of breakdown: Amber to Red")
    expect(timeline).to_contain_text("Why: Provider has given notice")
    page.screenshot(path=str(artifacts / "person-page.png"), full_page=True)


def test_filters_and_search_narrow_the_list_without_a_reload(
    signed_in, lead, nithsdale, stewartry, artifacts
):
    PersonFactory(locality=nithsdale, family_name="Anderson", local_reference="A-1")
    PersonFactory(locality=nithsdale, family_name="Baxter", local_reference="B-1", at_risk=True)
    PersonFactory(locality=stewartry, family_name="Campbell", in_hospital=True)
    page = signed_in(lead)
    page.goto("/register/")
    page.screenshot(path=str(artifacts / "register-list.png"), full_page=True)
    page.evaluate("window.stillTheSamePage = true")
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(3)

    page.get_by_label("Name, local reference or CHI number").fill("baxt")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Baxter")
    assert "q=baxt" in page.url

    page.get_by_label("Name, local reference or CHI number").fill("")
    expect(results).to_have_count(3)
    page.get_by_text("More filters").click()  # category and the rest sit under the search
    page.locator("#id_category").select_option("urgent")
    expect(results).to_have_count(2)
    page.locator("#id_hospital").select_option("in_hospital")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Campbell")
    assert page.evaluate("window.stillTheSamePage") is True


def test_filters_work_with_javascript_off(chromium, live_server, lead, nithsdale):
    from django.conf import settings
    from django.test import Client

    PersonFactory(locality=nithsdale, family_name="Anderson")
    PersonFactory(locality=nithsdale, family_name="Baxter", at_risk=True)
    client = Client()
    client.force_login(lead)
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto("/register/")
    page.get_by_text("More filters").click()
    page.locator("#id_category").select_option("urgent")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert "category=urgent" in page.url
    context.close()


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Could not reach {selector} with the Tab key")


def test_the_add_person_form_can_be_completed_with_the_keyboard_alone(signed_in, lead, nithsdale):
    page = signed_in(lead)
    page.goto("/register/add/")
    # The skip link comes first and jumps to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")

    # Submitting empty moves focus to the error summary, whose links lead to the fields.
    tab_to(page, "button[type=submit].ds_button:not(.ds_button--small)")
    page.keyboard.press("Enter")
    expect(page.locator("#error-summary")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_given_name"

    page.keyboard.type("Ewan")
    tab_to(page, "#id_family_name")
    page.keyboard.type("Munro")
    tab_to(page, "#id_date_of_birth_day")
    page.keyboard.type("02")
    page.keyboard.press("Tab")
    page.keyboard.type("03")
    page.keyboard.press("Tab")
    page.keyboard.type("1985")
    tab_to(page, "[name=sex]")
    page.keyboard.press("Space")  # the first option, Male
    tab_to(page, "#id_local_reference")
    page.keyboard.type("KB-1")
    tab_to(page, "#id_locality")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#id_referral_source")
    page.keyboard.press("ArrowDown")
    tab_to(page, "[name=status]")
    for _ in range(3):  # Urgent: in hospital -> ... -> Enhanced monitoring
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "enhanced_monitoring"
    tab_to(page, "[name=risk_rating]")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit].ds_button:not(.ds_button--small)")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ewan Munro")
    person = Person.objects.get(local_reference="KB-1")
    assert (person.sex, person.category, person.date_of_birth) == (
        "male",
        "enhanced_monitoring",
        dt.date(1985, 3, 2),
    )
