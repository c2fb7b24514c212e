"""A property: whatever sequence of service calls random actors make, nobody reads or changes a
person outside their scope, and nobody else's rows change.

Each call runs as a request would: in the actor's scope (row-level security on) and a savepoint.
Who may read or change what is worked out independently of `registers/access.py`, from the
memberships and guardian grants as they stand before each call (grants change along the way).
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as staff
from accounts.models import LocalityUserObjectPermission, Membership
from registers import access, selectors, services
from registers.models import Locality, Person
from tests.factories import (
    AuthorityFactory,
    LocalityFactory,
    PersonFactory,
    UserFactory,
    make_member,
)

pytestmark = pytest.mark.django_db

REFUSALS = (Http404, PermissionDenied, ValidationError, services.StaleVersion)
OPERATIONS = [
    "read",
    "list",
    "add",
    "update",
    "status",
    "review",
    "move",
    "remove",
    "grant",
    "revoke",
]


@pytest.fixture
def world():
    authorities = {
        "A": AuthorityFactory(code="S37000006", name="Dumfries and Galloway"),
        "B": AuthorityFactory(code="S37000012", name="Edinburgh"),
        "C": AuthorityFactory(code="S37000034", name="Glasgow City"),
    }
    loc = {
        f"{key}{n}": LocalityFactory(authority=authority, name=f"{key} locality {n}")
        for key, authority in authorities.items()
        for n in (1, 2)
    }
    for locality in loc.values():
        for _ in range(2):
            PersonFactory(locality=locality)
    quick = {"password": "!"}  # never signs in: skip the slow password hash
    actors = {
        "lead_A": make_member(authorities["A"], "lead", **quick),
        "lead_B": make_member(authorities["B"], "lead", **quick),
        "prac_A": make_member(authorities["A"], "practitioner", [loc["A1"]], **quick),
        "viewer_A": make_member(authorities["A"], "viewer", [loc["A1"], loc["A2"]], **quick),
        "prac_B": make_member(authorities["B"], "practitioner", [loc["B1"]], **quick),
        "analyst": UserFactory(is_national_analyst=True, **quick),
        "nobody": UserFactory(**quick),
    }
    # Someone with roles in two authorities: practitioner in A (A2), viewer in B (B1).
    both = make_member(authorities["A"], "practitioner", [loc["A2"]], **quick)
    Membership.objects.create(user=both, authority=authorities["B"], role="viewer")
    from guardian.shortcuts import assign_perm

    assign_perm("registers.view_people_in_locality", both, loc["B1"])
    actors["both"] = both
    make_member(authorities["C"], "lead", **quick)
    return actors


# --- The oracle: rights read straight from memberships and grants -----------------------------


def rights(user) -> tuple[set[int], set[int]]:
    """(readable, writable) person ids for `user`, from the tables, not from access.py."""
    roles = dict(Membership.objects.filter(user=user).values_list("authority_id", "role"))
    grants = LocalityUserObjectPermission.objects.filter(user=user).values_list(
        "content_object_id", "content_object__authority_id", "permission__codename"
    )
    read_locs = {loc for loc, auth, _ in grants if roles.get(auth) in ("practitioner", "viewer")}
    write_locs = {
        loc
        for loc, auth, perm in grants
        if perm == "change_people_in_locality" and roles.get(auth) == "practitioner"
    }
    leads = {auth for auth, role in roles.items() if role == "lead"}
    readable, writable = set(), set()
    for pk, authority_id, locality_id in Person.objects.values_list(
        "pk", "authority_id", "locality_id"
    ):
        if authority_id in leads or locality_id in read_locs:
            readable.add(pk)
        if authority_id in leads or locality_id in write_locs:
            writable.add(pk)
    return readable, writable


def can_write_locality(user, locality: Locality) -> bool:
    role = Membership.objects.filter(user=user, authority=locality.authority_id).values_list(
        "role", flat=True
    )
    role = role.first()
    if role == "lead":
        return True
    return (
        role == "practitioner"
        and LocalityUserObjectPermission.objects.filter(
            user=user, content_object=locality, permission__codename="change_people_in_locality"
        ).exists()
    )


def people_state() -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in Person.objects.values_list(
            "pk",
            "authority_id",
            "locality_id",
            "version",
            "date_left",
            "category",
            "risk_rating",
            "key_worker_name",
            "next_review_due",
        )
    }


def grants_state() -> set[tuple]:
    return set(
        LocalityUserObjectPermission.objects.values_list(
            "user_id", "content_object_id", "permission_id"
        )
    )


# --- One call --------------------------------------------------------------------------------


def call(actor, operation, person, locality, membership, n):
    today = dt.date.today()
    version = person.version
    if operation == "read":
        return {selectors.person_detail(actor, person.pk).pk}
    if operation == "list":
        return set(selectors.visible_people(actor).values_list("pk", flat=True))
    if operation == "add":
        return {
            services.add_person(
                actor,
                locality=locality,
                given_name="Prop",
                family_name=f"Erty{n}",
                date_of_birth=dt.date(1990, 1, 1),
                sex="female",
                local_reference=f"PROP-{n}-{locality.pk}",
                category="enhanced_monitoring",
                risk_rating="green",
                referral_source="family",
            ).pk
        }
    if operation == "update":
        services.update_person_details(
            actor, person.pk, version=version, key_worker_name=f"Worker {n}"
        )
    elif operation == "status":
        services.record_status_change(
            actor,
            person.pk,
            version=version,
            category="enhanced_monitoring",
            risk_rating=["green", "amber", "red"][n % 3],
            reason="Review of support",
            effective_date=today,
        )
    elif operation == "review":
        services.record_review(
            actor,
            person.pk,
            version=version,
            review_date=today,
            attendees="Team",
            outcome="Stable",
        )
    elif operation == "move":
        services.move_locality(actor, person.pk, version=version, locality=locality, reason="Moved")
    elif operation == "remove":
        services.remove_from_register(
            actor,
            person.pk,
            version=version,
            date_left=today,
            leaving_reason="settled_in_community",
        )
    elif operation == "grant":
        staff.grant_locality(actor, membership, locality)
    elif operation == "revoke":
        staff.revoke_locality(actor, membership, locality)
    return set()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(
                ["lead_A", "lead_B", "prac_A", "viewer_A", "prac_B", "analyst", "nobody", "both"]
            ),
            st.sampled_from(OPERATIONS),
            st.integers(min_value=0, max_value=10_000),
            st.integers(min_value=0, max_value=10_000),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_no_sequence_of_calls_reaches_a_person_outside_the_actors_scope(world, steps):
    with transaction.atomic():
        for actor_key, operation, i, j in steps:
            actor = world[actor_key]
            people = list(Person.objects.order_by("pk"))
            person = people[i % len(people)]
            localities = list(Locality.objects.order_by("pk"))
            locality = localities[j % len(localities)]
            memberships = list(Membership.objects.exclude(role="lead").order_by("pk"))
            membership = memberships[(i + j) % len(memberships)]
            readable, writable = rights(actor)
            before, grants_before = people_state(), grants_state()
            lead_of = set(
                Membership.objects.filter(user=actor, role="lead").values_list(
                    "authority_id", flat=True
                )
            )

            access.forget_scope(actor)
            refused = False
            result: set[int] = set()
            try:
                with transaction.atomic(), access.using_scope(access.scope_for(actor)):
                    result = call(actor, operation, person, locality, membership, i)
            except REFUSALS:
                refused = True
            access.forget_scope(actor)
            after = people_state()
            context = f"{actor_key} {operation} person {person.pk} locality {locality.pk}"

            # Reads: only what the actor may read (and all of it, for the list).
            if operation == "read":
                assert refused or result <= readable, context
                assert refused == (person.pk not in readable), context
            if operation == "list":
                on_register = {pk for pk in readable if after[pk][3] is None}
                assert result == on_register, context
            if actor.is_national_analyst:
                assert refused or not result, context
            # Writes: only people the actor may change; everyone else's rows are untouched.
            for pk, state in before.items():
                if pk not in writable:
                    assert after[pk] == state, f"{context}: person {pk} changed"
            changed = {pk for pk in before if after[pk] != before[pk]}
            assert changed <= writable, context
            if operation == "move" and not refused:
                assert can_write_locality(actor, locality), context
                assert locality.authority_id == person.authority_id, context
            added = set(after) - set(before)
            if added:
                assert operation == "add" and not refused, context
                assert can_write_locality(actor, locality), context
                assert {after[pk][0] for pk in added} == {locality.authority_id}, context
            # Grants change only at the hand of the lead of the membership's authority.
            if grants_state() != grants_before:
                assert operation in ("grant", "revoke") and not refused, context
                assert membership.authority_id in lead_of, context
                assert locality.authority_id == membership.authority_id, context
        transaction.set_rollback(True)
