"""Signing in again and looking after one's own account: a forgotten password by an emailed link,
changing the password, and replacing one's own authenticator app.

"Forgot your password?" answers the same whether or not the address has an account, is limited
per address and per client address (DSR_PASSWORD_RESET_LIMIT an hour), and is audited either way.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from dsr.cache import CACHE_ERRORS
from registers import access
from registers.audit import AuditAction, record_event

from . import mfa
from .emails import send_email
from .models import User
from .services import _valid_days, set_password_link

WINDOW_SECONDS = 3600
logger = logging.getLogger(__name__)


def _over_limit(key: str) -> bool:
    """Count one more attempt under `key`; True once the hour's limit is passed.

    With Redis away nothing can be counted, so the limit holds by sending nothing: the page
    answers as always, and the person asks again later (logged as a warning)."""
    try:
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)
            count = 1
    except CACHE_ERRORS as exc:
        logger.warning("password reset not sent: cache unavailable (%s)", exc.__class__.__name__)
        return True
    return count > settings.DSR_PASSWORD_RESET_LIMIT


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@transaction.atomic
def request_password_reset(email: str, *, client_ip: str | None) -> None:
    """Email a set-password link to the account with this address, if there is one and the
    limits allow; nothing the caller sees differs either way."""
    email = (email or "").strip()[:200]
    throttled = _over_limit(f"pwreset:address:{_digest(email.lower())}") | _over_limit(
        f"pwreset:client:{_digest(client_ip or '')}"
    )
    user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
    sent = bool(user is not None and not throttled)
    authorities = sorted(access.member_authority_ids(user)) if user else []
    with access.user_scope(user) if user else nullcontext():
        for authority_id in authorities or [None]:
            record_event(
                None,
                AuditAction.PASSWORD_RESET_REQUESTED,
                authority_id=authority_id,
                obj=user,
                changes={"email": email, "throttled": throttled, "sent": sent},
            )
    if sent:
        context = {"link": set_password_link(user), "valid_days": _valid_days()}
        transaction.on_commit(lambda: send_email(user.email, "password_reset", context))


def password_set(user: User) -> None:
    """Audit a password set through a link (an invitation or a forgotten password)."""
    mfa.record_account_event(user, AuditAction.PASSWORD_SET)


def password_changed(user: User) -> None:
    """Audit a changed password and tell the owner by email."""
    mfa.record_account_event(user, AuditAction.PASSWORD_CHANGED)
    transaction.on_commit(lambda: send_email(user.email, "password_changed", {}))


@transaction.atomic
def set_email_digests(user: User, *, enabled: bool) -> None:
    """The weekly digest of reviews on or off (other notices always go); audited."""
    if user.email_digests == enabled:
        return
    user.email_digests = enabled
    user.save(update_fields=["email_digests"])
    mfa.record_account_event(user, AuditAction.ACCOUNT_EMAIL_DIGESTS, enabled=enabled)


@transaction.atomic
def replace_own_authenticator(user: User) -> int:
    """The user retires their authenticator app (a new phone): it stops working at once, and a
    new one must be set up before anything else."""
    removed = mfa.remove_device(user, user)
    user.second_factor_reset_at = timezone.now()
    user.save(update_fields=["second_factor_reset_at"])
    return removed
