"""`Idempotency-Key` on POSTs: the same key and request again is answered with the first answer
and nothing is done twice; the same key with another request is 422; keys are the client's own,
released when the request is refused, expire and are purged; two requests at once with one key
never both act."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from accounts.services import create_api_client
from registers import services
from registers.api.idempotency import purge_expired_keys
from registers.models import AuditEvent, IdempotencyKey, Person, Review, StatusChange, Transfer

from .conftest import client_with, new_person

pytestmark = pytest.mark.django_db


def post(api, url, body, key, **headers):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_the_same_key_and_body_replays_the_first_answer_without_adding_twice(cms, nithsdale):
    body = new_person(nithsdale)
    first = post(cms, "/api/v1/people/", body, "add-0001")
    assert first.status_code == 201, first.json()
    again = post(cms, "/api/v1/people/", body, "add-0001")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (again["ETag"], again["Location"]) == (first["ETag"], first["Location"])
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Person.objects.filter(local_reference="CMS-0001").count() == 1
    assert AuditEvent.objects.filter(action="person.added").count() == 1


def test_key_order_and_spacing_of_the_body_do_not_make_another_request(cms, nithsdale):
    body = new_person(nithsdale)
    assert post(cms, "/api/v1/people/", body, "k1").status_code == 201
    reordered = dict(reversed(list(body.items())))
    assert post(cms, "/api/v1/people/", reordered, "k1")["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_422_and_nothing_is_done(cms, nithsdale):
    assert post(cms, "/api/v1/people/", new_person(nithsdale), "k2").status_code == 201
    other = new_person(nithsdale, reference="CMS-0002")
    response = post(cms, "/api/v1/people/", other, "k2")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:dsr:problem:idempotency-key-reused"
    assert not Person.objects.filter(local_reference="CMS-0002").exists()


def test_the_same_key_on_another_endpoint_is_422(cms, nithsdale, person):
    assert post(cms, "/api/v1/people/", new_person(nithsdale), "k3").status_code == 201
    response = post(
        cms,
        f"/api/v1/people/{person.pk}/reviews/",
        {"review_date": "2025-01-06", "attendees": "Team", "outcome": "Stable"},
        "k3",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert response.status_code == 422
    assert not Review.objects.exists()


def test_keys_are_per_client_so_another_client_may_use_the_same_key(
    cms, nithsdale, lead, authority
):
    assert post(cms, "/api/v1/people/", new_person(nithsdale), "shared").status_code == 201
    _, token = create_api_client(lead, authority, name="Second CMS", scopes=["read", "write"])
    second = post(
        client_with(token), "/api/v1/people/", new_person(nithsdale, reference="B-1"), "shared"
    )
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second


def test_a_refused_request_releases_its_key_for_the_corrected_request(cms, nithsdale):
    bad = new_person(nithsdale, date_of_birth="2999-01-01")
    refused = post(cms, "/api/v1/people/", bad, "fix-me")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    fixed = post(cms, "/api/v1/people/", new_person(nithsdale), "fix-me")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed


def test_a_status_change_replayed_with_its_key_is_recorded_once(cms, person):
    url = f"/api/v1/people/{person.pk}/status-changes/"
    body = {
        "category": "urgent",
        "urgent_reason": "at_risk_of_breakdown",
        "risk_rating": "red",
        "reason": "Placement ending",
    }
    first = post(cms, url, body, "sc-1", HTTP_IF_MATCH=f'"{person.version}"')
    assert first.status_code == 201
    # Without the key this would be 412 (the version moved on); with it, the first answer.
    again = post(cms, url, body, "sc-1", HTTP_IF_MATCH=f'"{person.version}"')
    assert again.status_code == 201
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert StatusChange.objects.filter(person=person, reason="Placement ending").count() == 1


def test_a_leaving_and_a_transfer_replayed_with_their_keys_act_once(cms, person, other_authority):
    ask = {"to_authority": other_authority.code, "reason": "Moving"}
    url = f"/api/v1/people/{person.pk}/transfers/"
    assert post(cms, url, ask, "t-1", HTTP_IF_MATCH='"1"').status_code == 201
    assert post(cms, url, ask, "t-1", HTTP_IF_MATCH='"1"').status_code == 201
    assert Transfer.objects.count() == 1
    leave = {"date_left": timezone.localdate().isoformat(), "leaving_reason": "died"}
    url = f"/api/v1/people/{person.pk}/leave/"
    first = post(cms, url, leave, "l-1", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200, first.json()
    again = post(cms, url, leave, "l-1", HTTP_IF_MATCH='"1"')
    assert (again.status_code, again.json()) == (200, first.json())
    assert StatusChange.objects.filter(person=person, kind="left").count() == 1


def test_a_bulk_replayed_with_its_key_answers_the_first_results(cms, nithsdale):
    items = {"people": [new_person(nithsdale, reference=f"B-{i}") for i in range(3)]}
    first = post(cms, "/api/v1/people/bulk/", items, "bulk-1")
    again = post(cms, "/api/v1/people/bulk/", items, "bulk-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Person.objects.count() == 3


@pytest.mark.parametrize("key", ["", "   ", "a" * 256, "with space", "caf\u00e9"])
def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_400(cms, nithsdale, key):
    response = cms.post(
        "/api/v1/people/",
        new_person(nithsdale),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Person.objects.exists()


def test_an_expired_key_is_a_new_request(cms, nithsdale, settings):
    assert post(cms, "/api/v1/people/", new_person(nithsdale), "old").status_code == 201
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = post(cms, "/api/v1/people/", new_person(nithsdale, reference="CMS-0009"), "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again


def test_keys_are_kept_for_the_configured_hours(cms, nithsdale, settings):
    settings.DSR_IDEMPOTENCY_KEY_HOURS = 24
    before = timezone.now()
    post(cms, "/api/v1/people/", new_person(nithsdale), "kept")
    row = IdempotencyKey.objects.get()
    assert row.api_client_id == cms.record.pk and row.authority_id == cms.record.authority_id
    assert (
        dt.timedelta(hours=23, minutes=59)
        < row.expires_at - before
        <= dt.timedelta(hours=24, seconds=5)
    )


def test_expired_keys_are_purged_and_the_others_kept(cms, nithsdale):
    post(cms, "/api/v1/people/", new_person(nithsdale), "a")
    post(cms, "/api/v1/people/", new_person(nithsdale, reference="CMS-0002"), "b")
    IdempotencyKey.objects.filter(key="a").update(expires_at=timezone.now() - dt.timedelta(hours=1))
    assert purge_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["b"]


def test_the_purge_is_scheduled_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["task"] == "registers.tasks.purge_idempotency_keys"


def test_a_key_on_a_read_is_ignored(cms, person):
    response = cms.get(f"/api/v1/people/{person.pk}/", HTTP_IDEMPOTENCY_KEY="read-1")
    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


def test_a_replay_runs_a_bounded_number_of_queries(cms, nithsdale, django_assert_max_num_queries):
    body = new_person(nithsdale)
    post(cms, "/api/v1/people/", body, "q")
    with django_assert_max_num_queries(15):
        assert post(cms, "/api/v1/people/", body, "q")["Idempotent-Replayed"] == "true"


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_with_one_key_act_once(authority, lead, nithsdale, monkeypatch):
    """The second request waits on the first's key row, then replays its answer."""
    _, token = create_api_client(lead, authority, name="Racing CMS", scopes=["read", "write"])
    inside = threading.Event()
    add_person = services.add_person

    def slow_add_person(*args, **kwargs):
        inside.set()
        time.sleep(1.0)  # the second request arrives while the first is still acting
        return add_person(*args, **kwargs)

    monkeypatch.setattr(services, "add_person", slow_add_person)
    body = new_person(nithsdale)
    answers = {}

    def send(name):
        try:
            answers[name] = post(client_with(token), "/api/v1/people/", body, "race-1")
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    first.join(20)
    second.join(20)
    assert answers["first"].status_code == answers["second"].status_code == 201
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert answers["second"].json() == answers["first"].json()
    assert Person.objects.filter(local_reference="CMS-0001").count() == 1
