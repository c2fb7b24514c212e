"""What every change to a person's record shares: the field groups, the version check under a
lock, the history entry built from the model's own state, saving with readable constraint errors.

Used by the service modules of this package; callers outside it import from `registers.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .. import access, selectors, webhooks
from ..audit import AuditAction, record_event
from ..models import (
    HOSPITAL_FIELDS,
    PLACEMENT_FIELDS,
    Person,
    StatusChange,
)

if TYPE_CHECKING:
    from accounts.models import User


IDENTITY_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "chi_number",
    "local_reference",
)
DETAIL_FIELDS = (
    *IDENTITY_FIELDS,
    "key_worker_name",
    "key_worker_contact",
    "lead_professional_team",
    "referral_source",
    "planned_move_date",
    "guardianship_or_poa",
    "info_sharing_recorded",
    "info_sharing_date",
)
STATUS_FIELDS = (
    "category",
    "urgent_reason",
    "risk_rating",
    "risk_factors",
    *HOSPITAL_FIELDS,
    *PLACEMENT_FIELDS,
)

# Messages for the database's own checks, should one fire before the Python rules catch it.
CONSTRAINT_MESSAGES = {
    "person_local_reference_unique_in_ia": (
        "local_reference",
        "Another person in this authority already has this local reference.",
    ),
    "person_one_open_entry_per_chi_in_ia": (
        "chi_number",
        "This CHI number is already on this authority's register.",
    ),
}


class StaleVersion(Exception):
    """The record changed since the caller read it; nothing was saved."""

    def __init__(self, current: int) -> None:
        super().__init__(
            "Someone else changed this record since you opened it. "
            "Reload it to see their changes, then make yours again."
        )
        self.current = current


def _today() -> dt.date:
    return timezone.localdate()


class _HostAreas(Container[str]):
    """The host areas open to an authority's placements (every other authority, and the nations
    outside Scotland), read the first time a given host area is checked, and only then."""

    def __init__(self, authority_id: int) -> None:
        self.authority_id = authority_id
        self._codes: set[str] | None = None

    def __contains__(self, code: object) -> bool:
        if self._codes is None:
            self._codes = selectors.host_area_codes(authority_id=self.authority_id)
        return code in self._codes


def _host_areas(authority_id: int) -> Container[str]:
    return _HostAreas(authority_id)


def default_next_review(category: str, from_date: dt.date) -> dt.date:
    return from_date + dt.timedelta(days=settings.DSR_REVIEW_CADENCE_DAYS[category])


def _clean_text(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {}
    for name, value in fields.items():
        cleaned[name] = value.strip() if isinstance(value, str) else value
    if "chi_number" in cleaned:
        cleaned["chi_number"] = (cleaned["chi_number"] or "").replace(" ", "") or None
    return cleaned


def _save(person: Person, *, create: bool = False) -> None:
    try:
        with transaction.atomic():
            if create:
                person.save(force_insert=True)
            else:
                person.save()
        webhooks.announce(person.authority_id)
    except IntegrityError as exc:
        for name, (field, message) in CONSTRAINT_MESSAGES.items():
            if name in str(exc):
                raise ValidationError({field: [message]}) from exc
        raise ValidationError(
            "The record breaks one of the register's rules and was not saved."
        ) from exc


def _append_history(
    actor: User | None,
    person: Person,
    *,
    kind: str,
    before: dict[str, Any],
    reason: str,
    effective_date: dt.date,
) -> StatusChange:
    change = _history_row(
        actor, person, kind=kind, before=before, reason=reason, effective_date=effective_date
    )
    change.save(force_insert=True)
    return change


def _history_row(
    actor: User | None,
    person: Person,
    *,
    kind: str,
    before: dict[str, Any],
    reason: str,
    effective_date: dt.date,
) -> StatusChange:
    """The history entry for the person as they are now (not saved): built right after a change."""
    values = _history_values(
        actor, person, kind=kind, before=before, reason=reason, effective_date=effective_date
    )
    del values["person_id"], values["changed_by_id"]
    return StatusChange(person=person, changed_by=actor, **values)


def _history_values(
    actor: User | None,
    person: Person,
    *,
    kind: str,
    before: dict[str, Any],
    reason: str,
    effective_date: dt.date,
) -> dict[str, Any]:
    """What the history entry for the person as they are now stores, by column (`attname`): a
    batch inserts these as they are (`dsr.bulk.insert_rows`), without a model instance each."""
    after = person.register_state()
    changes = {
        name: [before.get(name), value]
        for name, value in _comparable(person).items()
        if before.get(name) != value
    }
    return {
        "authority_id": person.authority_id,
        "person_id": person.pk,
        "kind": kind,
        "changed_by_id": actor.pk if actor is not None else None,
        "changed_at": timezone.now(),
        "effective_date": effective_date,
        "old_category": before.get("category") or "",
        "new_category": person.category,
        "old_urgent_reason": before.get("urgent_reason") or "",
        "new_urgent_reason": person.urgent_reason or "",
        "old_risk_rating": before.get("risk_rating") or "",
        "new_risk_rating": person.risk_rating or "",
        "risk_factors": list(person.risk_factors),
        "reason": reason,
        "changes": changes,
        "state": after,
        "version": person.version,
    }


def _comparable(person: Person) -> dict[str, Any]:
    names = (
        *DETAIL_FIELDS,
        *STATUS_FIELDS,
        "locality_id",
        "next_review_due",
        "date_left",
        "leaving_reason",
    )
    out = {}
    for name in names:
        value = getattr(person, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def _not_before_last_change(person: Person, when: dt.date, field: str) -> dict[str, list[str]]:
    """History is read in effective-date order, so a change cannot be slotted in before the last."""
    return _not_before(_last_change_date(person), when, field)


def _last_change_date(person: Person) -> dt.date | None:
    return (
        StatusChange.objects.filter(person=person)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )


def _last_change_dates(person_ids: Iterable[int]) -> dict[int, dt.date]:
    """Each person's latest effective date in their history, in one query."""
    return dict(
        StatusChange.objects.filter(person_id__in=list(person_ids))
        .order_by()
        .values("person_id")
        .annotate(last=Max("effective_date"))
        .values_list("person_id", "last")
    )


def _not_before(last: dt.date | None, when: dt.date, field: str) -> dict[str, list[str]]:
    if last and when < last:
        return {
            field: [f"This cannot take effect before the last recorded change ({last:%d %B %Y})."]
        }
    return {}


def _locked(actor: User, person: Person | int, version: int) -> tuple[Person, dict[str, Any]]:
    pk = person if isinstance(person, int) else person.pk
    current = access.person_for_write(actor, pk, lock=True)
    if current.version != version:
        raise StaleVersion(current.version)
    if current.date_left is not None:
        raise ValidationError("This person has left the register; their record is closed.")
    return current, _comparable(current)


def _bump(person: Person) -> None:
    person.version += 1
    person.updated_at = timezone.now()


def _finish(
    actor: User,
    person: Person,
    *,
    kind: str,
    before: dict[str, Any],
    reason: str = "",
    effective_date: dt.date | None = None,
) -> Person:
    return _finish_with_change(
        actor, person, kind=kind, before=before, reason=reason, effective_date=effective_date
    ).person


def _finish_with_change(
    actor: User,
    person: Person,
    *,
    kind: str,
    before: dict[str, Any],
    reason: str = "",
    effective_date: dt.date | None = None,
) -> StatusChange:
    """Save the changed person, append their history entry and audit it; the entry is returned
    (its `person` is the saved person, at their new version)."""
    _bump(person)
    _save(person)
    change = _append_history(
        actor,
        person,
        kind=kind,
        before=before,
        reason=reason,
        effective_date=effective_date or _today(),
    )
    record_event(actor, AuditAction(f"person.{kind}"), obj=person, changes=change.changes)
    return change
