import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from registers import access, services
from registers.codes import ChangeKind, LeavingReason, TransferStatus
from registers.models import AuditEvent, Person, Transfer
from tests.factories import AuthorityFactory, LocalityFactory, PersonFactory, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer(lead, person, other_authority):
    return services.request_transfer(
        lead, person, version=person.version, to_authority=other_authority, reason="Moving home"
    )


def test_requesting_a_transfer_keeps_the_person_on_the_sending_register(transfer, person):
    person.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING
    assert person.date_left is None
    assert transfer.summary["name"] == f"{person.given_name} {person.family_name}"


def test_a_transfer_needs_a_reason_and_saves_nothing_without_one(lead, person, other_authority):
    with pytest.raises(ValidationError) as exc:
        services.request_transfer(
            lead, person, version=person.version, to_authority=other_authority, reason=" "
        )
    assert "reason" in exc.value.message_dict
    assert not Transfer.objects.exists()


def test_only_one_transfer_per_person_can_wait_for_a_decision(
    lead, person, other_authority, transfer
):
    with pytest.raises(ValidationError):
        services.request_transfer(
            lead, person, version=person.version, to_authority=other_authority, reason="Again"
        )


def test_accepting_moves_the_person_to_the_receiving_register_with_history(
    transfer, person, other_lead, leith
):
    # Under the receiving lead's own scope, so row-level security is in play.
    with access.using_scope(access.scope_for(other_lead)):
        new = services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED-1")
    person.refresh_from_db()
    assert person.leaving_reason == LeavingReason.TRANSFERRED_TO_OTHER_IA
    assert person.date_left is not None
    assert (new.authority_id, new.locality, new.chi_number) == (
        leith.authority_id,
        leith,
        person.chi_number,
    )
    assert new.status_changes.get().kind == ChangeKind.ADDED
    assert person.status_changes.filter(kind=ChangeKind.LEFT).exists()
    transfer.refresh_from_db()
    assert (transfer.status, transfer.new_person) == (TransferStatus.ACCEPTED, new)


def test_accepting_is_audited_including_the_step_that_opens_the_sending_record(
    transfer, other_lead, leith
):
    services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED-1")
    actions = set(AuditEvent.objects.filter(actor=other_lead).values_list("action", flat=True))
    assert {
        "transfer.sending_record_opened",
        "person.left",
        "person.added",
        "transfer.accepted",
    } <= actions


def test_only_the_receiving_lead_can_accept(transfer, lead, leith):
    with pytest.raises(Exception) as exc:
        services.accept_transfer(lead, transfer, locality=leith, local_reference="X")
    assert exc.type.__name__ in ("Http404", "PermissionDenied")
    assert Person.objects.filter(authority=leith.authority).count() == 0


def test_accepting_into_another_authoritys_locality_is_refused(
    transfer, other_lead, nithsdale, person
):
    with pytest.raises(ValidationError):
        services.accept_transfer(other_lead, transfer, locality=nithsdale, local_reference="X")
    person.refresh_from_db()
    assert person.date_left is None


def test_a_declined_transfer_leaves_the_person_where_they_were(transfer, other_lead, person):
    with access.using_scope(access.scope_for(other_lead)):
        services.decline_transfer(other_lead, transfer, note="Not our funding responsibility")
    transfer.refresh_from_db()
    person.refresh_from_db()
    assert transfer.status == TransferStatus.DECLINED
    assert person.date_left is None


def test_the_sending_side_can_cancel_a_pending_transfer(transfer, practitioner):
    services.cancel_transfer(practitioner, transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_a_transfer_row_is_visible_to_both_authorities_and_to_no_third(transfer, other_lead):
    third = AuthorityFactory(code="S37000016", name="Highland")
    LocalityFactory(authority=third)
    third_lead = make_member(third, "lead", email="lead@highland.example.scot")
    with access.using_scope(access.scope_for(other_lead)):
        assert Transfer.objects.filter(pk=transfer.pk).exists()
        # The receiving lead still cannot read the person before accepting.
        assert not Person.objects.filter(pk=transfer.person_id).exists()
    with access.using_scope(access.scope_for(third_lead)), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registers_transfer")
        assert cursor.fetchone()[0] == 0


def test_the_receiving_lead_gets_a_fresh_local_reference_check(transfer, other_lead, leith):
    PersonFactory(locality=leith, local_reference="ED-1")
    with pytest.raises(ValidationError) as exc:
        services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED-1")
    assert "local_reference" in exc.value.message_dict
