"""The lead's localities through the REST API (session): list, create, rename, retire and move
people; other staff 403, other authorities 404, API client tokens cannot manage localities."""

import pytest
from rest_framework.test import APIClient

from registers.models import Locality, Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def signed_in(user):
    api = APIClient()
    api.force_login(user)
    return api


def base(authority):
    return f"/api/v1/authorities/{authority.pk}/localities/"


def test_lead_lists_localities_with_counts(lead, authority, nithsdale, stewartry, person):
    response = signed_in(lead).get(base(authority))
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert rows["Nithsdale"]["on_register"] == 1
    assert rows["Stewartry"]["on_register"] == 0
    assert rows["Nithsdale"]["retired_at"] is None


def test_lead_creates_renames_and_retires_a_locality(lead, authority):
    api = signed_in(lead)
    created = api.post(base(authority), {"name": "Wigtownshire"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    renamed = api.patch(f"{base(authority)}{pk}/", {"name": "The Machars"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "The Machars"
    retired = api.post(f"{base(authority)}{pk}/retire/")
    assert retired.status_code == 200
    assert retired.json()["retired_at"] is not None
    assert Locality.objects.get(pk=pk).retired_at is not None


def test_bad_input_gets_a_clear_400(lead, authority, nithsdale):
    api = signed_in(lead)
    taken = api.post(base(authority), {"name": "Nithsdale"}, format="json")
    assert taken.status_code == 400
    assert "already has a locality" in " ".join(taken.json()["errors"]["name"])
    assert api.post(base(authority), {"name": ""}, format="json").status_code == 400
    assert api.post(base(authority), {}, format="json").status_code == 400


def test_retiring_a_locality_with_people_is_refused_with_a_reason(
    lead, authority, nithsdale, person
):
    response = signed_in(lead).post(f"{base(authority)}{nithsdale.pk}/retire/")
    assert response.status_code == 400
    assert "move them to another locality first" in str(response.json()["errors"])


def test_lead_moves_people_between_localities(lead, authority, nithsdale, stewartry):
    people = [PersonFactory(locality=nithsdale) for _ in range(3)]
    api = signed_in(lead)
    url = f"{base(authority)}{nithsdale.pk}/move-people/"
    one = api.post(url, {"to_locality": stewartry.pk, "people": [people[0].pk]}, format="json")
    assert one.json() == {"moved": 1}
    rest = api.post(url, {"to_locality": stewartry.pk, "reason": "Merged"}, format="json")
    assert rest.json() == {"moved": 2}
    assert Person.objects.filter(locality=stewartry).count() == 3
    same = api.post(url, {"to_locality": nithsdale.pk}, format="json")
    assert same.status_code == 400


@pytest.mark.parametrize("who", ["practitioner", "viewer"])
def test_staff_who_are_not_the_lead_get_403(request, who, authority, nithsdale):
    api = signed_in(request.getfixturevalue(who))
    assert api.get(base(authority)).status_code == 403
    assert api.post(base(authority), {"name": "X"}, format="json").status_code == 403
    assert api.post(f"{base(authority)}{nithsdale.pk}/retire/").status_code == 403


def test_another_authoritys_lead_gets_404(other_lead, authority, nithsdale):
    api = signed_in(other_lead)
    assert api.get(base(authority)).status_code == 404
    assert (
        api.patch(f"{base(authority)}{nithsdale.pk}/", {"name": "X"}, format="json").status_code
        == 404
    )
    nithsdale.refresh_from_db()
    assert nithsdale.name == "Nithsdale"


def test_an_api_client_token_cannot_manage_localities(cms, authority, nithsdale):
    assert cms.get(base(authority)).status_code == 403
    assert cms.post(base(authority), {"name": "X"}, format="json").status_code == 403
    assert not Locality.objects.filter(name="X").exists()


def test_the_api_clients_locality_list_says_which_are_retired(cms, lead, nithsdale, stewartry):
    from registers.localities import retire_locality

    retire_locality(lead, stewartry)
    rows = {row["name"]: row["retired"] for row in cms.get("/api/v1/localities/").json()}
    assert rows == {"Nithsdale": False, "Stewartry": True}


def test_an_api_client_cannot_add_a_person_to_a_retired_locality(cms, lead, stewartry):
    from registers.localities import retire_locality
    from tests.registers.api.conftest import new_person

    retire_locality(lead, stewartry)
    response = cms.post("/api/v1/people/", new_person(stewartry), format="json")
    assert response.status_code == 400
    assert "retired" in " ".join(response.json()["errors"]["locality"])


def test_the_list_runs_a_constant_number_of_queries(lead, authority, django_assert_max_num_queries):
    from tests.factories import LocalityFactory

    api = signed_in(lead)
    LocalityFactory(authority=authority)
    api.get(base(authority))
    with django_assert_max_num_queries(30) as few:
        api.get(base(authority))
    for _ in range(25):
        PersonFactory(locality=LocalityFactory(authority=authority))
    with django_assert_max_num_queries(len(few.captured_queries)):
        api.get(base(authority))
