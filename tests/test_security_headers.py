"""Security headers on every response, CSRF on every form, session expiry after inactivity,
secure cookies in production and password rules."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def pages(person, authority):
    """(who, path, expected status): the main pages, the error pages and the API."""
    return [
        (None, "/accounts/login/", 200),
        (None, "/register/", 302),
        ("lead", "/register/", 200),
        ("lead", f"/register/people/{person.pk}/", 200),
        ("lead", "/register/add/", 200),
        ("lead", "/register/reviews/", 200),
        ("lead", "/register/transfers/", 200),
        ("lead", "/register/dashboard/", 200),
        ("lead", "/register/audit/", 200),
        ("lead", "/staff/", 200),
        ("lead", "/reporting/", 200),
        ("lead", f"/reporting/people/{person.pk}/profile/", 200),
        ("lead", "/register/people/999999/", 404),
        ("viewer", "/staff/", 403),
        ("lead", f"/api/v1/authorities/{authority.pk}/returns/", 200),
        ("lead", "/api/v1/authorities/999999/returns/", 404),
        ("analyst", "/reporting/", 200),
        ("practitioner", "/accounts/second-factor/set-up/", 200),
    ]


EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "no-store" in response.headers["Cache-Control"]


def test_every_main_page_error_page_and_api_answer_carries_the_security_headers(
    client, lead, viewer, practitioner, analyst, nithsdale, authority
):
    person = PersonFactory(locality=nithsdale)
    users = {"lead": lead, "viewer": viewer, "practitioner": practitioner, "analyst": analyst}
    checked = []
    for who, path, status in pages(person, authority):
        client.logout()
        if who:
            client.force_login(users[who])
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response)
        checked.append(path)
    assert len(checked) == len(pages(person, authority))


def test_the_server_error_page_carries_the_security_headers(client, lead, monkeypatch):
    from registers import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "category_counts", broken)
    client.raise_request_exception = False
    client.force_login(lead)
    response = client.get("/register/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
    assert_security_headers(response)


def test_hsts_is_sent_over_https_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/accounts/login/", secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_production_settings_use_secure_cookies_hsts_and_an_https_redirect():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_HTTPONLY, s.DEBUG]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dsr.settings",
        "DSR_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "dsr.example.scot",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [True, True, True, 31536000, True, False]


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/register/add/", "/staff/add/", "/accounts/logout/"],
)
def test_a_form_posted_without_its_csrf_token_is_refused(path, lead, nithsdale):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    if path != "/accounts/login/":
        client.force_login(lead)
    response = client.post(path, {"username": lead.email, "password": "x"})
    assert response.status_code == 403


# --- Session expiry -------------------------------------------------------------------------


def test_a_session_ends_after_the_configured_inactivity(client, practitioner, settings):
    client.force_login(practitioner)
    assert client.get("/register/").status_code == 200
    session = Session.objects.get(pk=client.session.session_key)
    # Each request pushes the expiry DSR_SESSION_SECONDS ahead.
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < remaining <= settings.SESSION_COOKIE_AGE
    # Idle for longer than that: the next request is sent to sign in.
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/register/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_session_lasts_thirty_minutes_by_default_and_ends_with_the_browser(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


# --- Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["password", "12345678901234", "dsr", "own email"])
def test_a_weak_password_is_refused_when_staff_set_theirs(client, practitioner, weak):
    if weak == "own email":
        weak = practitioner.email
    uid = urlsafe_base64_encode(force_bytes(practitioner.pk))
    token = default_token_generator.make_token(practitioner)
    form_url = client.get(f"/accounts/password/set/{uid}/{token}/")["Location"]
    response = client.post(form_url, {"new_password1": weak, "new_password2": weak})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    practitioner.refresh_from_db()
    assert not practitioner.check_password(weak)
    assert practitioner.check_password("correct-horse-battery-9")
