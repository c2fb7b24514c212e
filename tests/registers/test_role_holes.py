"""The holes an attacker with a staff account found: a national analyst made a member, unaudited
pages with identifying fields, silent out-of-scope probing, and a decided transfer's summary still
open to the receiving side in the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.html import escape

from accounts import services as staff
from accounts.models import Membership, Role
from registers import access, services
from registers.audit import AuditAction
from registers.models import AuditEvent, Person, Transfer
from tests.factories import PersonFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db


# --- A national analyst holds no membership --------------------------------------------------


def test_a_lead_cannot_add_the_national_analyst_to_their_staff(lead, authority, analyst, nithsdale):
    with pytest.raises(ValidationError) as refused:
        staff.add_staff_member(
            lead, authority, email=analyst.email, role=Role.VIEWER, localities=[nithsdale]
        )
    assert "national analyst" in refused.value.message_dict["email"][0]
    assert not Membership.objects.filter(user=analyst).exists()


def test_the_staff_page_explains_the_refusal(client, lead, analyst, nithsdale):
    client.force_login(lead)
    response = client.post(
        "/staff/add/",
        {"email": analyst.email.upper(), "role": "viewer", "localities": [nithsdale.pk]},
    )
    assert response.status_code == 200
    assert "national analysts see aggregate returns" in response.content.decode()
    assert not Membership.objects.filter(user=analyst).exists()


def test_the_lead_role_cannot_be_handed_to_the_national_analyst(lead, authority, analyst):
    with pytest.raises(ValidationError) as refused:
        staff.hand_over_lead(lead, authority, to_user=analyst)
    assert "national analyst" in refused.value.message_dict["to_user"][0]


def test_the_database_refuses_a_membership_for_a_national_analyst(authority, analyst):
    with pytest.raises(IntegrityError, match="national analyst"), transaction.atomic():
        Membership.objects.create(user=analyst, authority=authority, role=Role.VIEWER)


def test_the_database_refuses_to_make_a_member_a_national_analyst(practitioner):
    practitioner.is_national_analyst = True
    with pytest.raises(IntegrityError, match="national analyst"), transaction.atomic():
        practitioner.save()


def test_a_national_scope_never_merges_a_membership(authority, nithsdale):
    # A membership written before the database refused them (or by a superuser) gives nothing.
    analyst = make_member(authority, Role.VIEWER, [nithsdale], email="was-staff@phs.example.scot")
    analyst.is_national_analyst = True  # flagged in memory: the database refuses to store it
    PersonFactory(locality=nithsdale)
    scope = access.scope_for(analyst)
    assert scope.national_analyst
    assert not scope.authority_ids and not scope.read_localities
    assert not access.visible_people(analyst).exists()


# --- Pages with identifying fields are audited -------------------------------------------------


def test_opening_the_edit_page_is_audited_once_per_view(client, practitioner, person):
    client.force_login(practitioner)
    client.get(f"/register/people/{person.pk}/edit/")
    client.get(f"/register/people/{person.pk}/edit/")
    events = AuditEvent.objects.filter(action="person.edit_viewed", object_id=str(person.pk))
    assert events.count() == 2
    assert {e.actor_id for e in events} == {practitioner.pk}
    assert {e.authority_id for e in events} == {person.authority_id}


def test_a_search_by_chi_number_is_audited_with_the_people_found(client, lead, nithsdale):
    found = PersonFactory(locality=nithsdale)
    PersonFactory(locality=nithsdale)
    client.force_login(lead)
    client.get("/register/", {"q": found.chi_number})
    event = AuditEvent.objects.get(action="people.searched")
    assert event.changes == {"by_chi_number": True, "people": [found.pk]}
    assert event.authority_id == found.authority_id


def test_browsing_the_register_without_a_search_writes_no_search_event(client, lead, person):
    client.force_login(lead)
    client.get("/register/")
    assert not AuditEvent.objects.filter(action="people.searched").exists()


def test_the_transfer_decision_page_is_audited_in_the_receiving_authority(
    client, lead, other_lead, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    client.force_login(other_lead)
    assert client.get(f"/register/transfers/{transfer.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="transfer.summary_viewed")
    assert (event.authority_id, event.object_id) == (other_authority.pk, str(transfer.pk))


# --- Out-of-scope attempts are recorded ------------------------------------------------------


def test_each_attempt_on_another_authoritys_person_is_recorded_for_the_own_lead(
    client, practitioner, authority, other_person
):
    client.force_login(practitioner)
    for path in ("", "edit/", "status/"):
        assert client.get(f"/register/people/{other_person.pk}/{path}").status_code == 404
    refused = AuditEvent.objects.filter(action="access.refused", actor=practitioner)
    assert refused.count() == 3
    assert {e.authority_id for e in refused} == {authority.pk}
    assert {e.changes["id"] for e in refused} == {str(other_person.pk)}


def test_an_api_client_probing_another_authority_is_recorded(authority, lead, other_person):
    from tests.registers.api.conftest import client_with

    _, token = staff.create_api_client(lead, authority, name="Probe", scopes=["read"])
    response = client_with(token).get(f"/api/v1/people/{other_person.pk}/")
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="access.refused")
    assert event.authority_id == authority.pk


def test_the_leads_audit_log_filters_access_refused(client, lead, practitioner, other_person):
    client.force_login(practitioner)
    client.get(f"/register/people/{other_person.pk}/")
    client.force_login(lead)
    page = client.get("/register/audit/", {"action": "access.refused"}).content.decode()
    # Events read as sentences (the actions' labels), never as their codes.
    assert f"<td>{escape(AuditAction.ACCESS_REFUSED.label)}</td>" in page
    assert practitioner.email in page
    assert f"<td>{escape(AuditAction.PERSON_VIEWED.label)}</td>" not in page


# --- A decided transfer's summary belongs to the sender alone ------------------------------------


@pytest.fixture
def decided(lead, other_lead, person, other_authority):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    # Declined as the receiving lead's request would, in their scope (not the tests' system scope).
    with transaction.atomic(), access.using_scope(access.scope_for(other_lead)):
        return services.decline_transfer(other_lead, transfer, note="No placement available")


# Each decision is its own transaction, as each request is: the deciding transaction itself may
# still read the row it decided (PostgreSQL checks an UPDATE's new row against the read policy).
@pytest.mark.django_db(transaction=True)
def test_the_receiving_side_cannot_read_a_decided_transfers_summary_in_the_database(
    decided, other_lead, lead
):
    with access.using_scope(access.scope_for(other_lead)), connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM registers_transfer WHERE id = %s", [decided.pk])
        assert cursor.fetchall() == []
    with access.using_scope(access.scope_for(lead)):
        assert Transfer.objects.get(pk=decided.pk).summary["name"]


@pytest.mark.django_db(transaction=True)
def test_the_receiving_side_cannot_rewrite_a_decided_transfer_in_the_database(decided, other_lead):
    with access.using_scope(access.scope_for(other_lead)), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registers_transfer SET summary = '{}'::jsonb, status = 'pending' WHERE id = %s",
            [decided.pk],
        )
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM registers_transfer WHERE id = %s", [decided.pk])
        assert cursor.rowcount == 0
    decided.refresh_from_db()
    assert decided.summary["name"] and decided.status == "declined"


@pytest.mark.django_db(transaction=True)
def test_the_receiving_lead_accepts_through_the_page_and_then_no_longer_sees_the_transfer(
    client, lead, other_lead, person, other_authority, leith
):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    client.force_login(other_lead)
    response = client.post(
        f"/register/transfers/{transfer.pk}/",
        {"decision": "accept", "locality": leith.pk, "local_reference": "E-9", "confirmed": "yes"},
    )
    assert response.status_code == 302
    with access.using_scope(access.scope_for(other_lead)):
        assert not Transfer.objects.filter(pk=transfer.pk).exists()
        assert Person.objects.filter(authority=other_authority, local_reference="E-9").exists()
    assert client.get(f"/register/transfers/{transfer.pk}/").status_code == 404


def test_the_receiving_lead_declines_through_the_page(
    client, lead, other_lead, person, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    client.force_login(other_lead)
    response = client.post(
        f"/register/transfers/{transfer.pk}/",
        {"decision": "decline", "note": "No placement", "confirmed": "yes"},
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "declined" and transfer.decided_by == other_lead


@pytest.mark.django_db(transaction=True)
def test_the_sending_side_cancels_and_still_sees_its_transfer(
    client, practitioner, person, lead, other_authority
):
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving"
    )
    client.force_login(practitioner)
    client.post(f"/register/transfers/{transfer.pk}/cancel/")
    with access.using_scope(access.scope_for(practitioner)):
        assert Transfer.objects.get(pk=transfer.pk).status == "cancelled"


def test_a_new_user_can_still_be_invited_as_staff(lead, authority):
    membership = staff.add_staff_member(lead, authority, email="new@dg.example.scot", role="viewer")
    assert membership.user.email == "new@dg.example.scot"
    assert UserFactory._meta.model.objects.filter(email="new@dg.example.scot").exists()


@pytest.mark.parametrize("rows", [3, 60])
def test_an_audited_search_still_runs_a_constant_number_of_queries(
    client, lead, nithsdale, rows, django_assert_max_num_queries
):
    PersonFactory.create_batch(rows, locality=nithsdale, family_name="Sample")
    client.force_login(lead)
    with django_assert_max_num_queries(18):
        assert client.get("/register/", {"q": "Sample"}).status_code == 200
    assert AuditEvent.objects.filter(action="people.searched").count() == 1
