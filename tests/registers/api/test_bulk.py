"""Bulk: up to 500 people in one request, all or nothing, errors by item index."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registers import services
from registers.models import AuditEvent, Person, StatusChange
from registers.validation import make_chi
from tests.factories import PersonFactory

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


# The batch: a fixed number of queries whatever its size, and the same records as one by one.
def _queries(api, items):
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = api.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, str(response.json())[:500]
    return len(captured)


def _new_people(locality, prefix, count):
    return [
        new_person(
            locality, f"{prefix}-{i:03d}", urgent_reason=None, category="enhanced_monitoring"
        )
        for i in range(count)
    ]


def test_adding_people_runs_the_same_queries_for_5_as_for_100(cms, nithsdale):
    few = _queries(cms, _new_people(nithsdale, "FEW", 5))
    many = _queries(cms, _new_people(nithsdale, "MANY", 100))
    assert many <= few + 2, (few, many)
    assert Person.objects.count() == 105


def test_changing_people_runs_the_same_queries_for_5_as_for_100(cms, nithsdale):
    people = PersonFactory.create_batch(105, locality=nithsdale, chi_number=None)

    def changes(group):
        return [
            {"local_reference": p.local_reference, "version": p.version, "key_worker_name": "Iain"}
            for p in group
        ]

    few = _queries(cms, changes(people[:5]))
    many = _queries(cms, changes(people[5:]))
    assert many <= few + 2, (few, many)
    assert set(Person.objects.values_list("key_worker_name", "version")) == {("Iain", 2)}


def test_a_mixed_batch_writes_each_persons_history_and_one_audit_event_each(
    cms, nithsdale, stewartry
):
    details = PersonFactory(locality=nithsdale)
    status = PersonFactory(locality=nithsdale)
    items = [
        new_person(nithsdale, "NEW-1"),
        {"local_reference": details.local_reference, "version": 1, "key_worker_name": "Iain"},
        {
            "local_reference": status.local_reference,
            "version": 1,
            "risk_rating": "amber",
            "reason": "Carer unwell",
        },
        new_person(stewartry, "NEW-2", category="enhanced_monitoring", urgent_reason=None),
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, response.json()
    added = {
        p.local_reference: p for p in Person.objects.filter(local_reference__in=["NEW-1", "NEW-2"])
    }
    expected = {
        added["NEW-1"].pk: ("added", 1, "Provider has given notice"),
        added["NEW-2"].pk: ("added", 1, "Provider has given notice"),
        details.pk: ("details", 2, ""),
        status.pk: ("status", 2, "Carer unwell"),
    }
    history = {c.person_id: (c.kind, c.version, c.reason) for c in StatusChange.objects.all()}
    assert history == expected
    assert StatusChange.objects.count() == 4
    added_one = StatusChange.objects.get(person=added["NEW-1"])
    assert (
        added_one.new_category == "urgent" and added_one.new_urgent_reason == "at_risk_of_breakdown"
    )
    assert added_one.state["locality_id"] == nithsdale.pk
    assert added_one.effective_date == timezone.localdate()
    assert StatusChange.objects.get(person=details).changes == {"key_worker_name": ["", "Iain"]}
    rated = StatusChange.objects.get(person=status)
    assert (rated.old_risk_rating, rated.new_risk_rating) == ("green", "amber")
    assert rated.changes["risk_rating"] == ["green", "amber"]
    events = AuditEvent.objects.filter(action__startswith="person.")
    assert sorted((e.object_id, e.action) for e in events) == sorted(
        [
            (str(added["NEW-1"].pk), "person.added"),
            (str(added["NEW-2"].pk), "person.added"),
            (str(details.pk), "person.details"),
            (str(status.pk), "person.status"),
        ]
    )
    assert events.get(action="person.details").changes == {"key_worker_name": ["", "Iain"]}
    assert {e.actor_id for e in events} == {cms.record.service_user_id}
    details.refresh_from_db()
    status.refresh_from_db()
    assert (details.version, status.version) == (2, 2)
    assert details.updated_at > details.created_at


def test_a_batch_records_the_same_history_as_the_single_person_change(cms, nithsdale, lead):
    one, other = PersonFactory.create_batch(2, locality=nithsdale, chi_number=None)
    change = {
        "key_worker_name": "Iain",
        "category": "urgent",
        "urgent_reason": "at_risk_of_breakdown",
        "risk_rating": "red",
        "reason": "Provider has given notice",
    }
    services.update_person(lead, one.pk, version=1, **change)
    response = cms.post(
        URL,
        {"people": [{"local_reference": other.local_reference, "version": 1, **change}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["results"][0]["version"] == 3

    def history(person):
        return [
            (c.kind, c.version, c.reason, c.effective_date, c.changes, c.state, c.new_category)
            for c in StatusChange.objects.filter(person=person).order_by("version")
        ]

    assert history(other) == history(one)
    assert [k for k, *_ in history(other)] == ["details", "status"]
    one.refresh_from_db()
    other.refresh_from_db()
    assert (other.version, other.next_review_due, other.category) == (
        one.version,
        one.next_review_due,
        one.category,
    )
    actions = AuditEvent.objects.filter(object_id=str(other.pk)).values_list("action", flat=True)
    assert sorted(actions) == ["person.details", "person.status"]


def test_errors_in_items_3_and_7_of_10_are_both_reported_and_nothing_is_stored(
    cms, nithsdale, person
):
    items = _new_people(nithsdale, "TEN", 9)
    items.insert(
        3, {"local_reference": person.local_reference, "version": 1, "date_of_birth": "2030-01-01"}
    )
    items[7] = new_person(nithsdale, "TEN-BAD", category="urgent", urgent_reason=None)
    assert len(items) == 10
    before = (StatusChange.objects.count(), AuditEvent.objects.exclude(action="api.call").count())
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["3", "7"]
    assert "date_of_birth" in errors["3"]
    assert "urgent_reason" in errors["7"]
    assert not Person.objects.filter(local_reference__startswith="TEN").exists()
    person.refresh_from_db()
    assert person.version == 1
    after = (StatusChange.objects.count(), AuditEvent.objects.exclude(action="api.call").count())
    assert after == before


def test_a_stale_version_among_many_changes_is_that_items_error(cms, nithsdale):
    people = PersonFactory.create_batch(5, locality=nithsdale, chi_number=None)
    items = [
        {"local_reference": p.local_reference, "version": 1, "key_worker_name": "Iain"}
        for p in people
    ]
    items[2]["version"] = 4
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["2"]
    assert "current version is 1" in errors["2"]["version"][0]
    assert set(Person.objects.values_list("version", flat=True)) == {1}


def test_a_chi_number_already_on_the_register_or_earlier_in_the_batch_is_refused(
    cms, nithsdale, person
):
    chi = make_chi(dt.date(1988, 3, 14), "female", 1)
    items = [
        new_person(nithsdale, "CHI-1", chi_number=person.chi_number, date_of_birth="1990-05-17"),
        new_person(nithsdale, "CHI-2", chi_number=chi),
        new_person(nithsdale, "CHI-3", chi_number=chi),
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["0", "2"]
    assert "already on this authority's register" in errors["0"]["chi_number"][0]
    assert "already on this authority's register" in errors["2"]["chi_number"][0]
    assert Person.objects.count() == 1


def test_a_locality_move_and_a_new_review_date_still_go_through_in_a_batch(
    cms, nithsdale, stewartry
):
    moving, reviewed = PersonFactory.create_batch(2, locality=nithsdale, chi_number=None)
    due = timezone.localdate() + dt.timedelta(days=90)
    items = [
        {"local_reference": moving.local_reference, "version": 1, "locality": stewartry.pk},
        {"local_reference": reviewed.local_reference, "version": 1, "next_review_due": str(due)},
        new_person(nithsdale, "WITH-MOVES"),
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, response.json()
    moving.refresh_from_db()
    reviewed.refresh_from_db()
    assert (moving.locality_id, moving.version) == (stewartry.pk, 2)
    assert (reviewed.next_review_due, reviewed.version) == (due, 2)
    assert StatusChange.objects.filter(kind="locality", person=moving).exists()
    assert [r["version"] for r in response.json()["results"]] == [2, 2, 1]


def test_a_replayed_batch_changes_nothing(cms, nithsdale, person):
    items = [
        new_person(nithsdale, "AGAIN-1"),
        {"local_reference": person.local_reference, "version": 1, "key_worker_name": "Iain"},
    ]
    assert cms.post(URL, {"people": items}, format="json").status_code == 200
    count = StatusChange.objects.count()
    del items[1]["version"]  # nothing would change: no version needed
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 200, response.json()
    assert [(r["created"], r["version"]) for r in response.json()["results"]] == [
        (False, 1),
        (False, 2),
    ]
    assert StatusChange.objects.count() == count


def test_a_clash_only_the_database_sees_is_still_reported_by_index(cms, nithsdale, person):
    # Item 0 takes the CHI number person still holds; item 1 gives person another one. One by
    # one, item 0 comes first and is refused: so is the batch, with item 0's error.
    born = dt.date(1990, 5, 17)
    other_chi = next(
        chi
        for chi in (make_chi(born, "female", n) for n in range(1, 20))
        if chi and chi != person.chi_number
    )
    items = [
        new_person(nithsdale, "RACE-1", chi_number=person.chi_number, date_of_birth="1990-05-17"),
        {"local_reference": person.local_reference, "version": 1, "chi_number": other_chi},
    ]
    response = cms.post(URL, {"people": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["0"]
    assert "already on this authority's register" in errors["0"]["chi_number"][0]
    person.refresh_from_db()
    assert person.version == 1
    assert not Person.objects.filter(local_reference="RACE-1").exists()
