"""Signing in again: "Forgot your password?" by emailed link (the same answer whether or not the
address has an account, rate-limited, audited), changing the password, replacing one's own
authenticator app, and password rules after the NCSC's advice (length, not composition)."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import User
from registers.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"  # tests.factories.UserFactory's


def ask(client, email, captured):
    with captured(execute=True):
        return client.post("/accounts/password/forgotten/", {"email": email})


def test_forgotten_password_emails_a_link_that_sets_a_new_one(
    client, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    response = ask(client, practitioner.email.upper(), django_capture_on_commit_callbacks)
    assert response["Location"] == "/accounts/password/forgotten/sent/"
    [message] = mailoutbox
    assert message.to == [practitioner.email]
    link = next(line for line in message.body.splitlines() if "/password/set/" in line)
    form = client.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "kettle orbit marram", "new_password2": "kettle orbit marram"},
    )
    assert done.status_code == 302
    assert User.objects.get(pk=practitioner.pk).check_password("kettle orbit marram")


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    known = ask(client, practitioner.email, django_capture_on_commit_callbacks)
    unknown = ask(client, "nobody@nowhere.example.scot", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    event = AuditEvent.objects.get(
        action="password.reset_requested", changes__email="nobody@nowhere.example.scot"
    )
    assert event.changes["sent"] is False


def test_requests_are_limited_per_address_and_still_answer_the_same(
    client, practitioner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.DSR_PASSWORD_RESET_LIMIT = 2
    answers = {
        ask(client, practitioner.email, django_capture_on_commit_callbacks)["Location"]
        for _ in range(4)
    }
    assert answers == {"/accounts/password/forgotten/sent/"}
    assert len(mailoutbox) == 2
    throttled = AuditEvent.objects.filter(
        action="password.reset_requested", changes__throttled=True
    )
    assert throttled.count() == 2


def test_a_bad_address_is_refused_with_a_message(client):
    response = client.post("/accounts/password/forgotten/", {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter an email address like" in response.content.decode()


def test_a_used_link_does_not_work_twice(
    client, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    ask(client, practitioner.email, django_capture_on_commit_callbacks)
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/set/" in line)
    path = link.removeprefix("http://127.0.0.1:8000")
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "kettle orbit marram", "new_password2": "kettle orbit marram"},
    )
    again = client.get(path, follow=True).content.decode()
    assert "already been used or has expired" in again


def test_the_login_page_offers_forgot_your_password(client):
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()


# Your account ------------------------------------------------------------------------------------


def test_changing_the_password_needs_the_old_one_is_audited_and_told_by_email(
    client, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(practitioner)
    wrong = client.post(
        "/account/password/",
        {
            "old_password": "wrong",
            "new_password1": "kettle orbit marram",
            "new_password2": "kettle orbit marram",
        },
    )
    assert wrong.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/account/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "kettle orbit marram",
                "new_password2": "kettle orbit marram",
            },
        )
    assert done["Location"] == "/account/"
    assert User.objects.get(pk=practitioner.pk).check_password("kettle orbit marram")
    assert AuditEvent.objects.filter(action="password.changed", actor=practitioner).exists()
    assert mailoutbox[0].subject == "Your Dynamic Support Register password was changed"
    # Still signed in.
    assert client.get("/account/").status_code == 200


def test_replacing_ones_own_authenticator_needs_the_password_then_a_new_setup(client, lead):
    client.force_login(lead)
    old = mfa.confirmed_device(lead)
    refused = client.post("/account/authenticator/", {"password": "wrong"})
    assert "That is not your password." in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=old.pk).exists()
    response = client.post("/account/authenticator/", {"password": PASSWORD})
    assert response["Location"].startswith("/accounts/second-factor/set-up/")
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(action="mfa.removed", actor=lead).exists()
    # Nothing else works until the new app is set up.
    assert client.get("/register/")["Location"].startswith("/accounts/second-factor/set-up/")


def test_your_account_is_behind_the_second_sign_in_step(client, lead):
    client.sign_in_with_password_only(lead)
    assert client.get("/account/")["Location"].startswith("/accounts/second-factor/")


# Password rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["kettle orbit marram", "correcthorsebatterystaple", "aaaa bbbb cccc dddd"]
)
def test_long_passwords_without_symbols_or_digits_are_accepted(password):
    validate_password(password)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "too short"),
        ("1qaz2wsx3edc", "too common"),
        ("123456789012", "entirely numeric"),
    ],
)
def test_short_common_or_numeric_passwords_are_refused(password, why):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert why in " ".join(refused.value.messages)
