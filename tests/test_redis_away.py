"""With Redis away (stopped, or hung so that nothing answers), the service degrades instead of
failing: leads and analysts, whose second factor is remembered in the cache, still sign in and use
their pages; the API lets requests through unthrottled and logs that it did; every wait for Redis
is bounded by a short socket timeout. Each test runs its own Redis (tests/faults.py)."""

import logging
import time

import pytest
from django.conf import settings as django_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import create_api_client
from tests.accounts.test_sign_in import code, sign_in
from tests.registers.api.conftest import client_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_on_own_redis(settings, own_redis):
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"LOCATION": own_redis.url, "KEY_PREFIX": "t"}
    }
    return own_redis


def _timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


@pytest.mark.parametrize("fault", ["stop", "hang"])
@pytest.mark.parametrize(
    ("who", "path"),
    [("lead", "/register/"), ("lead", "/register/audit/"), ("analyst", "/reporting/")],
)
def test_leads_and_analysts_pages_work_with_redis_away(
    request, client, cache_on_own_redis, fault, who, path
):
    user = request.getfixturevalue(who)
    client.force_login(user)  # the verified device is now remembered in the cache
    assert client.get(path).status_code == 200
    getattr(cache_on_own_redis, fault)()
    response, seconds = _timed_get(client, path)
    cache_on_own_redis.resume() if fault == "hang" else None
    assert response.status_code == 200, response.content[:300]
    assert seconds < 5


def test_a_removed_second_factor_stops_verifying_sessions_with_redis_away(
    client, lead, cache_on_own_redis
):
    client.force_login(lead)
    cache_on_own_redis.stop()
    TOTPDevice.objects.filter(user=lead).delete()
    response = client.get("/register/")
    assert response.status_code == 302 and "/accounts/second-factor/" in response.url


def test_the_second_sign_in_step_works_with_redis_away(client, lead, cache_on_own_redis):
    device = TOTPDevice.objects.create(user=lead, name="Authenticator app", confirmed=True)
    cache_on_own_redis.stop()
    sign_in(client, lead)
    response = client.post("/accounts/second-factor/", {"code": code(device)})
    assert response.status_code == 302
    assert client.get("/register/").status_code == 200


@pytest.mark.parametrize("fault", ["stop", "hang"])
def test_the_api_lets_requests_through_unthrottled_and_logs_it_with_redis_away(
    lead, authority, cache_on_own_redis, caplog, settings, fault
):
    settings.DSR_API_RATE = "1/min"
    _, token = create_api_client(lead, authority, name="Care First", scopes=["read"])
    api = client_with(token)
    assert api.get("/api/v1/people/").status_code == 200
    assert api.get("/api/v1/people/").status_code == 429  # the limit holds while Redis is up
    getattr(cache_on_own_redis, fault)()
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        response = api.get("/api/v1/people/")
        seconds = time.monotonic() - started
    cache_on_own_redis.resume() if fault == "hang" else None
    assert response.status_code == 200 and seconds < 5
    assert "API rate limit not applied" in caplog.text


def test_waits_for_redis_are_bounded_by_short_socket_timeouts():
    options = django_settings.CACHES["default"]["OPTIONS"]
    assert options["socket_timeout"] <= 2 and options["socket_connect_timeout"] <= 2
    broker = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert broker["socket_timeout"] <= 2 and broker["socket_connect_timeout"] <= 2


def test_forgot_password_answers_as_always_but_sends_nothing_with_redis_away(
    client, practitioner, cache_on_own_redis, mailoutbox, django_capture_on_commit_callbacks
):
    cache_on_own_redis.stop()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/forgotten/", {"email": practitioner.email})
    assert response.status_code in (200, 302)
    assert mailoutbox == []  # nothing can be counted, so the hourly limit holds by sending nothing
