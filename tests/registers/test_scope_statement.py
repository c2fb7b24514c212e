"""The scope's statement, compiled once and run with each user's id (access._scope_rows), returns
the rows the ORM's union gives for that user (access._scope_query), whatever their memberships
and grants: active or deactivated, in one authority or several, with grants inside and outside
them."""

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Membership
from registers import access
from tests.factories import AuthorityFactory, LocalityFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db

READ = "registers.view_people_in_locality"
WRITE = "registers.change_people_in_locality"


@pytest.fixture
def world():
    authorities = [AuthorityFactory(code=f"X{n:08d}", name=f"Test {n} area") for n in (3, 1, 2)]
    places = {
        a.pk: [LocalityFactory(authority=a, name=f"{a.name} {n}") for n in (1, 2)]
        for a in authorities
    }
    users = []
    lead = make_member(authorities[0], "lead", places[authorities[0].pk][:1])
    assign_perm(READ, lead, places[authorities[1].pk][0])  # outside their authority
    users.append(lead)
    both = make_member(authorities[0], "practitioner", places[authorities[0].pk])
    Membership.objects.create(user=both, authority=authorities[1], role="viewer")
    assign_perm(READ, both, places[authorities[1].pk][1])
    assign_perm(WRITE, both, places[authorities[1].pk][1])
    Membership.objects.create(user=both, authority=authorities[2], role="lead")
    Membership.objects.filter(user=both, authority=authorities[2]).update(
        deactivated_at=timezone.now()
    )
    users.append(both)
    users.append(make_member(authorities[2], "viewer", places[authorities[2].pk]))
    users.append(UserFactory())  # no membership, no grant
    return users


def test_the_statement_compiled_once_gives_the_unions_rows(world):
    sizes = []
    for user in world:
        with access.using_scope(access.scope_for(user)):
            fast = access._scope_rows(user.pk)
            slow = [tuple(row) for row in access._scope_query(user.pk)]
        assert sorted(fast, key=repr) == sorted(slow, key=repr), user
        # The memberships come in the database's order of their authorities' names.
        assert [r for r in fast if r[1] is not None] == [r for r in slow if r[1] is not None]
        sizes.append(len(fast))
    assert max(sizes) > 2 and min(sizes) == 0
