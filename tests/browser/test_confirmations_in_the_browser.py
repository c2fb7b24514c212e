"""Every irreversible action asks first, with the design system's warning button: going back
leaves everything as it was, confirming does it."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from accounts.models import ApiClient, Membership
from accounts.services import create_api_client
from registers import services
from registers.models import Person
from reporting.models import JobKind
from tests.browser.conftest import VENDOR
from tests.browser.test_accessibility import RUN_AXE
from tests.factories import PersonFactory
from tests.reporting.conftest import CENSUS, run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARNING = "ds_button--cancel"  # the design system's red, destructive button


@pytest.fixture
def signed_in(signed_in):
    """Pages that carry axe-core, so each confirmation page is checked for accessibility."""
    axe = (VENDOR / "axe-core" / "axe.min.js").read_text()
    return lambda user: signed_in(user, init_script=axe)


def settled(page, gone: str) -> None:
    """The confirmation page has gone and the next page (and its htmx parts) has loaded, so the
    test's database is not flushed under a request still in flight."""
    expect(page.get_by_role("button", name=gone)).to_have_count(0)
    page.wait_for_load_state("networkidle")


def confirm_button(page, name: str):
    button = page.get_by_role("button", name=name)
    expect(button).to_be_visible()
    assert WARNING in button.get_attribute("class")
    assert page.evaluate(RUN_AXE) == []
    return button


def test_submitting_a_return_is_confirmed_and_leaves_no_empty_heading(
    signed_in, lead, authority, nithsdale, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    PersonFactory(locality=nithsdale, date_added=dt.date(2025, 1, 1))
    job = run(JobKind.AUTHORITY_RETURN, authority=authority, census_date=CENSUS)
    assert job.status == "done", job.error
    ret = authority.returns.get(census_date=CENSUS)
    page = signed_in(lead)
    page.goto(f"/reporting/{authority.pk}/{CENSUS.isoformat()}/")

    page.get_by_role("button", name="Submit to the national team").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Are you sure")
    confirm_button(page, "Yes, submit the return")
    page.get_by_role("link", name="No, go back to the return").click()
    ret.refresh_from_db()
    assert ret.status == "draft"

    page.get_by_role("button", name="Submit to the national team").click()
    confirm_button(page, "Yes, submit the return").click()
    settled(page, "Yes, submit the return")
    expect(page.get_by_text("Return submitted to the national team.")).to_be_visible()
    ret.refresh_from_db()
    assert ret.status == "submitted"
    expect(page.get_by_role("heading", name="Build and submit")).to_have_count(0)


def test_removing_a_staff_member_is_confirmed(signed_in, lead, practitioner, authority):
    membership = Membership.objects.get(user=practitioner, authority=authority)
    page = signed_in(lead)
    page.goto(f"/staff/{membership.pk}/")

    page.get_by_role("button", name=f"Remove {practitioner} from staff").click()
    confirm_button(page, f"Yes, remove {practitioner}")
    page.get_by_role("link", name="No, keep them on the staff").click()
    assert Membership.objects.filter(pk=membership.pk).exists()

    page.get_by_role("button", name=f"Remove {practitioner} from staff").click()
    confirm_button(page, f"Yes, remove {practitioner}").click()
    settled(page, f"Yes, remove {practitioner}")
    expect(page.get_by_text("was removed from your staff")).to_be_visible()
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_removing_a_person_from_the_register_is_confirmed(signed_in, lead, person):
    page = signed_in(lead)

    def fill_in():
        page.goto(f"/register/people/{person.pk}/leave/")
        left = page.get_by_role("group", name="Date the person left the register")
        left.get_by_label("Day").fill("1")
        left.get_by_label("Month").fill("2")
        left.get_by_label("Year").fill("2025")
        page.locator("label", has_text="Died").click()
        page.get_by_role("button", name="Continue").click()

    fill_in()
    confirm_button(page, "Yes, remove from the register")
    page.get_by_role("link", name="No, keep them on the register").click()
    person.refresh_from_db()
    assert person.date_left is None

    fill_in()
    confirm_button(page, "Yes, remove from the register").click()
    settled(page, "Yes, remove from the register")
    person.refresh_from_db()
    assert person.date_left is not None
    assert (person.date_left, person.leaving_reason) == (dt.date(2025, 2, 1), "died")


def test_revoking_an_api_client_is_confirmed(signed_in, lead, authority):
    client, _ = create_api_client(lead, authority, name="Care First", scopes=["read"])
    page = signed_in(lead)
    page.goto("/staff/api-clients/")

    page.get_by_role("link", name="Revoke Care First").click()
    confirm_button(page, "Yes, revoke Care First")
    page.get_by_role("link", name="No, keep it").click()
    assert ApiClient.objects.get(pk=client.pk).is_active

    page.get_by_role("link", name="Revoke Care First").click()
    confirm_button(page, "Yes, revoke Care First").click()
    settled(page, "Yes, revoke Care First")
    assert not ApiClient.objects.get(pk=client.pk).is_active


@pytest.fixture
def transfer(lead, person, other_authority):
    return services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Family moved"
    )


def test_accepting_a_transfer_is_confirmed(signed_in, other_lead, other_authority, leith, transfer):
    page = signed_in(other_lead)

    def fill_in():
        page.goto(f"/register/transfers/{transfer.pk}/")
        page.get_by_label("Locality on your register").select_option(label="Leith")
        page.get_by_label("Local reference on your register").fill("ED-9")
        page.get_by_role("button", name="Accept onto our register").click()

    fill_in()
    confirm_button(page, "Yes, accept onto our register")
    page.get_by_role("link", name="No, go back to the transfer").click()
    transfer.refresh_from_db()
    assert transfer.is_pending
    assert not Person.objects.filter(authority=other_authority).exists()

    fill_in()
    confirm_button(page, "Yes, accept onto our register").click()
    settled(page, "Yes, accept onto our register")
    expect(page.get_by_role("heading", level=1)).to_contain_text(transfer.person.family_name)
    assert Person.objects.get(authority=other_authority).local_reference == "ED-9"


def test_declining_a_transfer_is_confirmed(signed_in, other_lead, transfer):
    page = signed_in(other_lead)

    def fill_in():
        page.goto(f"/register/transfers/{transfer.pk}/")
        page.get_by_label("Why are you declining?").fill("No placement here")
        page.get_by_role("button", name="Decline the transfer").click()

    fill_in()
    confirm_button(page, "Yes, decline the transfer")
    page.get_by_role("link", name="No, go back to the transfer").click()
    transfer.refresh_from_db()
    assert transfer.is_pending

    fill_in()
    confirm_button(page, "Yes, decline the transfer").click()
    settled(page, "Yes, decline the transfer")
    expect(page.get_by_text("The transfer was declined.")).to_be_visible()
    transfer.refresh_from_db()
    assert not transfer.is_pending
