"""Every API answer states the client's quota: `RateLimit-Policy: 600;w=60` and
`RateLimit: limit=600, remaining=599, reset=N` (draft-ietf-httpapi-ratelimit-headers-07)."""

import re

import pytest

pytestmark = pytest.mark.django_db

RATE_LIMIT = re.compile(r"^limit=(\d+), remaining=(\d+), reset=(\d+)$")


def quota(response):
    found = RATE_LIMIT.match(response["RateLimit"])
    assert found, response["RateLimit"]
    return tuple(int(n) for n in found.groups())


def test_a_normal_answer_carries_the_policy_and_the_remaining_quota(cms, settings):
    settings.DSR_API_RATE = "600/min"
    first = cms.get("/api/v1/people/")
    second = cms.get("/api/v1/codes/")
    assert first["RateLimit-Policy"] == second["RateLimit-Policy"] == "600;w=60"
    assert quota(first)[:2] == (600, 599)
    assert quota(second)[:2] == (600, 598)
    assert 0 <= quota(second)[2] <= 60


def test_error_answers_carry_the_quota_too(cms, settings):
    settings.DSR_API_RATE = "600/min"
    response = cms.get("/api/v1/people/999999/")
    assert response.status_code == 404
    assert quota(response)[:2] == (600, 599)


def test_a_throttled_answer_says_none_remain_and_when_to_retry(cms, settings):
    settings.DSR_API_RATE = "2/min"
    cms.get("/api/v1/codes/")
    cms.get("/api/v1/codes/")
    response = cms.get("/api/v1/codes/")
    assert response.status_code == 429
    limit, remaining, reset = quota(response)
    assert (limit, remaining) == (2, 0)
    assert 0 < reset <= 60
    assert int(response["Retry-After"]) > 0


def test_callers_who_are_not_api_clients_get_no_quota_headers(client, lead, authority):
    client.force_login(lead)
    response = client.get(f"/api/v1/authorities/{authority.pk}/returns/")
    assert response.status_code == 200
    assert "RateLimit" not in response


def test_the_returns_endpoints_state_the_quota_to_api_clients(reader, authority):
    response = reader.get(f"/api/v1/authorities/{authority.pk}/returns/")
    assert response.status_code == 200
    assert "RateLimit-Policy" in response and "RateLimit" in response


def test_with_redis_away_the_answer_comes_without_quota_headers(cms, settings, own_redis):
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"LOCATION": own_redis.url, "KEY_PREFIX": "t"}
    }
    assert "RateLimit" in cms.get("/api/v1/codes/")
    own_redis.stop()
    response = cms.get("/api/v1/codes/")
    assert response.status_code == 200
    assert "RateLimit" not in response and "RateLimit-Policy" not in response
