"""Transfers between authorities from the pages: request, decide, cancel."""

import pytest

from registers import services
from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_a_transfer_is_requested_accepted_and_shows_on_both_sides(
    client, lead, other_lead, person, other_authority, leith
):
    client.force_login(lead)
    client.post(
        f"/register/people/{person.pk}/transfer/",
        {"to_authority": other_authority.pk, "reason": "Family moved", "version": 1},
    )
    assert "waiting for their lead" in client.get(f"/register/people/{person.pk}/").content.decode()
    transfer = person.transfers.get()
    client.force_login(other_lead)
    assert person.family_name in client.get("/register/transfers/").content.decode()
    decision = {"decision": "accept", "locality": leith.pk, "local_reference": "ED-9"}
    page = client.post(f"/register/transfers/{transfer.pk}/", decision).content.decode()
    assert "Are you sure you want to accept" in page
    assert not Person.objects.filter(authority=other_authority).exists()
    response = client.post(f"/register/transfers/{transfer.pk}/", decision | {"confirmed": "yes"})
    new = Person.objects.get(authority=other_authority)
    assert response.url == f"/register/people/{new.pk}/"
    person.refresh_from_db()
    assert person.leaving_reason == "transferred_to_other_ia"


def test_declining_a_transfer_needs_a_reason(client, lead, other_lead, person, other_authority):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(other_lead)
    response = client.post(f"/register/transfers/{transfer.pk}/", {"decision": "decline"})
    assert "Say why the transfer is declined." in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.is_pending


def test_declining_a_transfer_is_confirmed_first(client, lead, other_lead, person, other_authority):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(other_lead)
    decision = {"decision": "decline", "note": "No placement here"}
    page = client.post(f"/register/transfers/{transfer.pk}/", decision).content.decode()
    assert "Are you sure you want to decline" in page
    assert 'name="note" value="No placement here"' in page
    transfer.refresh_from_db()
    assert transfer.is_pending
    client.post(f"/register/transfers/{transfer.pk}/", decision | {"confirmed": "yes"})
    transfer.refresh_from_db()
    assert not transfer.is_pending


def test_a_transfer_decision_page_is_not_found_for_the_sending_lead(
    client, lead, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(lead)
    assert client.get(f"/register/transfers/{transfer.pk}/").status_code == 404


def test_the_sending_practitioner_can_cancel_a_transfer(
    client, lead, practitioner, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=1, to_authority=other_authority, reason="Moved"
    )
    client.force_login(practitioner)
    client.post(f"/register/transfers/{transfer.pk}/cancel/")
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"


@pytest.mark.parametrize("rows", [3, 40])
def test_the_transfers_page_runs_a_constant_number_of_queries(
    client, lead, other_lead, nithsdale, other_authority, leith, rows, django_assert_max_num_queries
):
    for person in PersonFactory.create_batch(rows, locality=nithsdale):
        services.request_transfer(
            lead, person, version=1, to_authority=other_authority, reason="Moving"
        )
    for person in PersonFactory.create_batch(rows, locality=leith):
        services.request_transfer(
            other_lead, person, version=1, to_authority=nithsdale.authority, reason="Moving"
        )
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        response = client.get("/register/transfers/")
    assert len(response.context["incoming"]) == rows
    assert len(response.context["outgoing"]) == rows
