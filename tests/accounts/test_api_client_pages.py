"""The lead's API client pages: create (token shown once), rotate and revoke, all audited."""

import re

import pytest

from accounts.models import ApiClient
from accounts.services import create_api_client
from registers.models import AuditEvent

pytestmark = pytest.mark.django_db


def _token(html: str) -> str:
    return re.search(r'value="(dsr_[^"]+)"', html).group(1)


def _api_get(client, token, path="/api/v1/codes/"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_lead_creates_a_client_and_sees_its_token_once(client, lead, authority):
    client.force_login(lead)
    page = client.post(
        "/staff/api-clients/add/", {"name": "Care First", "scopes": ["read", "write"]}
    )
    assert page.status_code == 200
    assert "no-store" in {d.strip() for d in page["Cache-Control"].split(",")}
    token = _token(page.content.decode())
    stored = ApiClient.objects.get(authority=authority, name="Care First")
    assert stored.scopes == ["read", "write"]
    assert token not in str(ApiClient.objects.values().get(pk=stored.pk))
    listing = client.get("/staff/api-clients/").content.decode()
    assert "Care First" in listing
    assert stored.token_prefix in listing
    assert token not in listing
    assert AuditEvent.objects.filter(action="api_client.created", actor=lead).exists()
    client.logout()
    assert _api_get(client, token).status_code == 200


def test_creating_without_a_name_or_scope_shows_errors_and_saves_nothing(client, lead):
    client.force_login(lead)
    page = client.post("/staff/api-clients/add/", {"name": " "})
    html = page.content.decode()
    assert "<title>Error:" in html
    assert "Choose read, or read and write." in html
    assert not ApiClient.objects.exists()


def test_names_are_unique_within_the_authority(client, lead, authority):
    create_api_client(lead, authority, name="Care First", scopes=["read"])
    client.force_login(lead)
    page = client.post("/staff/api-clients/add/", {"name": "care first", "scopes": ["read"]})
    assert "already has an API client with this name" in page.content.decode()
    assert ApiClient.objects.count() == 1


def test_rotating_asks_first_then_replaces_the_token(client, lead, authority):
    stored, old_token = create_api_client(lead, authority, name="Care First", scopes=["read"])
    client.force_login(lead)
    confirm = client.get(f"/staff/api-clients/{stored.pk}/rotate/")
    assert "Are you sure" in confirm.content.decode()
    assert _api_get(client, old_token).status_code == 200
    page = client.post(f"/staff/api-clients/{stored.pk}/rotate/")
    new_token = _token(page.content.decode())
    assert new_token != old_token
    client.logout()
    assert _api_get(client, old_token).status_code == 401
    assert _api_get(client, new_token).status_code == 200
    assert AuditEvent.objects.filter(action="api_client.rotated").exists()


def test_revoking_asks_first_then_the_token_stops_working(client, lead, authority):
    stored, token = create_api_client(lead, authority, name="Care First", scopes=["read"])
    client.force_login(lead)
    confirm = client.get(f"/staff/api-clients/{stored.pk}/revoke/")
    assert "Are you sure you want to revoke Care First?" in confirm.content.decode()
    assert ApiClient.objects.get(pk=stored.pk).revoked_at is None
    done = client.post(f"/staff/api-clients/{stored.pk}/revoke/", follow=True)
    assert "Revoked" in done.content.decode()
    client.logout()
    assert _api_get(client, token).status_code == 401
    assert AuditEvent.objects.filter(action="api_client.revoked", actor=lead).exists()


@pytest.mark.parametrize("who", ["practitioner", "viewer"])
def test_staff_other_than_the_lead_are_refused(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/staff/api-clients/").status_code == 403
    assert (
        client.post("/staff/api-clients/add/", {"name": "X", "scopes": ["read"]}).status_code == 403
    )
    assert not ApiClient.objects.exists()


def test_another_authoritys_client_is_not_found(client, lead, other_lead, other_authority):
    stored, _ = create_api_client(
        other_lead, other_authority, name="Edinburgh CMS", scopes=["read"]
    )
    client.force_login(lead)
    assert client.get("/staff/api-clients/").content.decode().count("Edinburgh CMS") == 0
    assert client.post(f"/staff/api-clients/{stored.pk}/revoke/").status_code == 404
    assert client.post(f"/staff/api-clients/{stored.pk}/rotate/").status_code == 404
    assert ApiClient.objects.get(pk=stored.pk).revoked_at is None


def test_the_service_user_of_a_client_cannot_sign_in(client, lead, authority):
    stored, _ = create_api_client(lead, authority, name="Care First", scopes=["read"])
    assert not stored.service_user.has_usable_password()
    assert not stored.service_user.memberships.exists()
