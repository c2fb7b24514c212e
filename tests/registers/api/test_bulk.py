"""Bulk: up to 500 people in one request, all or nothing, errors by item index."""

import pytest

from registers.models import AuditEvent, Person, StatusChange

from .conftest import new_person

pytestmark = pytest.mark.django_db

URL = "/api/v1/people/bulk/"


def test_a_batch_is_stored_whole_and_each_item_reported(cms, nithsdale, person):
    items = [new_person(nithsdale, f"B-{i}") for i in range(3)]
    items.append(
        {"local_reference": person.local_reference, "version": 1, "key_worker_name": "Iain"}
    )
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(r["index"], r["created"]) for r in results] == [
        (0, True),
        (1, True),
        (2, True),
        (3, False),
    ]
    assert Person.objects.filter(local_reference__startswith="B-").count() == 3
    person.refresh_from_db()
    assert person.key_worker_name == "Iain"


def test_one_bad_item_stores_nothing_and_every_error_is_reported_by_index(cms, nithsdale, person):
    items = [
        new_person(nithsdale, "OK-1"),
        new_person(nithsdale, "BAD-1", date_of_birth="2030-01-01"),
        new_person(nithsdale, "OK-2"),
        new_person(nithsdale, "BAD-2", category="not_a_category"),
        {"local_reference": person.local_reference, "key_worker_name": "No version"},
        new_person(nithsdale, "OK-1"),
    ]
    before = (StatusChange.objects.count(), AuditEvent.objects.exclude(action="api.call").count())
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:dsr:problem:validation-error"
    assert set(body["errors"]) == {"1", "3", "4", "5"}
    assert "date_of_birth" in body["errors"]["1"]
    assert "category" in body["errors"]["3"]
    assert "version" in body["errors"]["4"]
    assert "local_reference" in body["errors"]["5"]
    assert not Person.objects.filter(local_reference__startswith="OK-").exists()
    after = (StatusChange.objects.count(), AuditEvent.objects.exclude(action="api.call").count())
    assert after == before


def test_a_stale_version_in_a_batch_is_an_error_of_that_item(cms, nithsdale, person):
    items = [
        new_person(nithsdale, "OK-1"),
        {"local_reference": person.local_reference, "version": 9, "key_worker_name": "X"},
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["1"]
    assert "current version is 1" in response.json()["errors"]["1"]["version"][0]
    assert not Person.objects.filter(local_reference="OK-1").exists()


def test_more_than_500_people_are_refused(cms, nithsdale):
    items = [{"local_reference": f"R{i}"} for i in range(501)]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    assert "people" in response.json()["errors"]


def test_500_people_are_accepted_in_one_request(cms, nithsdale):
    items = [new_person(nithsdale, f"N-{i:03d}", chi_number=None) for i in range(500)]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, str(response.json())[:500]
    assert Person.objects.count() == 500


def test_an_item_refused_by_the_input_checks_alone_still_stores_nothing(cms, nithsdale):
    items = [
        new_person(nithsdale, "OK-1"),
        new_person(nithsdale, "BAD-1", sex="unknown"),
        new_person(nithsdale, "OK-2"),
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["1"]
    assert not Person.objects.exists()
