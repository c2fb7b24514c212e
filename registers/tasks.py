"""Celery tasks for the register: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import data_protection, imports, reminders


@shared_task(acks_late=True, ignore_result=True)
def pseudonymise_leavers() -> int:
    """Daily (Celery beat): pseudonymise people who left more than DSR_RETENTION_YEARS ago.
    Idempotent: each person is done once; the audit trail records every one."""
    return len(data_protection.pseudonymise_leavers())


@shared_task(acks_late=True, ignore_result=True)
def discard_unconfirmed_imports() -> int:
    """Daily (Celery beat): drop the rows of register files checked but never confirmed."""
    return imports.discard_unconfirmed_imports()


@shared_task(acks_late=True, ignore_result=True)
def send_reminder_notices() -> int:
    """Daily (Celery beat): leads' and national analysts' notices. Idempotent (SentReminder)."""
    return reminders.send_notices()


@shared_task(acks_late=True, ignore_result=True)
def send_weekly_digests() -> int:
    """Weekly (Celery beat, Mondays): practitioners' review digests. Idempotent per week."""
    return reminders.send_weekly_digests()


@shared_task(acks_late=True, ignore_result=True)
def compact_register_counts() -> int:
    """Every quarter of an hour (Celery beat): fold the register's counts (registers/0022).
    Returns how many rows it folded. Safe to run at any time, and twice at once."""
    from .services import compact_register_counts as compact

    before, after = compact()
    return before - after


@shared_task(acks_late=True, ignore_result=True)
def purge_idempotency_keys() -> int:
    """Hourly (Celery beat): API idempotency keys past DSR_IDEMPOTENCY_KEY_HOURS, with the
    answers kept under them. Idempotent."""
    from .api.idempotency import purge_expired_keys

    return purge_expired_keys()


@shared_task(acks_late=True, ignore_result=True)
def dispatch_webhooks(authority_id: int) -> int:
    """After people changed (queued on commit): record a delivery per endpoint with news, and send
    each (registers/webhooks.py). A change the feed still holds back (a writer that began before it
    is running) is looked for again shortly."""
    from . import webhooks

    ids = webhooks.dispatch(authority_id)
    for delivery_id in ids:
        send_webhook.apply_async((delivery_id, authority_id))
    if webhooks.waiting(authority_id):
        dispatch_webhooks.apply_async(
            (authority_id,), countdown=settings.DSR_WEBHOOK_RECHECK_SECONDS
        )
    return len(ids)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def send_webhook(self, delivery_id: int, authority_id: int) -> None:
    """One attempt; on a failure or timeout, again after a doubling wait (the attempts are counted
    and bounded by the delivery itself, DSR_WEBHOOK_MAX_ATTEMPTS)."""
    from . import webhooks

    wait = webhooks.attempt(delivery_id, authority_id)
    if wait is not None:
        raise self.retry(countdown=wait)
