"""Signing in with the organisation's account, against a real OpenID Connect provider
(tests/oidc/provider.mjs, npm's oidc-provider run by Node).

The browser's part is played by the test client (this service) and `requests` (the provider's
sign-in page). How each refused token is produced:
- wrong audience: a real ID token the provider issued to another client (`other-service`);
- expired: a real ID token for `expired-token`, which the provider makes valid for one second,
  presented two seconds later with no clock skew allowed;
- bad signature: a real ID token whose payload was changed after signing (another email), and a
  token of the same claims signed with a second key under the provider's key id.
"""

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import oidc
from accounts.models import IdentityProvider, Membership, User
from registers.models import AuditEvent
from tests.factories import make_member
from tests.oidc import DOMAIN, id_token_for, sign_in_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def ola(authority, nithsdale):
    return make_member(authority, "practitioner", [nithsdale], email=f"ola.practitioner@{DOMAIN}")


@pytest.fixture
def ola_lead(authority):
    return make_member(authority, "lead", email=f"ola.lead@{DOMAIN}")


def start(client, provider, email="", next_url=""):
    response = client.get(
        f"/accounts/organisation-sign-in/{provider.slug}/", {"email": email, "next": next_url}
    )
    assert response.status_code == 302, response.content
    return response["Location"]


def come_back(client, location):
    return client.get(location.removeprefix("http://testserver"))


def sign_in_with_organisation(client, provider, username, **kwargs):
    return come_back(client, sign_in_at(start(client, provider, **kwargs), username))


def refusals(reason):
    return AuditEvent.objects.filter(
        action="login.organisation_refused", changes__reason=reason
    ).count()


def assert_refused(response, text):
    assert response.status_code == 403
    page = response.content.decode()
    assert "You could not be signed in" in page
    assert text in page
    assert "_auth_user_id" not in response.client.session


# --- The sign-in page: email first ---------------------------------------------------------


def test_the_sign_in_page_asks_for_the_email_first(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'name="step" value="email"' in page
    assert 'id="id_password"' not in page


def test_an_email_in_a_providers_domain_is_offered_its_organisation(client, identity_provider):
    page = client.post(
        "/accounts/login/", {"step": "email", "username": f"someone@{DOMAIN}"}
    ).content.decode()
    assert "Sign in with Test Health Board" in page
    assert 'id="id_password"' not in page
    assert "Sign in with a password instead" in page


def test_any_other_email_is_asked_for_its_password(client, identity_provider):
    page = client.post(
        "/accounts/login/", {"step": "email", "username": "someone@elsewhere.scot"}
    ).content.decode()
    assert 'id="id_password"' in page
    assert "Sign in with Test Health Board" not in page


def test_a_disabled_provider_is_not_offered(client, identity_provider):
    identity_provider.enabled = False
    identity_provider.save()
    page = client.post(
        "/accounts/login/", {"step": "email", "username": f"someone@{DOMAIN}"}
    ).content.decode()
    assert "Sign in with Test Health Board" not in page


def test_the_password_path_still_locks_out(client, ola, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": ola.email, "password": "wrong-password"})
    response = client.post(
        "/accounts/login/", {"username": ola.email, "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 429


# --- The flow ------------------------------------------------------------------------------


def test_the_authorization_request_carries_pkce_state_and_nonce(client, identity_provider):
    query = parse_qs(urlsplit(start(client, identity_provider, email="x@" + DOMAIN)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["dsr"]
    assert query["login_hint"] == ["x@" + DOMAIN]
    assert len(query["state"][0]) >= 40 and len(query["nonce"][0]) >= 40
    pending = client.session[oidc.PENDING_SESSION_KEY][query["state"][0]]
    assert pending["nonce"] == query["nonce"][0]
    assert "verifier" in pending and pending["verifier"] not in str(query)


def test_a_practitioner_signs_in_with_the_organisation(client, identity_provider, ola):
    response = sign_in_with_organisation(
        client, identity_provider, "ola.practitioner", next_url="/register/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/register/"
    assert client.session["_auth_user_id"] == str(ola.pk)
    assert client.get("/register/").status_code == 200
    event = AuditEvent.objects.get(action="login", actor=ola)
    assert event.changes["provider"] == "Test Health Board"
    assert event.changes["second_factor"] == "this service"


def test_sign_in_never_creates_an_account_for_an_email_never_invited(client, identity_provider):
    users = User.objects.count()
    response = sign_in_with_organisation(client, identity_provider, "nina.never-invited")
    assert_refused(response, "Signing in with your organisation does not create one")
    assert User.objects.count() == users
    assert refusals("not_invited") == 1


def test_an_unverified_email_is_refused(client, identity_provider, authority):
    make_member(authority, "practitioner", email=f"una@{DOMAIN}")
    response = sign_in_with_organisation(client, identity_provider, "una.unverified")
    assert_refused(response, "has not confirmed that una@health.example.scot is your email")
    assert refusals("email_unverified") == 1


def test_a_deactivated_member_is_refused(client, identity_provider, authority):
    dee = make_member(authority, "practitioner", email=f"dee@{DOMAIN}")
    Membership.objects.filter(user=dee).update(deactivated_at="2026-01-01T00:00Z")
    response = sign_in_with_organisation(client, identity_provider, "dee.deactivated")
    assert_refused(response, "Your membership of the authority has been deactivated")
    assert refusals("membership_deactivated") == 1


def test_a_deactivated_account_is_refused(client, identity_provider, authority):
    dee = make_member(authority, "practitioner", email=f"dee@{DOMAIN}")
    dee.is_active = False
    dee.save()
    response = sign_in_with_organisation(client, identity_provider, "dee.deactivated")
    assert_refused(response, "Your account in this service has been deactivated")


def test_staff_of_an_authority_the_provider_does_not_serve_are_refused(
    client, identity_provider, other_authority
):
    make_member(other_authority, "practitioner", email=f"dee@{DOMAIN}")
    response = sign_in_with_organisation(client, identity_provider, "dee.deactivated")
    assert_refused(response, "not active staff of an authority that signs in with Test Health")
    assert refusals("not_staff_of_its_authorities") == 1


def test_a_replayed_state_is_refused(client, identity_provider, ola):
    back = sign_in_at(start(client, identity_provider), "ola.practitioner")
    assert come_back(client, back).status_code == 302
    client.logout()
    response = come_back(client, back)
    assert_refused(response, "This sign-in link has already been used or has expired")
    assert refusals("state_unknown_or_used") == 1


def test_a_callback_this_browser_never_started_is_refused(client, identity_provider, ola):
    back = sign_in_at(start(client, identity_provider), "ola.practitioner")
    other_browser = type(client)()
    assert_refused(come_back(other_browser, back), "already been used or has expired")


# --- Tokens --------------------------------------------------------------------------------


def presenting(monkeypatch, replace):
    """The callback exchanges its code as usual, then checks the token `replace` makes of it."""
    exchange = oidc.exchange_code

    def exchange_then_replace(*args, **kwargs):
        return replace(exchange(*args, **kwargs))

    monkeypatch.setattr(oidc, "exchange_code", exchange_then_replace)


def test_a_token_for_another_client_is_refused(
    client, identity_provider, organisation, ola, monkeypatch
):
    foreign = id_token_for(
        organisation,
        "ola.practitioner",
        client_id="other-service",
        client_secret="other-service-secret",
    )
    assert jwt.decode(foreign, options={"verify_signature": False})["aud"] == "other-service"
    presenting(monkeypatch, lambda _ours: foreign)
    response = sign_in_with_organisation(client, identity_provider, "ola.practitioner")
    assert_refused(response, "did not work")
    assert refusals("wrong_audience") == 1


def test_an_expired_token_is_refused(client, identity_provider, authority, monkeypatch, settings):
    make_member(authority, "practitioner", email=f"exp@{DOMAIN}")
    settings.DSR_OIDC_CLOCK_SKEW_SECONDS = 0

    def later(token):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 1
        time.sleep(2.1)
        return token

    presenting(monkeypatch, later)
    response = sign_in_with_organisation(client, identity_provider, "expired-token")
    assert_refused(response, "did not work")
    assert refusals("token_expired") == 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_changed_after_signing_is_refused(
    client, identity_provider, ola, ola_lead, monkeypatch
):
    def as_the_lead(token):
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["email"] = ola_lead.email
        return ".".join([header, _b64(json.dumps(claims).encode()), signature])

    presenting(monkeypatch, as_the_lead)
    response = sign_in_with_organisation(client, identity_provider, "ola.practitioner")
    assert_refused(response, "did not work")
    assert refusals("bad_signature") == 1


def test_a_token_signed_with_another_key_is_refused(client, identity_provider, ola, monkeypatch):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def resigned(token):
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        return jwt.encode(claims, forger, algorithm="RS256", headers={"kid": header["kid"]})

    presenting(monkeypatch, resigned)
    response = sign_in_with_organisation(client, identity_provider, "ola.practitioner")
    assert_refused(response, "did not work")
    assert refusals("bad_signature") == 1


def test_an_unsigned_token_is_refused(client, identity_provider, ola, monkeypatch):
    def unsigned(token):
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
        return jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})

    presenting(monkeypatch, unsigned)
    response = sign_in_with_organisation(client, identity_provider, "ola.practitioner")
    assert_refused(response, "did not work")
    assert AuditEvent.objects.filter(action="login.organisation_refused").count() == 1


# --- The second factor ---------------------------------------------------------------------


def test_the_providers_mfa_replaces_ours_only_when_trusted(client, identity_provider, ola_lead):
    identity_provider.trusts_provider_mfa = True
    identity_provider.save()
    response = sign_in_with_organisation(client, identity_provider, "ola.lead", next_url="/staff/")
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    event = AuditEvent.objects.get(action="login", actor=ola_lead)
    assert event.changes["second_factor"] == "provider"
    assert event.changes["provider_asserted_mfa"] is True


def test_the_providers_mfa_is_not_enough_when_not_trusted(client, identity_provider, ola_lead):
    sign_in_with_organisation(client, identity_provider, "ola.lead")
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/second-factor/set-up/")


def test_a_trusted_provider_that_asserts_no_mfa_still_gets_ours(
    client, identity_provider, authority
):
    identity_provider.trusts_provider_mfa = True
    identity_provider.save()
    make_member(authority, "lead", email=f"pat@{DOMAIN}")
    sign_in_with_organisation(client, identity_provider, "pat.password-only")
    assert client.get("/staff/")["Location"].startswith("/accounts/second-factor/set-up/")


def test_a_configured_acr_counts_as_the_providers_mfa(client, identity_provider, authority):
    identity_provider.trusts_provider_mfa = True
    identity_provider.mfa_acr_values = ["urn:example:mfa"]
    identity_provider.save()
    make_member(authority, "lead", email=f"acr@{DOMAIN}")
    sign_in_with_organisation(client, identity_provider, "acr.person")
    assert client.get("/staff/").status_code == 200


def test_the_providers_mfa_counts_for_the_user_it_signed_in_only(
    client, identity_provider, ola_lead, other_lead
):
    identity_provider.trusts_provider_mfa = True
    identity_provider.save()
    sign_in_with_organisation(client, identity_provider, "ola.lead")
    assert client.get("/staff/").status_code == 200
    client.sign_in_with_password_only(other_lead)
    assert client.get("/staff/").status_code == 302


# --- Signing out ---------------------------------------------------------------------------


def test_signing_out_offers_the_providers_end_session(client, identity_provider, ola):
    sign_in_with_organisation(client, identity_provider, "ola.practitioner")
    page = client.post("/accounts/logout/").content.decode()
    assert "_auth_user_id" not in client.session
    assert "Sign out of Test Health Board too" in page
    assert f"{identity_provider.issuer}/session/end?client_id=dsr&amp;id_token_hint=" in page


def test_signing_out_after_a_password_goes_back_to_sign_in(client, ola):
    client.force_login(ola)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


# --- Configuration -------------------------------------------------------------------------


def test_the_lead_sees_the_configuration_read_only(client, identity_provider, lead):
    client.force_login(lead)
    page = client.get("/staff/sign-in/").content.decode()
    assert "Test Health Board" in page
    assert DOMAIN in page
    assert "<form" not in page.split("<main", 1)[1]
    assert "http://testserver/accounts/organisation-sign-in/callback/" in page
    assert identity_provider.client_secret_env not in page


def test_only_the_lead_sees_the_configuration(client, identity_provider, practitioner):
    client.force_login(practitioner)
    assert client.get("/staff/sign-in/").status_code == 403


def test_the_administrators_add_a_provider_by_command(authority):
    call_command(
        "identity_provider",
        "--slug=nhs-dg",
        "--name=NHS Dumfries and Galloway",
        "--issuer=https://login.microsoftonline.com/tenant-id/v2.0",
        "--client-id=abc",
        "--secret-env=DSR_OIDC_SECRET_NHS_DG",
        "--domains=NHS.scot, dg.nhs.scot",
        f"--authority={authority.code}",
        "--trust-mfa=yes",
        "--email-verified-claim=xms_edov",
    )
    provider = IdentityProvider.objects.get(slug="nhs-dg")
    assert provider.email_domains == ["dg.nhs.scot", "nhs.scot"]
    assert list(provider.authorities.all()) == [authority]
    assert provider.trusts_provider_mfa
    event = AuditEvent.objects.get(action="identity_provider.added")
    assert event.authority_id == authority.pk


def test_a_secret_variable_outside_the_prefix_is_refused(authority):
    with pytest.raises(CommandError, match="DSR_OIDC_SECRET_"):
        call_command(
            "identity_provider",
            "--slug=nhs-dg",
            "--name=NHS",
            "--issuer=https://login.example/v2.0",
            "--client-id=abc",
            "--secret-env=DJANGO_SECRET_KEY",
            "--domains=nhs.scot",
        )
