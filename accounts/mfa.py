"""The second factor: a time-based one-time password (django-otp's TOTP device).

Who must use it is a setting, `DSR_MFA_REQUIRED_ROLES` (leads and national analysts by default);
anyone else may set it up, and once they have, it is asked for at every sign-in. After the password
is accepted the session is signed in but not yet verified: `SecondFactorMiddleware` lets such a
session reach only the sign-in, sign-out and second-factor pages (the API answers 403) until a code
from the device is accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr import cache
from registers import access
from registers.audit import AuditAction, record_event

if TYPE_CHECKING:
    from .models import User

# Session flag set at sign-in: this user has a confirmed device, so the code is asked for.
HAS_DEVICE_SESSION_KEY = "dsr_has_second_factor"
DEVICE_NAME = "Authenticator app"
# Set at an organisation sign-in whose provider asserted its own second factor and is trusted to
# (accounts/oidc.py): the user's id, so the flag counts for that user only.
PROVIDER_SECOND_FACTOR_SESSION_KEY = "dsr_provider_second_factor"
# Paths an unverified session may still reach.
OPEN_PREFIXES = ("/accounts/", "/static/")


def mfa_required(user: User) -> bool:
    """Whether the user must use a second factor: their roles oblige them to, or theirs was reset
    (by their lead, or by themselves replacing it) and a new one must be set up."""
    if user.second_factor_reset_at is not None:
        return True
    return bool(access.roles_of(user) & set(settings.DSR_MFA_REQUIRED_ROLES))


def second_factor_done(request: HttpRequest) -> bool:
    """The session passed a second factor: a code from our app, or the organisation's own second
    factor at an organisation sign-in whose configuration trusts it."""
    user = request.user
    if user.is_verified():
        return True
    return request.session.get(PROVIDER_SECOND_FACTOR_SESSION_KEY) == user.pk


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _authority_ids(user: User) -> list[int | None]:
    """Sign-in events go to every authority the user works in, so each lead sees them."""
    return sorted(access.member_authority_ids(user)) or [None]


def record_account_event(user: User, action: AuditAction, **changes: object) -> None:
    """An account event (sign-in, second factor) recorded in each of the user's authorities."""
    with access.user_scope(user):
        for authority_id in _authority_ids(user):
            record_event(user, action, authority_id=authority_id, obj=user, changes=changes)


@transaction.atomic
def start_setup(user: User) -> TOTPDevice:
    """The user's unconfirmed device (a new secret the first time): shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_setup(request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Confirm the device with a code from it; the session is then verified."""
    if not device.verify_token(token.strip()):
        record_account_event(request.user, AuditAction.LOGIN_SECOND_FACTOR_FAILED, step="setup")
        return False
    # One device per user: a confirmed one replaces any earlier.
    TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if request.user.second_factor_reset_at is not None:
        request.user.second_factor_reset_at = None
        request.user.save(update_fields=["second_factor_reset_at"])
    mark_verified(request, device)
    record_account_event(request.user, AuditAction.MFA_CONFIRMED)
    return True


def verify(request: HttpRequest, token: str) -> tuple[bool, str]:
    """Check a code at sign-in. Returns (verified, message for the person)."""
    device = confirmed_device(request.user)
    if device is None:
        return False, "Set up your authenticator app first."
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        record_account_event(request.user, AuditAction.LOGIN_SECOND_FACTOR_FAILED, throttled=True)
        return False, "Too many wrong codes. Wait a minute, then try the newest code."
    if not device.verify_token(token.strip()):
        record_account_event(request.user, AuditAction.LOGIN_SECOND_FACTOR_FAILED)
        return False, "The code did not match. Enter the 6-digit code your app shows now."
    mark_verified(request, device)
    record_account_event(request.user, AuditAction.LOGIN_SECOND_FACTOR)
    return True, ""


@transaction.atomic
def remove_device(actor: User | None, user: User) -> int:
    """Remove a user's second factor (a lost phone): they set it up again at their next sign-in.

    `actor=None` is the system (the `reset_second_factor` command, in the audited system scope).
    """
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    with access.user_scope(user):
        for authority_id in _authority_ids(user):
            record_event(actor, AuditAction.MFA_REMOVED, authority_id=authority_id, obj=user)
    return removed


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as a QR code: an inline SVG built on the server."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2
    )
    return image.to_string(encoding="unicode")


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


DEVICE_CACHE_SECONDS = 300
FINGERPRINT_SESSION_KEY = "dsr_otp_fingerprint"


def fingerprint(device: TOTPDevice) -> str:
    """Names one device for its whole life (its secret is random), unlike its id, which a
    restored or rebuilt database may give to another device."""
    return hashlib.sha256(f"dsr-otp:{device.key}".encode()).hexdigest()[:24]


def device_cache_key(persistent_id: str, print_: str) -> str:
    return f"dsr:otp-device:{persistent_id}:{print_}"


def remember(device: TOTPDevice) -> None:
    """Cache what verified sessions need to know about the device (see CachedOTPMiddleware).
    With Redis away nothing is cached, and each request asks the database instead."""
    cache.set(
        device_cache_key(device.persistent_id, fingerprint(device)),
        (device.pk, device.user_id, device.confirmed),
        DEVICE_CACHE_SECONDS,
    )


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """The session has passed the second factor with `device`."""
    otp_login(request, device)
    request.session[FINGERPRINT_SESSION_KEY] = fingerprint(device)
    request.session[HAS_DEVICE_SESSION_KEY] = True
    transaction.on_commit(lambda: remember(device))


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, remembering in the cache which device a verified session used.

    The session holds the device's id and fingerprint; the cache holds, per id and fingerprint,
    only the device's owner and whether it is confirmed (never its secret). Saving or deleting a
    device drops its entry (accounts/signals.py), so a removed device stops verifying sessions at
    once. Verified requests thus cost no extra query. With Redis away (dsr.cache), the device is
    read from the database on each request instead: slower, never an error.
    """

    def _verify_user_sync(self, request: HttpRequest, user: User) -> User:
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            print_ = request.session.get(FINGERPRINT_SESSION_KEY)
            device = self._device(persistent_id, print_) if persistent_id and print_ else None
            user.otp_device = self._finalize_device(request, user, device)
        return user

    def _device(self, persistent_id: str, print_: str) -> TOTPDevice | None:
        persistent_id = self._normalize_persistent_id(persistent_id)
        key = device_cache_key(persistent_id, print_)
        known = cache.get(key)
        if known is None:
            device = self._device_from_persistent_id(persistent_id)
            if not isinstance(device, TOTPDevice) or fingerprint(device) != print_:
                return None
            remember(device)
            known = (device.pk, device.user_id, device.confirmed)
        pk, user_id, confirmed = known
        return TOTPDevice(pk=pk, user_id=user_id, confirmed=confirmed, name=DEVICE_NAME)


class SecondFactorMiddleware:
    """Holds a signed-in but unverified session at the second-factor step."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not second_factor_done(request)
        ):
            if request.session.get(HAS_DEVICE_SESSION_KEY):
                step = "mfa_verify"
            elif mfa_required(user):
                step = "mfa_setup"
            else:
                return self.get_response(request)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Complete the second sign-in step in the browser first."},
                    status=403,
                )
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
