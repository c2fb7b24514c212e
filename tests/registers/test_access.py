"""Who can and cannot act: every role against every read and write service, and the views."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from registers import access, selectors, services
from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()

ROLES = ["lead", "practitioner", "viewer", "analyst", "other_lead", "no_role_user"]
# What each role may do with a person in Nithsdale (the practitioner's and viewer's locality).
CAN_READ = {"lead", "practitioner", "viewer"}
CAN_WRITE = {"lead", "practitioner"}


def as_actor(actor, call):
    """Run a call the way a request does: in the actor's scope, with row-level security."""
    with transaction.atomic(), access.using_scope(access.scope_for(actor)):
        return call()


WRITES = {
    "update_details": lambda a, p: services.update_person_details(
        a, p, version=p.version, key_worker_name="Sam"
    ),
    "status_change": lambda a, p: services.record_status_change(
        a,
        p,
        version=p.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Provider notice",
    ),
    "schedule_review": lambda a, p: services.schedule_review(a, p, version=p.version, due=TODAY),
    "record_review": lambda a, p: services.record_review(
        a, p, version=p.version, review_date=TODAY, attendees="Team", outcome="Stable"
    ),
    "remove": lambda a, p: services.remove_from_register(
        a, p, version=p.version, date_left=TODAY, leaving_reason="settled_in_community"
    ),
}


@pytest.mark.parametrize("role", ROLES)
def test_reading_a_person_by_role(role, request, person):
    actor = request.getfixturevalue(role)
    visible = as_actor(actor, lambda: list(selectors.visible_people(actor)))
    assert (person in visible) == (role in CAN_READ)
    if role in CAN_READ:
        assert as_actor(actor, lambda: selectors.person_detail(actor, person.pk)) == person
    else:
        with pytest.raises(Http404):
            as_actor(actor, lambda: selectors.person_detail(actor, person.pk))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_changing_a_person_by_role(role, write, request, person):
    actor = request.getfixturevalue(role)
    call = WRITES[write]
    if role in CAN_WRITE:
        as_actor(actor, lambda: call(actor, person))
        assert person.status_changes.count() == 1
        return
    expected = PermissionDenied if role in CAN_READ else Http404
    with pytest.raises(expected):
        as_actor(actor, lambda: call(actor, person))
    person.refresh_from_db()
    assert person.version == 1 and not person.status_changes.exists()


@pytest.mark.parametrize("role", ROLES)
def test_adding_a_person_by_role(role, request, nithsdale):
    actor = request.getfixturevalue(role)
    fields = {
        "given_name": "Ian",
        "family_name": "Grant",
        "date_of_birth": dt.date(1980, 1, 1),
        "sex": "male",
        "local_reference": "NEW-1",
        "category": "enhanced_monitoring",
        "risk_rating": "green",
        "referral_source": "family",
    }
    if role in CAN_WRITE:
        as_actor(actor, lambda: services.add_person(actor, locality=nithsdale, **fields))
        assert Person.objects.filter(local_reference="NEW-1").exists()
        return
    with pytest.raises(PermissionDenied if role in CAN_READ else Http404):
        as_actor(actor, lambda: services.add_person(actor, locality=nithsdale, **fields))
    assert not Person.objects.filter(local_reference="NEW-1").exists()


def test_practitioner_cannot_see_people_in_other_localities(practitioner, stewartry):
    elsewhere = PersonFactory(locality=stewartry)
    assert elsewhere not in access.visible_people(practitioner)
    with pytest.raises(Http404):
        services.update_person_details(practitioner, elsewhere, version=1, key_worker_name="X")


def test_lead_sees_every_locality_but_not_another_authority(lead, stewartry, person, other_person):
    elsewhere = PersonFactory(locality=stewartry)
    visible = set(access.visible_people(lead))
    assert {person, elsewhere} <= visible
    assert other_person not in visible


def test_a_national_analyst_never_receives_people(analyst, person):
    assert not access.visible_people(analyst).exists()
    assert access.visible_people(analyst).query.is_empty()


def test_viewers_write_grants_are_ignored(viewer, nithsdale, person):
    from guardian.shortcuts import assign_perm

    assign_perm("registers.change_people_in_locality", viewer, nithsdale)
    access.forget_scope(viewer)
    with pytest.raises(PermissionDenied):
        services.update_person_details(viewer, person, version=1, key_worker_name="X")


def test_inactive_users_have_no_scope(lead, person):
    lead.is_active = False
    assert not access.visible_people(lead).exists()


@pytest.mark.parametrize("role", ROLES)
def test_person_page_by_role(role, request, client, person):
    client.force_login(request.getfixturevalue(role))
    response = client.get(f"/register/people/{person.pk}/")
    assert response.status_code == (200 if role in CAN_READ else 404)


def test_anonymous_visitors_are_sent_to_sign_in(client, person):
    response = client.get(f"/register/people/{person.pk}/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
