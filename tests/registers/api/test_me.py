"""`GET /api/v1/me/`: the calling client, its scopes, its authority and its rate limit."""

import pytest

from registers.models import AuditEvent

from .conftest import client_with

pytestmark = pytest.mark.django_db


def test_me_names_the_client_its_scopes_its_authority_and_its_rate_limit(cms, authority, settings):
    settings.DSR_API_RATE = "600/min"
    response = cms.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "client": {"id": cms.record.pk, "name": "Care First"},
        "scopes": ["read", "write"],
        "authority": {"id": authority.pk, "code": "S37000006", "name": "Dumfries and Galloway"},
        "rate_limit": {"limit": 600, "window_seconds": 60},
    }


def test_a_read_only_client_sees_only_the_read_scope(reader):
    assert reader.get("/api/v1/me/").json()["scopes"] == ["read"]


def test_me_answers_each_client_about_itself(cms, other_cms, other_authority):
    assert other_cms.get("/api/v1/me/").json()["authority"]["code"] == other_authority.code
    assert cms.get("/api/v1/me/").json()["client"]["id"] == cms.record.pk


def test_me_without_a_valid_token_is_401_problem_details():
    response = client_with("dsr_not-a-token").get("/api/v1/me/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_call_to_me_is_audited(cms):
    cms.get("/api/v1/me/")
    event = AuditEvent.objects.filter(action="api.call").latest("pk")
    assert event.changes == {"method": "GET", "path": "/api/v1/me/", "status": 200}


def test_me_runs_a_small_fixed_number_of_queries(cms, django_assert_max_num_queries):
    # As any call: the token, the scope, the client's last use and the audit row; then the
    # authority (one query).
    with django_assert_max_num_queries(15):
        assert cms.get("/api/v1/me/").status_code == 200
