"""What the audit trail records: changes, grants, reads and steps into the system scope."""

import datetime as dt

import pytest

from accounts import services as staff
from registers import services
from registers.models import AuditEvent
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_every_change_to_a_person_is_audited_with_what_changed(lead, person, authority):
    person = services.update_person_details(
        lead, person, version=person.version, key_worker_name="Sam Key"
    )
    person = services.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Provider gave notice",
        effective_date=dt.date.today(),
    ).person
    services.remove_from_register(
        lead,
        person,
        version=person.version,
        date_left=dt.date.today(),
        leaving_reason="settled_in_community",
    )
    events = AuditEvent.objects.filter(object_type="person", object_id=str(person.pk))
    actions = list(events.order_by("id").values_list("action", flat=True))
    assert actions == ["person.details", "person.status", "person.left"]
    details = events.get(action="person.details")
    assert details.authority_id == authority.pk and details.actor == lead
    assert "key_worker_name" in str(details.changes)


def test_grants_and_revocations_are_audited(lead, authority, nithsdale, stewartry):
    member = make_member(authority, "practitioner", [nithsdale], email="new@dg.example.scot")
    membership = member.memberships.get()
    staff.grant_locality(lead, membership, stewartry)
    staff.revoke_locality(lead, membership, nithsdale)
    actions = list(
        AuditEvent.objects.filter(authority=authority)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["staff.locality_granted", "staff.locality_revoked"]


def test_viewing_a_person_page_is_audited_with_the_address(client, practitioner, person):
    client.force_login(practitioner)
    client.get(f"/register/people/{person.pk}/", REMOTE_ADDR="192.0.2.44")
    event = AuditEvent.objects.get(action="person.viewed")
    assert (event.actor, event.object_id, event.authority_id, event.ip_address) == (
        practitioner,
        str(person.pk),
        person.authority_id,
        "192.0.2.44",
    )


def test_opening_the_profile_page_is_audited(client, practitioner, person):
    client.force_login(practitioner)
    assert client.get(f"/reporting/people/{person.pk}/profile/").status_code == 200
    assert AuditEvent.objects.filter(
        action="person.profile_viewed", object_id=str(person.pk), actor=practitioner
    ).exists()


def test_an_out_of_scope_person_page_records_no_read(client, practitioner, other_person):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{other_person.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="person.viewed").exists()


def test_opening_the_sending_record_of_a_transfer_is_audited_with_its_actor(
    lead, other_lead, person, authority
):
    transfer = services.request_transfer(
        lead,
        person,
        version=person.version,
        to_authority=other_lead.memberships.get().authority,
        reason="Moving to family",
    )
    action = "transfer.sending_record_opened"
    before = AuditEvent.objects.filter(action=action).count()
    other_locality = other_lead.memberships.get().authority.localities.create(name="Leith")
    services.accept_transfer(other_lead, transfer, locality=other_locality, local_reference="EDI-1")
    uses = AuditEvent.objects.filter(action=action).order_by("-id")
    assert uses.count() == before + 1
    assert uses[0].actor == other_lead
    assert uses[0].changes == {"transfer": transfer.pk}
