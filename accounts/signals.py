"""Sign-in, failed sign-in and sign-out go into the audit trail (with the client's address, which
the request middleware has already noted)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr import cache
from registers import access
from registers.audit import AuditAction, record_event

from . import mfa
from .models import User

logger = logging.getLogger(__name__)


@receiver(user_logged_in, dispatch_uid="dsr_audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    access.forget_scope(user)
    # An organisation sign-in (accounts/oidc.py) names its provider and whose second factor held.
    via = getattr(request, "dsr_organisation_sign_in", None) or {}
    mfa.record_account_event(user, AuditAction.LOGIN, **via)
    if request is not None and hasattr(request, "session"):
        request.session[mfa.HAS_DEVICE_SESSION_KEY] = mfa.confirmed_device(user) is not None


@receiver(user_logged_out, dispatch_uid="dsr_audit_logout")
def audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None and user.is_authenticated:
        mfa.record_account_event(user, AuditAction.LOGOUT)


@receiver(user_login_failed, dispatch_uid="dsr_audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A failed sign-in names the address tried (never the password). When the address belongs to
    someone, the event goes to each of their authorities so their lead sees it."""
    email = str(credentials.get("username") or credentials.get("email") or "")[:200]
    locked = bool(getattr(request, "axes_locked_out", False))
    target = User.objects.filter(email__iexact=email).first() if email else None
    authorities = sorted(access.member_authority_ids(target)) if target else []
    with access.user_scope(target) if target else nullcontext():
        for authority_id in authorities or [None]:
            record_event(
                None,
                AuditAction.LOGIN_FAILED,
                authority_id=authority_id,
                obj=target,
                changes={"email": email, "locked_out": locked},
            )


@receiver(post_save, sender=TOTPDevice, dispatch_uid="dsr_forget_device_on_save")
@receiver(post_delete, sender=TOTPDevice, dispatch_uid="dsr_forget_device_on_delete")
def forget_cached_device(sender: Any, instance: TOTPDevice, **kwargs: Any) -> None:
    key = mfa.device_cache_key(instance.persistent_id, mfa.fingerprint(instance))
    if not cache.delete(key) and kwargs.get("signal") is post_delete:
        # Redis is away: its entry, if Redis comes back with it, lapses within
        # DEVICE_CACHE_SECONDS (docs/operations.md, "When something fails").
        logger.error(
            "removed second factor %s may verify sessions for %s s more",
            instance.pk,
            mfa.DEVICE_CACHE_SECONDS,
        )
