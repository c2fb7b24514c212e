"""Conditional reads (RFC 9110, 13.1.2): `If-None-Match` naming the person's current ETag is
answered 304 with the ETag and no body; anything else reads the record as usual."""

import pytest

from registers.services import update_person_details

pytestmark = pytest.mark.django_db


def detail(person):
    return f"/api/v1/people/{person.pk}/"


def test_the_current_etag_in_if_none_match_answers_304_with_no_body(cms, person):
    etag = cms.get(detail(person))["ETag"]
    response = cms.get(detail(person), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_weak_form_of_the_current_etag_also_answers_304(cms, person):
    response = cms.get(detail(person), HTTP_IF_NONE_MATCH=f'W/"{person.version}"')
    assert response.status_code == 304


def test_a_list_holding_the_current_etag_answers_304(cms, person):
    response = cms.get(detail(person), HTTP_IF_NONE_MATCH=f'"99", W/"7" , "{person.version}"')
    assert response.status_code == 304


def test_a_star_answers_304_for_a_person_who_exists(cms, person):
    assert cms.get(detail(person), HTTP_IF_NONE_MATCH="*").status_code == 304


def test_an_old_etag_reads_the_changed_record_with_its_new_etag(cms, person, lead):
    old = cms.get(detail(person))["ETag"]
    update_person_details(lead, person, version=person.version, key_worker_name="Iain Ross")
    response = cms.get(detail(person), HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert response.json()["key_worker_name"] == "Iain Ross"
    assert response["ETag"] == f'"{person.version + 1}"'


@pytest.mark.parametrize("header", ['"2"', "garbage", '"1', "W/", ""])
def test_if_none_match_that_names_no_current_etag_reads_the_record(cms, person, header):
    response = cms.get(detail(person), HTTP_IF_NONE_MATCH=header)
    assert response.status_code == 200
    assert response.json()["id"] == person.pk


def test_reading_by_reference_answers_304_for_the_current_etag(cms, person):
    url = f"/api/v1/people/by-reference/{person.local_reference}/"
    etag = cms.get(url)["ETag"]
    response = cms.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag


def test_another_authoritys_person_is_404_whatever_if_none_match_says(cms, other_person):
    response = cms.get(detail(other_person), HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_304_is_audited_as_a_call(cms, person):
    from registers.models import AuditEvent

    cms.get(detail(person), HTTP_IF_NONE_MATCH="*")
    event = AuditEvent.objects.filter(action="api.call").latest("pk")
    assert event.changes["status"] == 304
