"""Leaving the register and asking another authority to take a person, through the API: the
browser's services and rules, If-Match, history and audit; problem details for every refusal,
with nothing changed."""

import datetime as dt

import pytest
from django.utils import timezone

from registers.models import AuditEvent, Person, StatusChange, Transfer

pytestmark = pytest.mark.django_db


def leave_url(person):
    return f"/api/v1/people/{person.pk}/leave/"


def transfers_url(person):
    return f"/api/v1/people/{person.pk}/transfers/"


def leaving(**overrides):
    body = {
        "date_left": timezone.localdate().isoformat(),
        "leaving_reason": "settled_in_community",
        "note": "Supported tenancy",
    }
    body.update(overrides)
    return body


def unchanged(person):
    stored = Person.objects.get(pk=person.pk)
    return stored.version == person.version and stored.date_left is None


def test_a_person_leaves_the_register_with_history_audit_and_a_new_etag(cms, person):
    response = cms.post(
        leave_url(person), leaving(), format="json", HTTP_IF_MATCH=f'"{person.version}"'
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["date_left"] == timezone.localdate().isoformat()
    assert body["leaving_reason"] == "settled_in_community"
    assert response["ETag"] == f'"{person.version + 1}"' == f'"{body["version"]}"'
    change = StatusChange.objects.filter(person=person).latest("pk")
    assert (change.kind, change.reason) == ("left", "Supported tenancy")
    event = AuditEvent.objects.filter(action="person.left").get()
    assert event.actor_label == "API client Care First"
    assert cms.get(leave_url(person)).json() == {
        "date_left": body["date_left"],
        "leaving_reason": "settled_in_community",
    }


def test_a_person_on_the_register_has_no_leaving(reader, person):
    assert reader.get(leave_url(person)).json() == {"date_left": None, "leaving_reason": None}


def test_leaving_without_if_match_is_428_and_nothing_changes(cms, person):
    response = cms.post(leave_url(person), leaving(), format="json")
    assert response.status_code == 428
    assert response["Content-Type"] == "application/problem+json"
    assert unchanged(person)


def test_leaving_from_a_stale_version_is_412_and_nothing_changes(cms, person):
    response = cms.post(leave_url(person), leaving(), format="json", HTTP_IF_MATCH='"7"')
    assert response.status_code == 412
    assert unchanged(person)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (leaving(leaving_reason="transferred_to_other_ia"), "leaving_reason"),
        (leaving(leaving_reason="bored"), "leaving_reason"),
        (leaving(date_left="2999-01-01"), "date_left"),
        (leaving(date_left="1999-01-01"), "date_left"),
        (leaving(date_left="not a date"), "date_left"),
        ({"leaving_reason": "died"}, "date_left"),
        (leaving(dated="2025-01-01"), "dated"),
    ],
)
def test_bad_leaving_input_is_400_problem_details_naming_the_field_and_nothing_changes(
    cms, person, body, field
):
    response = cms.post(leave_url(person), body, format="json", HTTP_IF_MATCH=f'"{person.version}"')
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert unchanged(person)


def test_a_person_who_has_left_cannot_leave_again(cms, person):
    first = cms.post(leave_url(person), leaving(), format="json", HTTP_IF_MATCH='"1"')
    again = cms.post(leave_url(person), leaving(), format="json", HTTP_IF_MATCH=first["ETag"])
    assert again.status_code == 400
    assert "closed" in str(again.json()["errors"])


def test_a_read_only_client_cannot_record_a_leaving(reader, person):
    response = reader.post(leave_url(person), leaving(), format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 403
    assert unchanged(person)


def test_another_authoritys_person_is_404_for_leaving_and_transfers(cms, other_person, authority):
    assert (
        cms.post(leave_url(other_person), leaving(), format="json", HTTP_IF_MATCH='"1"').status_code
        == 404
    )
    asked = cms.post(
        transfers_url(other_person),
        {"to_authority": authority.code, "reason": "Moving"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert asked.status_code == 404
    assert cms.get(transfers_url(other_person)).status_code == 404
    assert cms.get(leave_url(other_person)).status_code == 404
    assert unchanged(other_person)
    assert not Transfer.objects.exists()


def test_a_transfer_is_requested_by_hscp_code_and_audited(cms, person, other_authority, other_lead):
    response = cms.post(
        transfers_url(person),
        {"to_authority": other_authority.code, "reason": "Family moving to Leith"},
        format="json",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["to_authority"] == "S37000012"
    assert (body["status"], body["person"]) == ("pending", person.pk)
    assert response["ETag"] == f'"{person.version}"'  # asking changes nothing on the record
    transfer = Transfer.objects.get()
    assert (transfer.to_authority_id, transfer.reason) == (
        other_authority.pk,
        "Family moving to Leith",
    )
    event = AuditEvent.objects.get(action="transfer.requested")
    assert event.actor_label == "API client Care First"
    listed = cms.get(transfers_url(person)).json()
    assert [t["id"] for t in listed] == [transfer.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_authority": "S37999999", "reason": "Moving"}, "to_authority"),
        ({"to_authority": "S37000006", "reason": "Moving"}, "to_authority"),  # its own
        ({"to_authority": "S37000012", "reason": "   "}, "reason"),
        ({"reason": "Moving"}, "to_authority"),
    ],
)
def test_bad_transfer_input_is_400_problem_details_and_nothing_is_asked(
    cms, person, other_authority, body, field
):
    response = cms.post(
        transfers_url(person), body, format="json", HTTP_IF_MATCH=f'"{person.version}"'
    )
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not Transfer.objects.exists()


def test_a_second_transfer_while_one_waits_is_refused(cms, person, other_authority):
    body = {"to_authority": other_authority.code, "reason": "Moving"}
    first = cms.post(transfers_url(person), body, format="json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 201
    again = cms.post(transfers_url(person), body, format="json", HTTP_IF_MATCH='"1"')
    assert again.status_code == 400
    assert Transfer.objects.count() == 1


def test_a_transfer_without_if_match_is_428(cms, person, other_authority):
    response = cms.post(
        transfers_url(person), {"to_authority": other_authority.code, "reason": "x"}, format="json"
    )
    assert response.status_code == 428
    assert not Transfer.objects.exists()


def test_a_read_only_client_reads_transfers_but_cannot_ask_for_one(reader, person, other_authority):
    assert reader.get(transfers_url(person)).status_code == 200
    response = reader.post(
        transfers_url(person),
        {"to_authority": other_authority.code, "reason": "x"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 403


def test_a_leaver_cannot_be_transferred(cms, person, other_authority):
    left = cms.post(
        leave_url(person),
        leaving(date_left=(timezone.localdate() - dt.timedelta(days=0)).isoformat()),
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    response = cms.post(
        transfers_url(person),
        {"to_authority": other_authority.code, "reason": "Moving"},
        format="json",
        HTTP_IF_MATCH=left["ETag"],
    )
    assert response.status_code == 400
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("count", [1, 12])
def test_listing_a_persons_transfers_runs_a_constant_number_of_queries(
    cms, person, other_authority, lead, count, django_assert_max_num_queries
):
    for i in range(count):
        Transfer.objects.create(
            authority_id=person.authority_id,
            to_authority=other_authority,
            person=person,
            reason=f"Move {i}",
            status="declined",
            requested_by=lead,
            decided_at=timezone.now(),
            decision_note="No place",
        )
    with django_assert_max_num_queries(15):
        listed = cms.get(transfers_url(person)).json()
    assert len(listed) == count


def test_leaving_runs_a_bounded_number_of_queries(cms, person, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        response = cms.post(leave_url(person), leaving(), format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
