"""People through the API: add, read, change with ETags, upsert by reference, sync filters."""

import datetime as dt

import pytest
from django.utils import timezone

from registers.models import AuditEvent, Person, StatusChange
from tests.factories import PersonFactory

from .conftest import new_person

pytestmark = pytest.mark.django_db


def test_adding_a_person_answers_201_with_their_etag_and_records_history(cms, nithsdale):
    response = cms.post("/api/v1/people/", new_person(nithsdale), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"/api/v1/people/{body['id']}/"
    assert body["category"] == "urgent"
    assert body["urgent_reason"] == "at_risk_of_breakdown"
    assert body["authority"] == "S37000006"
    person = Person.objects.get(pk=body["id"])
    change = StatusChange.objects.get(person=person)
    assert change.kind == "added"
    assert change.reason == "Provider has given notice"
    assert str(change.changed_by) == "API client Care First"


def test_every_call_is_audited_with_the_clients_name(cms, nithsdale):
    cms.post("/api/v1/people/", new_person(nithsdale), format="json")
    cms.get("/api/v1/people/")
    labels = set(AuditEvent.objects.values_list("actor_label", "action"))
    assert ("API client Care First", "person.added") in labels
    calls = AuditEvent.objects.filter(action="api.call", actor_label="API client Care First")
    assert [c.changes["method"] for c in calls.order_by("id")] == ["POST", "GET"]


def test_reading_a_person_carries_their_version_as_etag(cms, person):
    response = cms.get(f"/api/v1/people/{person.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == f'"{person.version}"'
    assert response.json()["local_reference"] == person.local_reference


def test_patch_with_the_current_etag_changes_the_record(cms, person):
    response = cms.patch(
        f"/api/v1/people/{person.pk}/",
        {"key_worker_name": "Iain Ross"},
        format="json",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert person.key_worker_name == "Iain Ross"
    assert response["ETag"] == f'"{person.version}"'


def test_a_status_change_through_patch_needs_a_reason(cms, person):
    url = f"/api/v1/people/{person.pk}/"
    refused = cms.patch(url, {"risk_rating": "amber"}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert "reason" in refused.json()["errors"]
    done = cms.patch(
        url,
        {"risk_rating": "amber", "reason": "Carer unwell"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert done.status_code == 200
    person.refresh_from_db()
    assert person.risk_rating == "amber"
    assert person.status_changes.filter(kind="status", reason="Carer unwell").exists()


def test_a_write_without_if_match_is_refused_with_428_and_nothing_changes(cms, person):
    response = cms.patch(f"/api/v1/people/{person.pk}/", {"key_worker_name": "X"}, format="json")
    assert response.status_code == 428
    body = response.json()
    assert body["status"] == 428
    assert body["type"].startswith("urn:dsr:problem:")
    assert body["instance"] == f"/api/v1/people/{person.pk}/"
    person.refresh_from_db()
    assert person.key_worker_name == ""


def test_a_stale_if_match_is_refused_with_412_and_nothing_changes(cms, person):
    response = cms.put(
        f"/api/v1/people/{person.pk}/",
        {"key_worker_name": "X"},
        format="json",
        HTTP_IF_MATCH='"7"',
    )
    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"
    person.refresh_from_db()
    assert (person.version, person.key_worker_name) == (1, "")


def test_put_replaces_the_writable_fields(cms, person):
    body = cms.get(f"/api/v1/people/{person.pk}/").json()
    body.update(given_name="Ailsa", lead_professional_team="North LD team")
    response = cms.put(f"/api/v1/people/{person.pk}/", body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert (person.given_name, person.lead_professional_team) == ("Ailsa", "North LD team")


def test_upsert_by_reference_adds_then_replays_without_writing_then_needs_if_match(cms, nithsdale):
    url = "/api/v1/people/by-reference/CMS-0042/"
    body = new_person(nithsdale)
    del body["local_reference"]
    created = cms.put(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["local_reference"] == "CMS-0042"
    replayed = cms.put(url, body, format="json")
    assert replayed.status_code == 200
    assert replayed["ETag"] == '"1"'
    changed = {**body, "key_worker_name": "Iain Ross"}
    assert cms.put(url, changed, format="json").status_code == 428
    assert cms.put(url, changed, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    # The same change again (its answer lost): done already, so 200 (test_replays.py).
    assert cms.put(url, changed, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    other = {**body, "key_worker_name": "Someone else"}
    assert cms.put(url, other, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    assert Person.objects.filter(local_reference="CMS-0042").count() == 1
    assert cms.get(url).json()["key_worker_name"] == "Iain Ross"


def test_a_new_reference_without_the_required_fields_is_refused(cms, nithsdale):
    response = cms.put("/api/v1/people/by-reference/NEW-1/", {"given_name": "Ann"}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"family_name", "date_of_birth", "category", "locality"} <= set(errors)
    assert not Person.objects.filter(local_reference="NEW-1").exists()


def test_updated_since_returns_only_people_changed_after_the_last_sync(cms, nithsdale):
    old = PersonFactory(locality=nithsdale, updated_at=timezone.now() - dt.timedelta(days=3))
    recent = PersonFactory(locality=nithsdale)
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    listing = cms.get("/api/v1/people/", {"updated_since": since}).json()
    ids = [p["id"] for p in listing["results"]]
    assert recent.pk in ids
    assert old.pk not in ids


def test_list_filters_match_the_register_pages(cms, nithsdale, stewartry):
    at_risk = PersonFactory(locality=nithsdale, at_risk=True)
    PersonFactory(locality=nithsdale)
    overdue = PersonFactory(locality=stewartry, next_review_due=dt.date(2024, 1, 1))

    def ids(**params):
        return {p["id"] for p in cms.get("/api/v1/people/", params).json()["results"]}

    assert ids(category="urgent") == {at_risk.pk}
    assert ids(risk_rating="red") == {at_risk.pk}
    assert ids(locality=stewartry.pk) == {overdue.pk}
    assert ids(review_overdue="true") == {overdue.pk}


def test_cursor_pagination_walks_every_person_once_in_update_order(cms, nithsdale):
    people = [PersonFactory(locality=nithsdale) for _ in range(7)]
    seen, url = [], "/api/v1/people/?page_size=3"
    while url:
        page = cms.get(url).json()
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
    assert seen == [p.pk for p in people]


def test_status_history_and_a_new_status_change(cms, person):
    url = f"/api/v1/people/{person.pk}/status-changes/"
    response = cms.post(
        url,
        {
            "category": "urgent",
            "urgent_reason": "at_risk_of_breakdown",
            "risk_rating": "red",
            "reason": "Placement ending",
        },
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 201, response.json()
    assert response["ETag"] == '"2"'
    assert response.json()["new_category"] == "urgent"
    history = cms.get(url).json()["results"]
    assert [h["kind"] for h in history] == ["status"]
    assert cms.post(url, {"category": "urgent"}, format="json").status_code == 428


def test_reviews_are_listed_and_recorded(cms, person):
    url = f"/api/v1/people/{person.pk}/reviews/"
    today = timezone.localdate()
    response = cms.post(
        url,
        {"review_date": today.isoformat(), "attendees": "Family, key worker", "outcome": "Stable"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 201, response.json()
    assert response["ETag"] == '"2"'
    assert [r["outcome"] for r in cms.get(url).json()["results"]] == ["Stable"]


def test_codes_and_localities_are_published(cms, nithsdale, stewartry, other_authority):
    codes = cms.get("/api/v1/codes/").json()
    assert [c["value"] for c in codes["category"]] == [
        "urgent",
        "enhanced_monitoring",
        "appropriate_out_of_area",
    ]
    assert "S37000012" in [c["value"] for c in codes["host_area"]]
    assert "england" in [c["value"] for c in codes["host_area"]]
    localities = cms.get("/api/v1/localities/").json()
    assert [loc["name"] for loc in localities] == ["Nithsdale", "Stewartry"]


def test_throttled_calls_answer_429_with_retry_after(cms, settings):
    settings.DSR_API_RATE = "2/min"
    statuses = [cms.get("/api/v1/codes/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = cms.get("/api/v1/codes/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["status"] == 429


@pytest.mark.parametrize("header", ['"abc"', "*", '"²"', "W/"])
def test_an_if_match_that_is_not_an_etag_is_refused_as_malformed_not_stale(cms, person, header):
    response = cms.patch(
        f"/api/v1/people/{person.pk}/",
        {"key_worker_name": "X"},
        format="json",
        HTTP_IF_MATCH=header,
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:dsr:problem:if-match-malformed"
    person.refresh_from_db()
    assert person.key_worker_name == ""
