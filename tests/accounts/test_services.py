import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts import services
from accounts.models import Membership, Role
from registers import access
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_lead_adds_a_practitioner_who_can_then_change_people_in_granted_localities(
    lead, authority, nithsdale, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.add_staff_member(
            lead,
            authority,
            email="New.Worker@Example.scot",
            role=Role.PRACTITIONER,
            localities=[nithsdale],
        )
    user = membership.user
    assert user.email == "new.worker@example.scot"
    assert not user.has_usable_password()
    assert "Set your password" in mail.outbox[0].body
    assert user.has_perm("registers.change_people_in_locality", nithsdale)
    assert person in access.writable_people(user)


def test_only_the_lead_manages_staff(practitioner, authority, other_lead):
    with pytest.raises(PermissionDenied):
        services.add_staff_member(practitioner, authority, email="x@example.scot", role="viewer")
    with pytest.raises(Http404):
        services.add_staff_member(other_lead, authority, email="x@example.scot", role="viewer")


def test_staff_cannot_be_added_twice(lead, authority, practitioner):
    with pytest.raises(ValidationError):
        services.add_staff_member(lead, authority, email=practitioner.email, role="viewer")


def test_localities_of_another_authority_cannot_be_granted(lead, authority, leith):
    with pytest.raises(ValidationError):
        services.add_staff_member(
            lead, authority, email="x@example.scot", role="viewer", localities=[leith]
        )
    assert not Membership.objects.filter(user__email="x@example.scot").exists()


def test_revoking_a_locality_removes_access(lead, practitioner, nithsdale, person):
    membership = Membership.objects.get(user=practitioner)
    services.revoke_locality(lead, membership, nithsdale)
    access.forget_scope(practitioner)
    assert person not in access.visible_people(practitioner)


def test_changing_a_practitioner_to_viewer_keeps_localities_read_only(lead, practitioner, person):
    services.set_role(lead, Membership.objects.get(user=practitioner), role=Role.VIEWER)
    access.forget_scope(practitioner)
    assert person in access.visible_people(practitioner)
    assert person not in access.writable_people(practitioner)


def test_handing_over_the_lead_keeps_exactly_one_named_lead(
    lead, authority, practitioner, nithsdale, stewartry
):
    services.hand_over_lead(lead, authority, to_user=practitioner)
    leads = Membership.objects.filter(authority=authority, role=Role.LEAD)
    assert [m.user for m in leads] == [practitioner]
    assert practitioner.has_perm("registers.lead_authority", authority)
    old = Membership.objects.get(user=lead)
    assert old.role == Role.PRACTITIONER
    access.forget_scope(lead)
    assert access.scope_for(lead).write_localities == {nithsdale.pk, stewartry.pk}


def test_the_database_refuses_a_second_lead(lead, authority):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(), authority=authority, role=Role.LEAD)


def test_the_lead_cannot_be_removed_before_handing_over(lead, authority):
    with pytest.raises(ValidationError):
        services.remove_staff_member(lead, Membership.objects.get(user=lead))


def test_removing_staff_removes_their_grants(lead, viewer, person):
    services.remove_staff_member(lead, Membership.objects.get(user=viewer))
    access.forget_scope(viewer)
    assert not access.visible_people(viewer).exists()


def test_a_first_lead_needs_the_system_scope(authority):
    user = UserFactory()
    with (
        pytest.raises(PermissionDenied),
        transaction.atomic(),
        access.using_scope(access.NO_ACCESS),
    ):
        services.hand_over_lead(None, authority, to_user=user)
    with access.system_scope("appoint first lead"):
        services.hand_over_lead(None, authority, to_user=user)
    assert Membership.objects.get(authority=authority, role=Role.LEAD).user == user
