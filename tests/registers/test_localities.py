"""The lead maintains the authority's localities: create, rename, retire (keeping history), and
move several people from one locality to another in one step; all audited, all in scope."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from guardian.shortcuts import get_perms

from accounts import services as staff_services
from accounts.models import Membership
from registers import localities, services
from registers.codes import ChangeKind
from registers.models import AuditEvent, Locality, Person, StatusChange
from tests.factories import LocalityFactory, PersonFactory

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# Create and rename -----------------------------------------------------------------------------


def test_lead_creates_a_locality_and_it_is_audited(lead, authority):
    created = localities.create_locality(lead, authority.pk, name="  Annandale   and Eskdale ")
    assert created.name == "Annandale and Eskdale"
    assert created.retired_at is None
    [event] = events("locality.created")
    assert event.authority_id == authority.pk
    assert event.changes == {"name": "Annandale and Eskdale"}


def test_a_locality_name_is_unique_in_the_authority_whatever_its_case(lead, authority, nithsdale):
    with pytest.raises(ValidationError) as refused:
        localities.create_locality(lead, authority.pk, name="NITHSDALE")
    assert "already has a locality" in str(refused.value)
    with pytest.raises(ValidationError):
        localities.create_locality(lead, authority.pk, name="   ")


def test_another_authority_may_use_the_same_name(other_lead, other_authority, nithsdale):
    assert localities.create_locality(other_lead, other_authority.pk, name="Nithsdale").pk


def test_lead_renames_a_locality_keeping_its_people_and_grants(
    lead, authority, nithsdale, practitioner, person
):
    localities.rename_locality(lead, nithsdale, name="Upper Nithsdale")
    nithsdale.refresh_from_db()
    assert nithsdale.name == "Upper Nithsdale"
    assert Person.objects.get(pk=person.pk).locality_id == nithsdale.pk
    assert "change_people_in_locality" in get_perms(practitioner, nithsdale)
    [event] = events("locality.renamed")
    assert event.changes == {"name": ["Nithsdale", "Upper Nithsdale"]}


def test_renaming_to_a_name_in_use_is_refused(lead, nithsdale, stewartry):
    with pytest.raises(ValidationError):
        localities.rename_locality(lead, nithsdale, name="stewartry")


@pytest.mark.parametrize("who", ["practitioner", "viewer"])
def test_staff_who_are_not_the_lead_cannot_change_localities(request, who, authority, nithsdale):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        localities.create_locality(actor, authority.pk, name="Wigtownshire")
    with pytest.raises(PermissionDenied):
        localities.rename_locality(actor, nithsdale, name="Elsewhere")
    with pytest.raises(PermissionDenied):
        localities.retire_locality(actor, nithsdale)


def test_another_authoritys_lead_cannot_see_or_change_these_localities(
    other_lead, authority, nithsdale
):
    with pytest.raises(Http404):
        localities.create_locality(other_lead, authority.pk, name="Wigtownshire")
    with pytest.raises(Http404):
        localities.rename_locality(other_lead, nithsdale.pk, name="Elsewhere")
    with pytest.raises(Http404):
        localities.retire_locality(other_lead, nithsdale.pk)


# Retire -----------------------------------------------------------------------------------------


def test_a_locality_with_people_on_the_register_cannot_be_retired(lead, nithsdale, person):
    with pytest.raises(ValidationError) as refused:
        localities.retire_locality(lead, nithsdale)
    assert "1 person is on the register" in str(refused.value)
    nithsdale.refresh_from_db()
    assert nithsdale.retired_at is None


def test_retiring_keeps_the_history_of_people_who_left_and_withdraws_grants(
    lead, nithsdale, practitioner, viewer
):
    left = PersonFactory(locality=nithsdale, date_left=dt.date(2025, 7, 20), leaving_reason="died")
    localities.retire_locality(lead, nithsdale)
    nithsdale.refresh_from_db()
    assert nithsdale.retired_at is not None
    assert Person.objects.get(pk=left.pk).locality_id == nithsdale.pk
    assert get_perms(practitioner, nithsdale) == []
    assert get_perms(viewer, nithsdale) == []
    [event] = events("locality.retired")
    assert event.changes["grants_withdrawn_from"] == sorted([practitioner.email, viewer.email])


def test_a_retired_locality_cannot_be_chosen_for_new_people_moves_or_grants(
    lead, authority, nithsdale, stewartry, practitioner, person
):
    localities.retire_locality(lead, stewartry)
    stewartry.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.add_person(
            lead,
            locality=stewartry,
            given_name="Ann",
            family_name="Bell",
            date_of_birth=dt.date(1980, 1, 1),
            sex="female",
            local_reference="NEW-9",
            referral_source="health",
            category="enhanced_monitoring",
            risk_rating="green",
        )
    assert "retired" in str(refused.value.message_dict["locality"])
    with pytest.raises(ValidationError):
        services.move_locality(lead, person, version=person.version, locality=stewartry)
    membership = Membership.objects.get(user=practitioner, authority=authority)
    with pytest.raises(ValidationError):
        staff_services.grant_locality(lead, membership, stewartry)


def test_retiring_twice_is_refused(lead, stewartry):
    localities.retire_locality(lead, stewartry)
    with pytest.raises(ValidationError):
        localities.retire_locality(lead, stewartry)


# Moving people ------------------------------------------------------------------------------------


def test_lead_moves_chosen_people_in_one_step_with_history_and_audit(lead, nithsdale, stewartry):
    people = [PersonFactory(locality=nithsdale) for _ in range(3)]
    moved = localities.move_people(
        lead,
        from_locality=nithsdale,
        to_locality=stewartry,
        people=[people[0].pk, people[1].pk],
        reason="Locality boundaries redrawn",
    )
    assert moved == 2
    assert set(Person.objects.filter(locality=stewartry).values_list("pk", flat=True)) == {
        people[0].pk,
        people[1].pk,
    }
    for person in people[:2]:
        person.refresh_from_db()
        assert person.version == 2
        change = StatusChange.objects.get(person=person)
        assert change.kind == ChangeKind.LOCALITY
        assert change.reason == "Locality boundaries redrawn"
        assert change.state["locality_id"] == stewartry.pk
    assert len(events("person.locality")) == 2
    [summary] = events("locality.people_moved")
    assert summary.changes == {"from": "Nithsdale", "to": "Stewartry", "people": 2}


def test_moving_everyone_then_retiring_the_emptied_locality(lead, nithsdale, stewartry):
    for _ in range(4):
        PersonFactory(locality=nithsdale)
    assert localities.move_people(lead, from_locality=nithsdale, to_locality=stewartry) == 4
    localities.retire_locality(lead, nithsdale)
    assert not Person.objects.filter(locality=nithsdale).exists()


def test_moving_people_who_are_not_in_the_locality_moves_nobody(lead, nithsdale, stewartry, person):
    elsewhere = PersonFactory(locality=stewartry)
    with pytest.raises(ValidationError):
        localities.move_people(
            lead, from_locality=nithsdale, to_locality=stewartry, people=[person.pk, elsewhere.pk]
        )
    person.refresh_from_db()
    assert person.locality_id == nithsdale.pk and person.version == 1


def test_moving_into_a_retired_locality_or_another_authority_is_refused(
    lead, other_lead, nithsdale, stewartry, leith, person
):
    localities.retire_locality(lead, stewartry)
    with pytest.raises(ValidationError):
        localities.move_people(lead, from_locality=nithsdale, to_locality=stewartry)
    with pytest.raises(Http404):
        localities.move_people(lead, from_locality=nithsdale, to_locality=leith)
    with pytest.raises(Http404):
        localities.move_people(other_lead, from_locality=nithsdale, to_locality=leith)


def test_moving_many_people_runs_a_fixed_number_of_queries(
    lead, nithsdale, stewartry, django_assert_max_num_queries
):
    few = [PersonFactory(locality=nithsdale) for _ in range(2)]
    with django_assert_max_num_queries(15) as few_queries:
        localities.move_people(lead, from_locality=nithsdale, to_locality=stewartry)
    assert len(few) == 2
    for _ in range(40):
        PersonFactory(locality=stewartry)
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        assert localities.move_people(lead, from_locality=stewartry, to_locality=nithsdale) == 42


# Pages --------------------------------------------------------------------------------------------


def test_localities_page_lists_counts_and_adds_a_locality(client, lead, nithsdale, stewartry):
    PersonFactory(locality=nithsdale)
    client.force_login(lead)
    page = client.get("/register/localities/").content.decode()
    assert "Nithsdale" in page and "Stewartry" in page
    response = client.post("/register/localities/", {"name": "Wigtownshire"})
    assert response.status_code == 302
    assert Locality.objects.filter(name="Wigtownshire").exists()


def test_localities_page_shows_a_clear_error_for_a_name_in_use(client, lead, nithsdale):
    client.force_login(lead)
    response = client.post("/register/localities/", {"name": "nithsdale"})
    assert response.status_code == 200
    assert "already has a locality" in response.content.decode()
    assert Locality.objects.count() == 1


def test_locality_page_renames_moves_and_retires(client, lead, nithsdale, stewartry):
    people = [PersonFactory(locality=nithsdale) for _ in range(2)]
    client.force_login(lead)
    url = f"/register/localities/{nithsdale.pk}/"
    refused = client.post(url, {"action": "retire"})
    assert "move them to another locality first" in refused.content.decode()
    client.post(url, {"action": "rename", "name": "Nithsdale North"})
    nithsdale.refresh_from_db()
    assert nithsdale.name == "Nithsdale North"
    unchosen = client.post(url, {"action": "move", "to_locality": stewartry.pk})
    assert "Choose the people to move, or everyone." in unchosen.content.decode()
    moved = client.post(
        url, {"action": "move", "to_locality": stewartry.pk, "people": [people[0].pk]}
    )
    assert moved.status_code == 302
    client.post(url, {"action": "move", "to_locality": stewartry.pk, "everyone": "on"})
    assert Person.objects.filter(locality=stewartry).count() == 2
    assert client.post(url, {"action": "retire"}).status_code == 302
    nithsdale.refresh_from_db()
    assert nithsdale.retired_at is not None


def test_a_retired_locality_is_not_offered_on_the_add_person_page(client, lead, nithsdale):
    retired = LocalityFactory(authority=nithsdale.authority, name="Old Town")
    localities.retire_locality(lead, retired)
    client.force_login(lead)
    page = client.get("/register/add/").content.decode()
    assert "Nithsdale" in page and "Old Town" not in page


@pytest.mark.parametrize(("who", "status"), [("practitioner", 403), ("viewer", 403)])
def test_localities_pages_are_for_the_lead_only(request, client, who, status, nithsdale):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/register/localities/").status_code == status
    assert client.get(f"/register/localities/{nithsdale.pk}/").status_code == status


def test_another_authoritys_locality_page_is_not_found(client, other_lead, nithsdale):
    client.force_login(other_lead)
    assert client.get(f"/register/localities/{nithsdale.pk}/").status_code == 404


def test_localities_page_runs_a_constant_number_of_queries(
    client, lead, authority, django_assert_max_num_queries
):
    client.force_login(lead)
    for i in range(2):
        PersonFactory(locality=LocalityFactory(authority=authority, name=f"Area {i}"))
    client.get("/register/localities/")
    with django_assert_max_num_queries(30) as few:
        client.get("/register/localities/")
    for i in range(2, 30):
        PersonFactory(locality=LocalityFactory(authority=authority, name=f"Area {i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/register/localities/")


def test_locality_page_runs_a_constant_number_of_queries(
    client, lead, nithsdale, stewartry, django_assert_max_num_queries
):
    client.force_login(lead)
    PersonFactory(locality=nithsdale)
    url = f"/register/localities/{nithsdale.pk}/"
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for _ in range(40):
        PersonFactory(locality=nithsdale)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
