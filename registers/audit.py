"""The audit trail: who did what, when, in which authority, to which object, from which address.

`record_event` is the only definition of what an `AuditEvent` row holds; `record_events` writes
many such rows in one INSERT (a batch of changes). The table is append-only in the database
(triggers refuse UPDATE, DELETE and TRUNCATE, whatever role asks) and under row-level security: a
row can be read only in its authority's scope (national-level rows in the national scope).

Actions (the `action` column), by area:
- people: person.added, person.details, person.status, person.review_scheduled,
  person.review_recorded, person.locality, person.left (the kinds of `StatusChange`), and reads:
  person.viewed, person.edit_viewed (the edit page, with date of birth and CHI number),
  person.profile_viewed, person.profile_generated, people.searched (one per results page of a
  search by name, reference or CHI number); transfers: transfer.requested / accepted / declined /
  cancelled, transfer.summary_viewed (the receiving lead's decision page);
- access.refused: a 404 on an object outside the user's scope (another authority's person, ...),
  recorded in each of the user's own authorities;
- staff: staff.added, staff.role_changed, staff.locality_granted, staff.locality_revoked,
  staff.removed, staff.lead_handed_over;
- sign-in: login (after an organisation's sign-in, naming its provider and whose second factor
  held), login.failed, login.organisation_refused (with its reason), logout,
  login.second_factor, login.second_factor_failed, mfa.confirmed, mfa.removed;
  identity_provider.added / changed (`manage.py identity_provider`);
- reporting: snapshot.taken, return.built / submitted / accepted / returned, report.requested,
  report.built, report.retried, report.downloaded, national.aggregated;
- system_scope: every use of the scope that steps around the per-authority policy.
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
    action: str,
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
    entries: Iterable[tuple[str, models.Model | None, dict[str, Any] | None]],
) -> list[AuditEvent]:
    """Append one audit row per (action, obj, changes), as `record_event` would, in one INSERT."""
    events = [_event(actor, action, obj=obj, changes=changes) for action, obj, changes in entries]
    if events:
        _insert(events)
    return events


def _event(
    actor: User | None,
    action: str,
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
