"""A user's authorities (the header, the authority switcher) come with their scope's one statement,
and are those the database lists for their memberships, in its order by name."""

import pytest
from django.utils import timezone

from accounts.models import Membership
from registers.models import IntegrationAuthority
from tests.factories import AuthorityFactory, make_member

pytestmark = pytest.mark.django_db

NAMES = ["na h-Test Siar", "Orkney Test", "aardvark Test", "Éire Test", "Zeta-test"]


def test_a_users_authorities_are_their_active_memberships_by_name(client):
    authorities = [AuthorityFactory(code=f"X{i:08d}", name=name) for i, name in enumerate(NAMES)]
    user = make_member(authorities[0], "lead", email="many@example.scot")
    for authority in authorities[1:]:
        Membership.objects.create(user=user, authority=authority, role="viewer")
    Membership.objects.filter(user=user, authority=authorities[2]).update(
        deactivated_at=timezone.now()
    )
    expected = list(
        IntegrationAuthority.objects.filter(
            memberships__user=user, memberships__deactivated_at__isnull=True
        ).order_by("name")
    )
    client.force_login(user)
    response = client.get("/help/")
    shown = response.context["my_authorities"]
    assert [(a.pk, a.code, a.name) for a in shown] == [(a.pk, a.code, a.name) for a in expected]
    assert len(shown) == len(NAMES) - 1
    assert response.context["current_authority"] == expected[0]
