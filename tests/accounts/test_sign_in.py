"""Signing in: lockout after repeated failures, the second factor, and the audit of both."""

import time

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from registers.models import AuditEvent
from tests.factories import make_member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"  # tests.factories.UserFactory's


def sign_in(client, user, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": user.email, "password": password}, **extra)


def code(device, *, steps_ahead=0):
    """The device's code now (or `steps_ahead` 30-second steps later, still within tolerance)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def set_up_device(client, user):
    """Sign in with the password and confirm an authenticator app on the set-up page."""
    sign_in(client, user)
    client.get("/accounts/second-factor/set-up/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    used = code(device)
    client.post("/accounts/second-factor/set-up/", {"code": used})
    device.refresh_from_db()
    assert device.confirmed
    device.used_code = used  # the exact code, in case a 30-second step has passed since
    return device


# --- Lockout -------------------------------------------------------------------------------


def test_five_failed_sign_ins_lock_the_account_even_with_the_right_password(
    client, practitioner, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, practitioner, password="wrong-password").status_code == 200
    assert sign_in(client, practitioner, password="wrong-password").status_code == 429
    response = sign_in(client, practitioner)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert "Try again in 30 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_clears_the_failure_count(client, practitioner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, practitioner, password="wrong-password")
    assert sign_in(client, practitioner).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, practitioner, password="wrong-password")
    assert sign_in(client, practitioner).status_code == 302


def test_the_lockout_names_the_attempts_in_the_audit_trail(client, practitioner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(client, practitioner, password="wrong-password")
    flags = list(
        AuditEvent.objects.filter(action="login.failed")
        .order_by("id")
        .values_list("changes__locked_out", flat=True)
    )
    assert len(flags) == settings.AXES_FAILURE_LIMIT + 1
    assert flags[-1] is True


def test_the_lockout_is_per_account(client, practitioner, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, practitioner, password="wrong-password")
    assert sign_in(client, viewer).status_code == 302


# --- Audit of signing in --------------------------------------------------------------------


def test_sign_in_and_sign_out_are_audited_with_the_address(client, practitioner, authority):
    sign_in(client, practitioner, REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/logout/", REMOTE_ADDR="203.0.113.7")
    events = list(
        AuditEvent.objects.filter(actor=practitioner)
        .order_by("id")
        .values_list("action", "authority_id", "ip_address")
    )
    assert events == [
        ("login", authority.pk, "203.0.113.7"),
        ("logout", authority.pk, "203.0.113.7"),
    ]


def test_a_failed_sign_in_is_audited_in_the_accounts_authority_without_the_password(
    client, practitioner, authority
):
    sign_in(client, practitioner, password="wrong-password", REMOTE_ADDR="198.51.100.4")
    event = AuditEvent.objects.get(action="login.failed")
    assert (event.authority_id, event.ip_address, event.actor_id) == (
        authority.pk,
        "198.51.100.4",
        None,
    )
    assert event.changes == {"email": practitioner.email, "locked_out": False}
    assert "wrong-password" not in str(event.changes)


def test_a_failed_sign_in_for_an_unknown_address_is_audited_without_an_authority(client, db):
    client.post("/accounts/login/", {"username": "nobody@example.scot", "password": "x"})
    event = AuditEvent.objects.get(action="login.failed")
    assert event.authority_id is None
    assert event.changes["email"] == "nobody@example.scot"


def test_the_address_comes_from_the_trusted_proxy_when_one_is_configured(
    client, practitioner, settings
):
    settings.DSR_TRUSTED_PROXY_COUNT = 1
    sign_in(
        client,
        practitioner,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",  # the first hop is the client's claim
    )
    assert AuditEvent.objects.get(action="login").ip_address == "203.0.113.9"


# --- The second factor ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "analyst"])
def test_leads_and_analysts_must_set_up_an_authenticator_app(client, who, request):
    user = request.getfixturevalue(who)
    sign_in(client, user)
    response = client.get("/reporting/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/second-factor/set-up/?next=%2Freporting%2F"


def test_the_set_up_page_shows_a_server_drawn_qr_code_and_the_key(client, lead):
    sign_in(client, lead)
    page = client.get("/accounts/second-factor/set-up/").content.decode()
    device = TOTPDevice.objects.get(user=lead, confirmed=False)
    assert '<svg width="' in page and "<path" in page
    assert mfa.manual_key(device) in page
    assert "<script" not in page.split("</head>")[1]


def test_a_wrong_code_does_not_confirm_the_app(client, lead):
    sign_in(client, lead)
    client.get("/accounts/second-factor/set-up/")
    device = TOTPDevice.objects.get(user=lead)
    response = client.post("/accounts/second-factor/set-up/", {"code": "000000"})
    assert "The code did not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/register/").status_code == 302


def test_after_set_up_the_lead_reaches_the_register(client, lead):
    set_up_device(client, lead)
    assert client.get("/register/").status_code == 200
    assert AuditEvent.objects.filter(actor=lead, action="mfa.confirmed").exists()


def test_the_next_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client, lead):
    device = set_up_device(client, lead)
    client.logout()
    sign_in(client, lead)
    response = client.get("/register/")
    assert response["Location"] == "/accounts/second-factor/?next=%2Fregister%2F"
    wrong = client.post("/accounts/second-factor/", {"code": "123456", "next": "/register/"})
    assert "did not match" in wrong.content.decode()
    assert client.get("/register/").status_code == 302
    time.sleep(1.1)  # django-otp throttles: one second after a wrong code, then doubling
    right = client.post(
        "/accounts/second-factor/", {"code": code(device, steps_ahead=1), "next": "/register/"}
    )
    assert right["Location"] == "/register/"
    assert client.get("/register/").status_code == 200
    actions = list(AuditEvent.objects.filter(actor=lead).values_list("action", flat=True))
    assert "login.second_factor_failed" in actions and "login.second_factor" in actions


def test_a_code_cannot_be_used_twice(client, lead):
    device = set_up_device(client, lead)
    client.logout()
    sign_in(client, lead)
    again = client.post("/accounts/second-factor/", {"code": device.used_code})
    assert "did not match" in again.content.decode()


def test_an_unverified_session_gets_403_from_the_api(client, lead, authority):
    sign_in(client, lead)
    response = client.get(f"/api/v1/authorities/{authority.pk}/returns/")
    assert response.status_code == 403
    assert "second sign-in step" in response.json()["detail"]


def test_practitioners_sign_in_with_a_password_alone_by_default(client, practitioner):
    sign_in(client, practitioner)
    assert client.get("/register/").status_code == 200


def test_the_setting_can_require_the_second_factor_of_practitioners(client, practitioner, settings):
    settings.DSR_MFA_REQUIRED_ROLES = ["lead", "national_analyst", "practitioner"]
    sign_in(client, practitioner)
    assert client.get("/register/")["Location"].startswith("/accounts/second-factor/set-up/")


def test_a_practitioner_who_chose_an_app_is_asked_for_its_code(client, practitioner):
    client.force_login(practitioner)
    client.get("/accounts/second-factor/set-up/")
    device = TOTPDevice.objects.get(user=practitioner)
    client.post("/accounts/second-factor/set-up/", {"code": code(device)})
    client.logout()
    sign_in(client, practitioner)
    assert client.get("/register/")["Location"].startswith("/accounts/second-factor/?")


def test_removing_the_device_ends_its_verified_sessions(client, lead):
    client.force_login(lead)
    assert client.get("/register/").status_code == 200
    call_command("reset_second_factor", "--email", lead.email, stdout=None)
    response = client.get("/register/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/second-factor/set-up/")
    assert AuditEvent.objects.filter(action="mfa.removed", object_id=str(lead.pk)).exists()


def test_a_lead_of_another_authority_also_needs_the_second_factor(client, other_authority):
    second_lead = make_member(other_authority, "lead", email="second@example.scot")
    sign_in(client, second_lead)
    assert client.get("/register/").status_code == 302


def test_sign_in_with_a_wrong_password_is_explained(client, lead):
    response = client.post("/accounts/login/", {"username": lead.username, "password": "nope"})
    assert "did not match" in response.content.decode()
