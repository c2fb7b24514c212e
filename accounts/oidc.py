"""Signing in with an organisation's account: OpenID Connect, authorization code flow with PKCE.

The flow (docs/sign-in.md):
1. The sign-in page asks for the email first; `providers_for_email` finds the enabled providers
   serving its domain (home-realm discovery). This tells nobody whether an account exists.
2. `start` remembers a fresh `state`, `nonce` and PKCE verifier in the session (keyed by the state)
   and sends the browser to the provider's authorization endpoint (read by discovery).
3. `complete` (the callback) takes the state out of the session (so it is used once), exchanges the
   code at the token endpoint with the client secret and the PKCE verifier, and checks the ID
   token: its signature against the provider's published keys (JWKS), issuer, audience (and
   `azp` when there are several), expiry and issue time, and the nonce.
4. `match_user` finds the existing, active account with that verified email, in the provider's
   domains, who is active staff of an authority the provider serves (or a national analyst, for
   the national team's provider). Nothing is ever created or granted.

Every refusal raises `SignInRefused` with a reason code (audited) and a sentence for the person.

Libraries: PyJWT (with `cryptography`) checks the ID token and fetches the provider's keys: it is
small, maintained, and does exactly the checks above. The flow itself is a few HTTP calls made with
`requests`; mozilla-django-oidc and django-allauth read one provider from settings (or create
accounts), where we need several providers from the database and no account creation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse

from registers import access
from registers.audit import AuditAction, record_event

from .models import MFA_AMR_VALUES, IdentityProvider, User

if TYPE_CHECKING:
    from collections.abc import Iterable

PENDING_SESSION_KEY = "dsr_sso_pending"
# What the session remembers of an organisation sign-in: the provider, and whether its second
# factor stands in for ours (read by accounts.mfa), and the ID token for the end-session request.
SIGNED_IN_SESSION_KEY = "dsr_sso"
# A sign-in not completed within this many seconds must start again.
PENDING_SECONDS = 600
# At most this many sign-ins in progress per browser session (several tabs).
PENDING_LIMIT = 5
# Only asymmetric signatures: a symmetric one (HS256, keyed by the client secret) or "none" is
# refused whatever the token's header says.
ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]


class SignInRefused(Exception):
    """The sign-in is refused: `reason` goes into the audit, `message` to the person."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        provider: IdentityProvider | None = None,
        email: str = "",
        user: User | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.provider = provider
        self.email = email
        self.user = user


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def providers_for_email(email: str) -> list[IdentityProvider]:
    """The enabled providers serving the email's domain (home-realm discovery)."""
    domain = email_domain(email)
    if not domain or "@" not in email:
        return []
    return list(IdentityProvider.objects.filter(enabled=True, email_domains__contains=[domain]))


def client_secret(provider: IdentityProvider) -> str:
    secret = os.environ.get(provider.client_secret_env, "")
    if not secret:
        raise SignInRefused(
            "client_secret_missing",
            "Signing in with your organisation is not working at the moment. "
            "Sign in with your password, or try again later.",
            provider=provider,
        )
    return secret


def _get_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=settings.DSR_OIDC_HTTP_TIMEOUT)
    response.raise_for_status()
    return response.json()


def metadata(provider: IdentityProvider) -> dict[str, Any]:
    """The provider's discovery document (cached), whose issuer must be the configured one."""
    key = "dsr:oidc:discovery:" + hashlib.sha256(provider.issuer.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            found = _get_json(url)
        except (requests.RequestException, ValueError) as error:
            raise SignInRefused(
                "provider_unreachable",
                f"{provider.name} could not be reached. Try again in a few minutes, or sign in "
                "with your password.",
                provider=provider,
            ) from error
        if found.get("issuer") != provider.issuer:
            raise SignInRefused(
                "discovery_issuer_mismatch",
                f"Signing in with {provider.name} is not set up correctly. Tell the service desk.",
                provider=provider,
            )
        cache.set(key, found, settings.DSR_OIDC_DISCOVERY_SECONDS)
    return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def start(request: HttpRequest, provider: IdentityProvider, *, email: str, next_url: str) -> str:
    """Remember a new sign-in in the session; the address of the provider's sign-in page."""
    meta = metadata(provider)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    pending = {
        k: v
        for k, v in request.session.get(PENDING_SESSION_KEY, {}).items()
        if v["started"] > time.time() - PENDING_SECONDS
    }
    pending[state] = {
        "provider": provider.pk,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "started": time.time(),
    }
    request.session[PENDING_SESSION_KEY] = dict(
        sorted(pending.items(), key=lambda kv: kv[1]["started"])[-PENDING_LIMIT:]
    )
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri(request),
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    if email:
        query["login_hint"] = email
    return f"{meta['authorization_endpoint']}?{urlencode(query)}"


def redirect_uri(request: HttpRequest) -> str:
    """The one callback address every provider is registered with."""
    return request.build_absolute_uri(reverse("sso_callback"))


@dataclass(frozen=True)
class Outcome:
    """A completed organisation sign-in."""

    provider: IdentityProvider
    user: User
    claims: dict[str, Any]
    id_token: str
    next_url: str

    @property
    def provider_asserted_mfa(self) -> bool:
        amr = self.claims.get("amr") or []
        if isinstance(amr, str):
            amr = [amr]
        return bool(set(amr) & set(MFA_AMR_VALUES)) or (
            bool(self.claims.get("acr")) and self.claims.get("acr") in self.provider.mfa_acr_values
        )

    @property
    def skips_second_factor(self) -> bool:
        """Our second factor is skipped only when the provider asserted one and is trusted to."""
        return self.provider.trusts_provider_mfa and self.provider_asserted_mfa


GENERIC = "Signing in with your organisation did not work. Start again from the sign-in page."


def take_pending(request: HttpRequest, state: str) -> dict[str, Any]:
    """The sign-in this state started, taken out of the session: a state is used once."""
    pending = request.session.get(PENDING_SESSION_KEY, {})
    found = pending.pop(state, None) if state else None
    request.session[PENDING_SESSION_KEY] = pending
    if found is None or found["started"] < time.time() - PENDING_SECONDS:
        raise SignInRefused(
            "state_unknown_or_used",
            "This sign-in link has already been used or has expired. Start again from the "
            "sign-in page.",
        )
    return found


def complete(request: HttpRequest) -> Outcome:
    """The callback: check everything, and return who signed in (or raise SignInRefused)."""
    params = request.GET
    pending = take_pending(request, params.get("state", ""))
    provider = IdentityProvider.objects.filter(pk=pending["provider"], enabled=True).first()
    if provider is None:
        raise SignInRefused("provider_disabled", GENERIC)
    if params.get("error"):
        raise SignInRefused(
            "provider_error:" + params["error"][:50],
            f"{provider.name} did not sign you in ({params.get('error_description', '')[:200]})."
            " Start again from the sign-in page.",
            provider=provider,
        )
    if params.get("iss") and params["iss"] != provider.issuer:
        # RFC 9207: the answer came from another provider (a mix-up).
        raise SignInRefused("issuer_mismatch", GENERIC, provider=provider)
    id_token = exchange_code(request, provider, params.get("code", ""), pending["verifier"])
    claims = validate_id_token(provider, id_token, nonce=pending["nonce"])
    user = match_user(provider, claims)
    return Outcome(provider, user, claims, id_token, pending["next"])


def exchange_code(
    request: HttpRequest, provider: IdentityProvider, code: str, verifier: str
) -> str:
    """The ID token the token endpoint gives for the code (client secret and PKCE verifier)."""
    meta = metadata(provider)
    try:
        response = requests.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri(request),
                "code_verifier": verifier,
            },
            # client_secret_basic, with both parts form-encoded as RFC 6749 2.3.1 asks.
            auth=(
                requests.utils.quote(provider.client_id, safe=""),
                requests.utils.quote(client_secret(provider), safe=""),
            ),
            timeout=settings.DSR_OIDC_HTTP_TIMEOUT,
        )
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused(
            "token_endpoint_unreachable",
            f"{provider.name} could not be reached. Try again in a few minutes.",
            provider=provider,
        ) from error
    if response.status_code != 200 or not body.get("id_token"):
        raise SignInRefused(
            "code_refused:" + str(body.get("error", response.status_code))[:50],
            GENERIC,
            provider=provider,
        )
    return body["id_token"]


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def signing_key(provider: IdentityProvider, id_token: str) -> Any:
    uri = metadata(provider)["jwks_uri"]
    client = _jwks_clients.get(uri)
    if client is None:
        client = _jwks_clients[uri] = jwt.PyJWKClient(
            uri, cache_keys=True, lifespan=3600, timeout=int(settings.DSR_OIDC_HTTP_TIMEOUT)
        )
    # An unknown key id refetches the set once (the provider rotated its keys).
    return client.get_signing_key_from_jwt(id_token).key


TOKEN_REFUSALS: Iterable[tuple[type[Exception], str]] = (
    (jwt.ExpiredSignatureError, "token_expired"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.ImmatureSignatureError, "token_not_yet_valid"),
    (jwt.InvalidIssuedAtError, "token_issued_in_future"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "algorithm_refused"),
    (jwt.MissingRequiredClaimError, "claim_missing"),
    (jwt.PyJWKClientError, "signing_key_unknown"),
)


def validate_id_token(provider: IdentityProvider, id_token: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
    try:
        claims = jwt.decode(
            id_token,
            signing_key(provider, id_token),
            algorithms=ALLOWED_ALGORITHMS,
            audience=provider.client_id,
            issuer=provider.issuer,
            leeway=settings.DSR_OIDC_CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as error:
        reason = next((r for kind, r in TOKEN_REFUSALS if isinstance(error, kind)), "token_invalid")
        raise SignInRefused(reason, GENERIC, provider=provider) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise SignInRefused("wrong_authorized_party", GENERIC, provider=provider)
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignInRefused("nonce_mismatch", GENERIC, provider=provider)
    return claims


def match_user(provider: IdentityProvider, claims: dict[str, Any]) -> User:
    """The existing account this verified email belongs to, if it may sign in through `provider`."""
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        raise SignInRefused(
            "email_missing",
            f"{provider.name} did not tell us your email address, so we cannot tell who you are.",
            provider=provider,
        )
    if claims.get(provider.email_verified_claim) is not True:
        raise SignInRefused(
            "email_unverified",
            f"{provider.name} has not confirmed that {email} is your email address, so you "
            "cannot sign in with it here. Sign in with your password instead.",
            provider=provider,
            email=email,
        )
    if not provider.serves_domain(email_domain(email)):
        raise SignInRefused(
            "email_domain_not_served",
            f"{email} is not an address {provider.name} signs in for this service.",
            provider=provider,
            email=email,
        )
    user = User.objects.filter(email__iexact=email).first()
    not_invited = SignInRefused(
        "not_invited",
        f"There is no account for {email} in this service. Signing in with your organisation "
        "does not create one: ask your authority's lead to invite you.",
        provider=provider,
        email=email,
    )
    if user is None or hasattr(user, "api_client"):
        raise not_invited
    if not user.is_active:
        raise SignInRefused(
            "account_deactivated",
            "Your account in this service has been deactivated. Ask your authority's lead.",
            provider=provider,
            email=email,
            user=user,
        )
    refusal = access.organisation_sign_in_refusal(
        user,
        authority_ids={a.pk for a in provider.authorities.all()},
        national_team=provider.national_team,
    )
    if refusal == "membership_deactivated":
        raise SignInRefused(
            refusal,
            "Your membership of the authority has been deactivated, so you cannot sign in. "
            "Ask your authority's lead.",
            provider=provider,
            email=email,
            user=user,
        )
    if refusal is not None:
        raise SignInRefused(
            refusal,
            f"Your account is not active staff of an authority that signs in with "
            f"{provider.name}. Ask your authority's lead.",
            provider=provider,
            email=email,
            user=user,
        )
    return user


def end_session_url(request: HttpRequest) -> tuple[str, str] | None:
    """(organisation, address) to sign out at the provider too, when it offers that."""
    signed_in = request.session.get(SIGNED_IN_SESSION_KEY)
    if not signed_in:
        return None
    provider = IdentityProvider.objects.filter(pk=signed_in["provider"]).first()
    if provider is None:
        return None
    try:
        endpoint = metadata(provider).get("end_session_endpoint")
    except SignInRefused:
        return None
    if not endpoint:
        return None
    query = {
        "client_id": provider.client_id,
        "id_token_hint": signed_in.get("id_token", ""),
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    return provider.name, f"{endpoint}?{urlencode(query)}"


def record_refusal(refused: SignInRefused) -> None:
    """A refused organisation sign-in, with its reason: in each authority of the account it was
    for (so its lead sees it), or at the national level when no account is known."""
    user = refused.user
    changes = {
        "reason": refused.reason,
        "provider": refused.provider.name if refused.provider else "",
        "email": refused.email[:200],
    }
    authorities = sorted(access.member_authority_ids(user)) if user else []
    with access.user_scope(user) if user else nullcontext():
        for authority_id in authorities or [None]:
            record_event(
                None,
                AuditAction.LOGIN_ORGANISATION_REFUSED,
                authority_id=authority_id,
                obj=user,
                changes=changes,
            )
