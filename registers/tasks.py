"""Celery tasks for the register: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from . import data_protection, imports


@shared_task(acks_late=True, ignore_result=True)
def pseudonymise_leavers() -> int:
    """Daily (Celery beat): pseudonymise people who left more than DSR_RETENTION_YEARS ago.
    Idempotent: each person is done once; the audit trail records every one."""
    return len(data_protection.pseudonymise_leavers())


@shared_task(acks_late=True, ignore_result=True)
def discard_unconfirmed_imports() -> int:
    """Daily (Celery beat): drop the rows of register files checked but never confirmed."""
    return imports.discard_unconfirmed_imports()
