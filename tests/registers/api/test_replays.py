"""A change sent again after its answer was lost (docs/api.md, "No lost updates"): the record
already holds it and every change since the version named is the client's own, so it is answered
200 with the current record and nothing is written. Anyone else's change in between, or a
different body, is still 412."""

import pytest

from accounts.services import create_api_client
from registers.models import AuditEvent, Person, StatusChange
from registers.services import update_person_details

from .conftest import client_with, new_person

pytestmark = pytest.mark.django_db

URL = "/api/v1/people/by-reference/CMS-0042/"


@pytest.fixture
def stored(cms, nithsdale):
    body = new_person(nithsdale)
    del body["local_reference"]
    response = cms.put(URL, body, format="json")
    assert response.status_code == 201
    return body


def writes(person_pk):
    return (
        StatusChange.objects.filter(person_id=person_pk).count(),
        AuditEvent.objects.filter(action__startswith="person.").count(),
    )


def test_an_upsert_replayed_after_its_answer_was_lost_is_answered_200_as_documented(cms, stored):
    change = {**stored, "key_worker_name": "Iain Ross"}
    first = cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200
    # The answer never reached the client, which sends the same request again.
    person = Person.objects.get(local_reference="CMS-0042")
    before = writes(person.pk)
    replay = cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"')
    assert replay.status_code == 200, replay.json()
    assert replay["ETag"] == first["ETag"] == '"2"'
    assert replay.json() == first.json()
    assert writes(person.pk) == before


def test_a_replayed_change_of_details_and_status_together_is_answered_200(cms, stored):
    change = {
        **stored,
        "key_worker_name": "Iain Ross",
        "risk_rating": "amber",
        "reason": "Support increased",
    }
    first = cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200
    assert first["ETag"] == '"3"'  # details, then status: two versions
    replay = cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"')
    assert replay.status_code == 200
    assert replay["ETag"] == '"3"'


def test_a_replay_after_someone_else_changed_the_record_is_still_412(cms, stored, lead):
    change = {**stored, "key_worker_name": "Iain Ross"}
    assert cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    person = Person.objects.get(local_reference="CMS-0042")
    update_person_details(lead, person, version=2, lead_professional_team="North LD team")
    replay = cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"')
    assert replay.status_code == 412
    assert 'ETag "3"' in replay.json()["detail"]


def test_a_stale_version_with_a_change_not_yet_made_is_412_and_nothing_changes(cms, stored):
    assert cms.put(URL, {**stored, "key_worker_name": "A"}, format="json", HTTP_IF_MATCH='"1"')
    late = cms.put(URL, {**stored, "key_worker_name": "B"}, format="json", HTTP_IF_MATCH='"1"')
    assert late.status_code == 412
    assert Person.objects.get(local_reference="CMS-0042").key_worker_name == "A"


def test_another_clients_replay_of_the_same_values_is_412(cms, stored, lead, authority):
    change = {**stored, "key_worker_name": "Iain Ross"}
    assert cms.put(URL, change, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    _, token = create_api_client(lead, authority, name="Second CMS", scopes=["read", "write"])
    assert (
        client_with(token).put(URL, change, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    )


def test_a_version_from_the_future_is_412_even_when_nothing_would_change(cms, stored):
    assert cms.put(URL, stored, format="json", HTTP_IF_MATCH='"9"').status_code == 412


def test_a_patch_by_id_replayed_after_its_answer_was_lost_is_answered_200(cms, person):
    url = f"/api/v1/people/{person.pk}/"
    change = {"risk_rating": "amber", "reason": "Carer unwell"}
    first = cms.patch(url, change, format="json", HTTP_IF_MATCH=f'"{person.version}"')
    assert first.status_code == 200
    before = writes(person.pk)
    replay = cms.patch(url, change, format="json", HTTP_IF_MATCH=f'"{person.version}"')
    assert replay.status_code == 200
    assert replay["ETag"] == first["ETag"]
    assert writes(person.pk) == before


def test_a_bulk_item_replayed_after_its_answer_was_lost_is_stored_as_unchanged(cms, stored):
    item = {**stored, "local_reference": "CMS-0042", "key_worker_name": "Iain Ross", "version": 1}
    first = cms.post("/api/v1/people/bulk/", {"people": [item]}, format="json")
    assert first.status_code == 200, first.json()
    person = Person.objects.get(local_reference="CMS-0042")
    before = writes(person.pk)
    replay = cms.post("/api/v1/people/bulk/", {"people": [item]}, format="json")
    assert replay.status_code == 200, replay.json()
    assert replay.json()["results"][0]["version"] == first.json()["results"][0]["version"] == 2
    assert writes(person.pk) == before
