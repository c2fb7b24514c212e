"""The audit trail: who did what, when, in which authority, to which object, from which address.

`record_event` is the only definition of what an `AuditEvent` row holds; `record_events` writes
many such rows in one INSERT (a batch of changes). The table is append-only in the database
(triggers refuse UPDATE, DELETE and TRUNCATE, whatever role asks) and under row-level security: a
row can be read only in its authority's scope (national-level rows in the national scope).

Actions (the `action` column) are the members of `AuditAction`, by area. Some need a word:
person.edit_viewed is the edit page (it shows date of birth and CHI number); people.searched is
one row per results page of a search by name, reference or CHI number; transfer.summary_viewed is
the receiving lead's decision page; the reads of identifying data are written by
`registers.selectors.record_read` beside the read. access.refused is a 404 on an object outside
the user's scope (another authority's person, ...), recorded in each of the user's own
authorities; system_scope is every use of the scope that steps around the per-authority policy.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from .models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User


class AuditAction(models.TextChoices):
    """What an audit row records (its `action`). Every writer names one of these; the stored
    strings are the values, as they have always been."""

    # People: changes (the kinds of `StatusChange`)
    PERSON_ADDED = "person.added"
    PERSON_DETAILS = "person.details"
    PERSON_STATUS = "person.status"
    PERSON_REVIEW_SCHEDULED = "person.review_scheduled"
    PERSON_REVIEW_RECORDED = "person.review_recorded"
    PERSON_LOCALITY = "person.locality"
    PERSON_LEFT = "person.left"
    # People: reads of identifying data
    PERSON_VIEWED = "person.viewed"
    PERSON_EDIT_VIEWED = "person.edit_viewed"
    PERSON_PROFILE_VIEWED = "person.profile_viewed"
    PERSON_PROFILE_DOWNLOADED = "person.profile_downloaded"
    PEOPLE_SEARCHED = "people.searched"
    PERSON_SUBJECT_ACCESS_EXPORT = "person.subject_access_export"
    # People: data protection
    PERSON_PROFILE_GENERATED = "person.profile_generated"
    PERSON_PSEUDONYMISED = "person.pseudonymised"
    PERSON_ERASED = "person.erased"
    # Transfers
    TRANSFER_REQUESTED = "transfer.requested"
    TRANSFER_ACCEPTED = "transfer.accepted"
    TRANSFER_DECLINED = "transfer.declined"
    TRANSFER_CANCELLED = "transfer.cancelled"
    TRANSFER_SUMMARY_VIEWED = "transfer.summary_viewed"
    TRANSFER_SENDING_RECORD_OPENED = "transfer.sending_record_opened"
    # Localities
    LOCALITY_CREATED = "locality.created"
    LOCALITY_RENAMED = "locality.renamed"
    LOCALITY_RETIRED = "locality.retired"
    LOCALITY_PEOPLE_MOVED = "locality.people_moved"
    # Register files
    REGISTER_IMPORT_CHECKED = "register.import_checked"
    REGISTER_IMPORT_REFUSED = "register.import_refused"
    REGISTER_IMPORTED = "register.imported"
    REGISTER_IMPORT_DISCARDED = "register.import_discarded"
    REGISTER_EXPORTED = "register.exported"
    # Staff and API clients
    STAFF_ADDED = "staff.added"
    STAFF_INVITATION_RESENT = "staff.invitation_resent"
    STAFF_DEACTIVATED = "staff.deactivated"
    STAFF_REACTIVATED = "staff.reactivated"
    STAFF_ROLE_CHANGED = "staff.role_changed"
    STAFF_LOCALITY_GRANTED = "staff.locality_granted"
    STAFF_LOCALITY_REVOKED = "staff.locality_revoked"
    STAFF_REMOVED = "staff.removed"
    STAFF_LEAD_HANDED_OVER = "staff.lead_handed_over"
    API_CLIENT_CREATED = "api_client.created"
    API_CLIENT_ROTATED = "api_client.rotated"
    API_CLIENT_REVOKED = "api_client.revoked"
    API_CALL = "api.call"
    # The national team
    NATIONAL_ANALYST_ADDED = "national.analyst_added"
    NATIONAL_INVITATION_RESENT = "national.invitation_resent"
    NATIONAL_ANALYST_DEACTIVATED = "national.analyst_deactivated"
    NATIONAL_ANALYST_REACTIVATED = "national.analyst_reactivated"
    NATIONAL_ANALYST_REMOVED = "national.analyst_removed"
    NATIONAL_ADMINISTRATOR_APPOINTED = "national.administrator_appointed"
    NATIONAL_ADMINISTRATOR_REVOKED = "national.administrator_revoked"
    NATIONAL_AGGREGATED = "national.aggregated"
    # Sign-in and one's own account
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    LOGIN_SECOND_FACTOR = "login.second_factor"
    LOGIN_SECOND_FACTOR_FAILED = "login.second_factor_failed"
    MFA_CONFIRMED = "mfa.confirmed"
    MFA_REMOVED = "mfa.removed"
    # With the organisation's account (accounts/oidc.py): `login` names the provider; a refusal
    # carries its reason. Providers are configured by `manage.py identity_provider`.
    LOGIN_ORGANISATION_REFUSED = "login.organisation_refused"
    IDENTITY_PROVIDER_ADDED = "identity_provider.added"
    IDENTITY_PROVIDER_CHANGED = "identity_provider.changed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 (an action, not a secret)
    PASSWORD_SET = "password.set"  # noqa: S105
    PASSWORD_CHANGED = "password.changed"  # noqa: S105
    ACCOUNT_EMAIL_DIGESTS = "account.email_digests"
    # Reporting
    SNAPSHOT_TAKEN = "snapshot.taken"
    RETURN_BUILT = "return.built"
    RETURN_SUBMITTED = "return.submitted"
    RETURN_ACCEPTED = "return.accepted"
    RETURN_RETURNED = "return.returned"
    RETURN_OPENED_FOR_DECISION = "return.opened_for_decision"
    RETURN_REMINDER_REQUESTED = "return.reminder_requested"
    REPORT_REQUESTED = "report.requested"
    REPORT_QUEUE_FAILED = "report.queue_failed"
    REPORT_RETRIED = "report.retried"
    REPORT_CANCELLED = "report.cancelled"
    REPORT_STUCK = "report.stuck"
    REPORT_BUILT = "report.built"
    REPORT_DOWNLOADED = "report.downloaded"
    REPORT_FILE_EXPIRED = "report.file_expired"
    REPORT_FILE_DELETED_BY_RETENTION = "report.file_deleted_by_retention"
    REPORT_FILE_DELETED_BY_ERASURE = "report.file_deleted_by_erasure"
    # Reminder emails sent
    REMINDER_WEEKLY_DIGEST = "reminder.weekly_digest"
    REMINDER_RETURN_DUE = "reminder.return_due"
    REMINDER_RETURN_OVERDUE = "reminder.return_overdue"
    REMINDER_TRANSFER_WAITING = "reminder.transfer_waiting"
    REMINDER_RETURN_SENT_BACK = "reminder.return_sent_back"
    REMINDER_RETURN_SUBMITTED = "reminder.return_submitted"
    REMINDER_RETURN_NATIONAL_REMINDER = "reminder.return_national_reminder"
    # Scope
    ACCESS_REFUSED = "access.refused"
    SYSTEM_SCOPE = "system_scope"


# Set by the request middleware so services need not pass the request around.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
actor_label_override: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "actor_label_override", default=None
)


def client_ip_of(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind DSR_TRUSTED_PROXY_COUNT proxies, the address
    the outermost trusted proxy saw (counted from the right of X-Forwarded-For, which a client can
    prepend to but not append to). Used by the audit trail and by the sign-in lockout alike."""
    proxies = settings.DSR_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    actor: User | None,
    action: AuditAction,
    *,
    authority_id: int | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row (in the caller's transaction: it is saved exactly when the change is).

    The row is inserted without reading it back (no RETURNING), so an event can be recorded in a
    scope that may not read it: a failed sign-in by nobody, or a national event in a user's scope.
    The returned event therefore has no primary key.
    """
    event = _event(actor, action, authority_id=authority_id, obj=obj, changes=changes)
    _insert([event])
    return event


def record_events(
    actor: User | None,
    entries: Iterable[tuple[AuditAction, models.Model | None, dict[str, Any] | None]],
) -> list[AuditEvent]:
    """Append one audit row per (action, obj, changes), as `record_event` would, in one INSERT."""
    events = [_event(actor, action, obj=obj, changes=changes) for action, obj, changes in entries]
    if events:
        _insert(events)
    return events


def _event(
    actor: User | None,
    action: AuditAction,
    *,
    authority_id: int | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    label = actor_label_override.get() or (str(actor.email) if actor else "system")
    return AuditEvent(
        authority_id=authority_id
        if authority_id is not None
        else getattr(obj, "authority_id", None),
        actor=actor if actor and actor.pk else None,
        actor_label=label,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        changes=changes or {},
        ip_address=client_ip.get(),
    )


def _insert(events: list[AuditEvent]) -> None:
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    AuditEvent._base_manager._insert(events, fields=fields, returning_fields=None)
