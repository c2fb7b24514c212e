import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership
from registers.authorities import AUTHORITIES
from registers.models import IntegrationAuthority

pytestmark = pytest.mark.django_db


def test_all_31_integration_authorities_are_loaded_with_their_codes():
    stored = set(IntegrationAuthority.objects.values_list("code", "name"))
    assert stored == {(code, name) for code, name, _weight in AUTHORITIES}
    assert len(stored) == 31


def test_appoint_lead_makes_the_one_named_lead(lead, authority, practitioner):
    call_command("appoint_lead", "--authority", authority.code, "--email", practitioner.email)
    assert Membership.objects.get(authority=authority, role="lead").user == practitioner


def test_appoint_lead_maps_replaced_codes_and_can_create_the_user():
    call_command(
        "appoint_lead", "--authority", "S37000015", "--email", "New.Lead@glasgow.scot", "--create"
    )
    membership = Membership.objects.get(role="lead", user__email="new.lead@glasgow.scot")
    assert membership.authority.name == "Glasgow City"


def test_appoint_lead_refuses_an_unknown_authority_or_user(authority):
    with pytest.raises(CommandError, match="No integration authority"):
        call_command("appoint_lead", "--authority", "S37999999", "--email", "a@b.scot")
    with pytest.raises(CommandError, match="pass --create"):
        call_command("appoint_lead", "--authority", authority.code, "--email", "nobody@b.scot")
    assert not Membership.objects.exists()
