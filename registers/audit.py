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
from django.utils import timezone

from dsr import onerow
from dsr.bulk import insert_rows

from .models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User


class AuditAction(models.TextChoices):
    """What an audit row records (its `action`). Every writer names one of these; the stored
    strings are the values, as they have always been. The label is the event as a sentence, as
    the audit log and the subject access report show it."""

    # People: changes (the kinds of `StatusChange`)
    PERSON_ADDED = "person.added", "Added a person to the register"
    PERSON_DETAILS = "person.details", "Updated a person's details"
    PERSON_STATUS = "person.status", "Changed a person's register status"
    PERSON_REVIEW_SCHEDULED = "person.review_scheduled", "Scheduled a review"
    PERSON_REVIEW_RECORDED = "person.review_recorded", "Recorded a review"
    PERSON_LOCALITY = "person.locality", "Moved a person to another locality"
    PERSON_LEFT = "person.left", "Recorded that a person left the register"
    # People: reads of identifying data
    PERSON_VIEWED = "person.viewed", "Viewed a person's record"
    PERSON_EDIT_VIEWED = "person.edit_viewed", "Opened a person's details to edit"
    PERSON_PROFILE_VIEWED = "person.profile_viewed", "Viewed a person's case review profile"
    PERSON_PROFILE_DOWNLOADED = (
        "person.profile_downloaded",
        "Downloaded a person's case review profile",
    )
    PEOPLE_SEARCHED = "people.searched", "Searched the register"
    PERSON_SUBJECT_ACCESS_EXPORT = (
        "person.subject_access_export",
        "Produced a subject access report",
    )
    # People: data protection
    PERSON_PROFILE_GENERATED = "person.profile_generated", "Generated a case review profile"
    PERSON_PSEUDONYMISED = "person.pseudonymised", "Pseudonymised a person's record"
    PERSON_ERASED = "person.erased", "Erased a person's entry"
    # Transfers
    TRANSFER_REQUESTED = "transfer.requested", "Asked another authority to take a person"
    TRANSFER_ACCEPTED = "transfer.accepted", "Accepted a transfer"
    TRANSFER_DECLINED = "transfer.declined", "Declined a transfer"
    TRANSFER_CANCELLED = "transfer.cancelled", "Cancelled a transfer"
    TRANSFER_SUMMARY_VIEWED = "transfer.summary_viewed", "Viewed a transfer's summary to decide"
    TRANSFER_SENDING_RECORD_OPENED = (
        "transfer.sending_record_opened",
        "Opened the sending authority's record of a transfer",
    )
    # Localities
    LOCALITY_CREATED = "locality.created", "Added a locality"
    LOCALITY_RENAMED = "locality.renamed", "Renamed a locality"
    LOCALITY_RETIRED = "locality.retired", "Retired a locality"
    LOCALITY_PEOPLE_MOVED = "locality.people_moved", "Moved people between localities"
    # Register files
    REGISTER_IMPORT_CHECKED = "register.import_checked", "Checked a register file"
    REGISTER_IMPORT_REFUSED = "register.import_refused", "Register file refused"
    REGISTER_IMPORTED = "register.imported", "Imported a register file"
    REGISTER_IMPORT_DISCARDED = "register.import_discarded", "Discarded a checked register file"
    REGISTER_EXPORTED = "register.exported", "Exported the register"
    # Staff and API clients
    STAFF_ADDED = "staff.added", "Added a staff member"
    STAFF_INVITATION_RESENT = "staff.invitation_resent", "Sent a staff member's invitation again"
    STAFF_DEACTIVATED = "staff.deactivated", "Deactivated a staff member"
    STAFF_REACTIVATED = "staff.reactivated", "Reactivated a staff member"
    STAFF_ROLE_CHANGED = "staff.role_changed", "Changed a staff member's role"
    STAFF_LOCALITY_GRANTED = "staff.locality_granted", "Gave a staff member a locality"
    STAFF_LOCALITY_REVOKED = "staff.locality_revoked", "Took a locality from a staff member"
    STAFF_REMOVED = "staff.removed", "Removed a staff member"
    STAFF_LEAD_HANDED_OVER = "staff.lead_handed_over", "Handed over the authority lead role"
    API_CLIENT_CREATED = "api_client.created", "Added an API client"
    API_CLIENT_ROTATED = "api_client.rotated", "Replaced an API client's token"
    API_CLIENT_REVOKED = "api_client.revoked", "Revoked an API client"
    WEBHOOK_ADDED = "webhook.added", "Registered a webhook for an API client"
    WEBHOOK_REMOVED = "webhook.removed", "Removed an API client's webhook"
    API_CALL = "api.call", "Called the API"
    # The national team
    NATIONAL_ANALYST_ADDED = "national.analyst_added", "Added a national analyst"
    NATIONAL_INVITATION_RESENT = (
        "national.invitation_resent",
        "Sent a national analyst's invitation again",
    )
    NATIONAL_ANALYST_DEACTIVATED = "national.analyst_deactivated", "Deactivated a national analyst"
    NATIONAL_ANALYST_REACTIVATED = "national.analyst_reactivated", "Reactivated a national analyst"
    NATIONAL_ANALYST_REMOVED = "national.analyst_removed", "Removed a national analyst"
    NATIONAL_ADMINISTRATOR_APPOINTED = (
        "national.administrator_appointed",
        "Appointed a national administrator",
    )
    NATIONAL_ADMINISTRATOR_REVOKED = (
        "national.administrator_revoked",
        "Ended a national administrator's role",
    )
    NATIONAL_AGGREGATED = "national.aggregated", "Built the national return"
    # Sign-in and one's own account
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login.failed", "Failed to sign in"
    LOGOUT = "logout", "Signed out"
    LOGIN_SECOND_FACTOR = "login.second_factor", "Signed in with second factor"
    LOGIN_SECOND_FACTOR_FAILED = "login.second_factor_failed", "Entered a wrong second factor code"
    MFA_CONFIRMED = "mfa.confirmed", "Set up a second factor"
    MFA_REMOVED = "mfa.removed", "Removed a second factor"
    # With the organisation's account (accounts/oidc.py): `login` names the provider; a refusal
    # carries its reason. Providers are configured by `manage.py identity_provider`.
    LOGIN_ORGANISATION_REFUSED = (
        "login.organisation_refused",
        "Sign-in with the organisation's account refused",
    )
    IDENTITY_PROVIDER_ADDED = "identity_provider.added", "Added an organisation sign-in provider"
    IDENTITY_PROVIDER_CHANGED = (
        "identity_provider.changed",
        "Changed an organisation sign-in provider",
    )
    PASSWORD_RESET_REQUESTED = "password.reset_requested", "Asked to reset a password"
    PASSWORD_SET = "password.set", "Set a password"
    PASSWORD_CHANGED = "password.changed", "Changed a password"
    ACCOUNT_EMAIL_DIGESTS = "account.email_digests", "Changed weekly email settings"
    # Reporting
    SNAPSHOT_TAKEN = "snapshot.taken", "Took a census snapshot"
    RETURN_BUILT = "return.built", "Built a return"
    RETURN_SUBMITTED = "return.submitted", "Submitted a return"
    RETURN_ACCEPTED = "return.accepted", "Accepted a return"
    RETURN_RETURNED = "return.returned", "Sent a return back for changes"
    RETURN_OPENED_FOR_DECISION = "return.opened_for_decision", "Opened a return to decide on it"
    RETURN_REMINDER_REQUESTED = (
        "return.reminder_requested",
        "Asked for a return reminder to be sent",
    )
    REPORT_REQUESTED = "report.requested", "Asked for a report"
    REPORT_QUEUE_FAILED = "report.queue_failed", "Report could not be queued"
    REPORT_RETRIED = "report.retried", "Retried a report"
    REPORT_CANCELLED = "report.cancelled", "Cancelled a report"
    REPORT_STUCK = "report.stuck", "Report stopped and marked failed"
    REPORT_BUILT = "report.built", "Report built"
    REPORT_DOWNLOADED = "report.downloaded", "Downloaded a report"
    REPORT_FILE_EXPIRED = "report.file_expired", "Report file expired"
    REPORT_FILE_DELETED_BY_RETENTION = (
        "report.file_deleted_by_retention",
        "Report file deleted at the end of its retention",
    )
    REPORT_FILE_DELETED_BY_ERASURE = (
        "report.file_deleted_by_erasure",
        "Report file deleted with an erased entry",
    )
    # Reminder emails sent
    REMINDER_WEEKLY_DIGEST = "reminder.weekly_digest", "Sent the weekly email"
    REMINDER_RETURN_DUE = "reminder.return_due", "Sent a reminder that a return is due"
    REMINDER_RETURN_OVERDUE = "reminder.return_overdue", "Sent a reminder that a return is overdue"
    REMINDER_TRANSFER_WAITING = (
        "reminder.transfer_waiting",
        "Sent a reminder that a transfer is waiting",
    )
    REMINDER_RETURN_SENT_BACK = "reminder.return_sent_back", "Sent word that a return was sent back"
    REMINDER_RETURN_SUBMITTED = "reminder.return_submitted", "Sent word that a return was submitted"
    REMINDER_RETURN_NATIONAL_REMINDER = (
        "reminder.return_national_reminder",
        "Sent the national team's return reminder",
    )
    # Scope
    ACCESS_REFUSED = "access.refused", "Refused access to a record outside the user's scope"
    SYSTEM_SCOPE = "system_scope", "Used the system scope"


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
    The returned event therefore has no primary key. Its INSERT is written once (dsr/onerow.py):
    compiling it cost more than running it, and every API call records one.
    """
    event = _event(actor, action, authority_id=authority_id, obj=obj, changes=changes)
    onerow.insert(event)
    return event


def record_events(
    actor: User | None,
    entries: Iterable[tuple[AuditAction, models.Model | None, dict[str, Any] | None]],
) -> None:
    """Append one audit row per (action, obj, changes), as `record_event` would, in one INSERT
    (`INSERT ... SELECT FROM jsonb_to_recordset`, from the rows' values: a model instance a row and
    Django's multi-row INSERT cost more than the rows themselves)."""
    rows = [_event_values(actor, action, obj=obj, changes=c) for action, obj, c in entries]
    insert_rows(AuditEvent, rows)


def _event(
    actor: User | None,
    action: AuditAction,
    *,
    authority_id: int | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent(
        **_event_values(actor, action, authority_id=authority_id, obj=obj, changes=changes)
    )


def _event_values(
    actor: User | None,
    action: AuditAction,
    *,
    authority_id: int | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What an audit row holds, by column (`attname`)."""
    label = actor_label_override.get() or (str(actor.email) if actor else "system")
    return {
        "authority_id": authority_id
        if authority_id is not None
        else getattr(obj, "authority_id", None),
        "actor_id": actor.pk if actor and actor.pk else None,
        "actor_label": label,
        "action": action,
        "object_type": obj._meta.model_name if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "changes": changes or {},
        "ip_address": client_ip.get(),
        "at": timezone.now(),
    }
