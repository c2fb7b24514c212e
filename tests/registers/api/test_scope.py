"""Tokens act within their one authority and their scopes; revoked tokens fail."""

import pytest

from accounts.services import revoke_api_client
from registers.models import Person

from .conftest import client_with, new_person

pytestmark = pytest.mark.django_db


def _calls(person, locality):
    """Every operation on one person (or with one locality), as (name, method, url, body, ok)."""
    base = f"/api/v1/people/{person.pk}/"
    body = {"key_worker_name": "Intruder"}
    return [
        ("retrieve", "get", base, None),
        ("put", "put", base, {**new_person(locality, "X-1"), **body}),
        ("patch", "patch", base, body),
        ("history", "get", f"{base}status-changes/", None),
        (
            "status change",
            "post",
            f"{base}status-changes/",
            {"category": "enhanced_monitoring", "risk_rating": "green", "reason": "x"},
        ),
        ("reviews", "get", f"{base}reviews/", None),
        (
            "review",
            "post",
            f"{base}reviews/",
            {"review_date": "2025-01-01", "attendees": "a", "outcome": "b"},
        ),
        ("by reference", "get", f"/api/v1/people/by-reference/{person.local_reference}/", None),
    ]


OPERATIONS = [
    "retrieve",
    "put",
    "patch",
    "history",
    "status change",
    "reviews",
    "review",
    "by reference",
]


def _send(api, method, url, body, version=1):
    kwargs = {"format": "json", "HTTP_IF_MATCH": f'"{version}"'} if body is not None else {}
    return getattr(api, method)(url, body, **kwargs) if body is not None else api.get(url)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_another_authoritys_token_finds_nothing_of_this_authoritys_people(
    other_cms, person, leith, operation
):
    name, method, url, body = next(c for c in _calls(person, leith) if c[0] == operation)
    response = _send(other_cms, method, url, body)
    assert response.status_code == 404, (name, response.json())
    assert response.json()["title"] == "Not found"
    person.refresh_from_db()
    assert (person.version, person.key_worker_name) == (1, "")


def test_another_authoritys_token_never_lists_this_authoritys_people(other_cms, person):
    listing = other_cms.get("/api/v1/people/").json()
    assert listing["results"] == []


def test_upsert_and_bulk_by_another_authority_never_touch_this_authoritys_person(
    other_cms, person, leith, nithsdale
):
    # The same reference in Edinburgh is Edinburgh's own record, never Dumfries and Galloway's.
    url = f"/api/v1/people/by-reference/{person.local_reference}/"
    body = new_person(leith)
    del body["local_reference"]
    assert other_cms.put(url, body, format="json").status_code == 201
    # A locality of another authority is refused, in bulk too.
    item = new_person(nithsdale, "EDI-9")
    bulk = other_cms.post("/api/v1/people/bulk/", {"people": [item]}, format="json")
    assert bulk.status_code == 400
    assert "locality" in bulk.json()["errors"]["0"]
    person.refresh_from_db()
    assert person.version == 1
    assert Person.objects.filter(authority=person.authority).count() == 1


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_read_only_token_cannot_write(reader, person, nithsdale, operation):
    _, method, url, body = next(c for c in _calls(person, nithsdale) if c[0] == operation)
    if body is None:
        assert _send(reader, method, url, body).status_code == 200
        return
    response = _send(reader, method, url, body)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    person.refresh_from_db()
    assert person.version == 1


def test_a_read_only_token_cannot_add_upsert_or_bulk_write(reader, nithsdale):
    body = new_person(nithsdale)
    assert reader.post("/api/v1/people/", body, format="json").status_code == 403
    assert reader.put("/api/v1/people/by-reference/A/", body, format="json").status_code == 403
    bulk = reader.post("/api/v1/people/bulk/", {"people": [body]}, format="json")
    assert bulk.status_code == 403
    assert not Person.objects.exists()


def test_a_revoked_token_fails(cms, lead, person):
    assert cms.get("/api/v1/people/").status_code == 200
    revoke_api_client(lead, cms.record)
    response = cms.get("/api/v1/people/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Token abc"])
def test_missing_or_unknown_tokens_are_refused(person, header):
    api = client_with(None)
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(f"/api/v1/people/{person.pk}/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_signed_in_browser_session_does_not_reach_the_people_api(client, lead, person):
    client.force_login(lead)
    assert client.get("/api/v1/people/").status_code == 401


def test_returns_are_readable_with_a_token_of_their_authority_only(cms, other_cms, authority):
    url = f"/api/v1/authorities/{authority.pk}/returns/"
    assert cms.get(url).status_code == 200
    assert other_cms.get(url).status_code == 404


def test_client_rows_are_hidden_from_other_authorities_except_by_their_own_tokens_hash(
    cms, other_authority
):
    from django.db import transaction

    from accounts.models import ApiClient
    from registers import access

    elsewhere = access.Scope(roles={other_authority.pk: "lead"})
    with transaction.atomic(), access.using_scope(elsewhere):
        assert not ApiClient.objects.exists()
        assert access.api_client_for_token("dsr_not-a-real-token") is None
        found = access.api_client_for_token(cms.token)
        assert found is not None and found.pk == cms.record.pk
        assert not ApiClient.objects.exists()
