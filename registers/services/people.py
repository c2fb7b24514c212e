"""A person's life on one register: added, details and status changed, reviewed, moved between
localities, removed. Each service runs in one transaction, checks the actor's rights, refuses a
stale version, appends the person's history and writes the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import access
from ..audit import AuditAction, record_event
from ..codes import ChangeKind, LeavingReason, values
from ..models import (
    HOSPITAL_FIELDS,
    PLACEMENT_FIELDS,
    Locality,
    Person,
    Review,
    StatusChange,
)
from ..validation import (
    ADULT_AGE,
    age_on,
    chi_mismatches,
    date_errors,
    identity_errors,
    normalise_status,
    raise_if,
    status_errors,
)

RETIRED_LOCALITY = "This locality is retired: choose another."

from .records import (  # noqa: E402
    CONSTRAINT_MESSAGES,
    DETAIL_FIELDS,
    STATUS_FIELDS,
    _append_history,
    _clean_text,
    _finish,
    _finish_with_change,
    _host_areas,
    _last_change_date,
    _locked,
    _not_before,
    _not_before_last_change,
    _save,
    _today,
    default_next_review,
)

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def add_person(
    actor: User,
    *,
    locality: Locality,
    reason: str = "",
    next_review_due: dt.date | None = None,
    confirm_chi_mismatch: bool = False,
    **fields: Any,
) -> Person:
    """Add someone to the register in a locality the actor may write to."""
    person = _new_person(
        actor,
        locality=locality,
        next_review_due=next_review_due,
        fields=fields,
        confirm_chi_mismatch=confirm_chi_mismatch,
        today=_today(),
        host_areas=_host_areas(locality.authority_id),
        reference_taken=lambda ref: bool(_references_taken(locality.authority_id, [ref])),
    )
    _save(person, create=True)
    _append_history(
        actor,
        person,
        kind=ChangeKind.ADDED,
        before={},
        reason=reason,
        effective_date=person.date_added,
    )
    record_event(actor, AuditAction.PERSON_ADDED, obj=person, changes=_chi_confirmation(person))
    return person


def _chi_confirmation(person: Person) -> dict[str, Any] | None:
    """What the audit trail keeps of a CHI mismatch the user confirmed."""
    mismatches = chi_mismatches(
        person.chi_number, date_of_birth=person.date_of_birth, sex=person.sex
    )
    return {"chi_mismatch_confirmed": mismatches} if mismatches else None


def _new_person(
    actor: User,
    *,
    locality: Locality,
    next_review_due: dt.date | None,
    fields: dict[str, Any],
    today: dt.date,
    host_areas: Container[str],
    reference_taken: Callable[[str | None], bool],
    confirm_chi_mismatch: bool = False,
) -> Person:
    """A new person (not saved) once every rule passes; ValidationError with them all if not."""
    access.require_locality_write(actor, locality)
    unknown = set(fields) - set(DETAIL_FIELDS) - set(STATUS_FIELDS) - {"date_added"}
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    fields = _clean_text(fields)
    fields = {**fields, **normalise_status({k: fields.get(k) for k in STATUS_FIELDS})}
    date_added = fields.pop("date_added", None) or today
    errors = identity_errors(fields, today=today, chi_mismatch_allowed=confirm_chi_mismatch)
    errors.update(status_errors(fields, today=today, host_areas=host_areas))
    if date_added > today:
        errors.setdefault("date_added", []).append("The date added cannot be in the future.")
    elif "date_added" in (added := date_errors({"date_added": date_added, **fields}, today=today)):
        errors["date_added"] = added["date_added"]
    if reference_taken(fields.get("local_reference")):
        errors.setdefault("local_reference", []).append(
            CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]
        )
    if locality.retired_at is not None:
        errors.setdefault("locality", []).append(RETIRED_LOCALITY)
    raise_if(errors)
    return Person(
        authority_id=locality.authority_id,
        locality=locality,
        date_added=date_added,
        in_transition=age_on(fields["date_of_birth"], today) < ADULT_AGE,
        next_review_due=next_review_due or default_next_review(fields["category"], date_added),
        created_by=actor,
        **{k: v for k, v in fields.items() if v is not None or k in STATUS_FIELDS},
    )


def _references_taken(authority_id: int, references: Iterable[str | None]) -> set[str]:
    """Which of these local references people in the authority already hold."""
    wanted = [ref for ref in references if ref]
    if not wanted:
        return set()
    return set(
        Person.objects.filter(authority_id=authority_id, local_reference__in=wanted).values_list(
            "local_reference", flat=True
        )
    )


@transaction.atomic
def update_person_details(
    actor: User,
    person: Person | int,
    *,
    version: int,
    confirm_chi_mismatch: bool = False,
    **fields: Any,
) -> Person:
    """Identity, key worker, planning: anything but the register status."""
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    person, before = _locked(actor, person, version)
    _apply_details(
        person,
        fields,
        today=_today(),
        reference_taken=lambda ref: bool(_references_taken(person.authority_id, [ref])),
        confirm_chi_mismatch=confirm_chi_mismatch,
    )
    return _finish(actor, person, kind=ChangeKind.DETAILS, before=before)


def _apply_details(
    person: Person,
    fields: dict[str, Any],
    *,
    today: dt.date,
    reference_taken: Callable[[str | None], bool],
    confirm_chi_mismatch: bool = False,
) -> None:
    """Set the details on the person (not saved) once they pass; ValidationError if not.
    Changing the CHI number, date of birth or sex so that they disagree needs
    `confirm_chi_mismatch`; other changes leave a mismatch confirmed before alone."""
    fields = _clean_text(fields)
    merged = {name: getattr(person, name) for name in DETAIL_FIELDS} | fields
    identity_changed = any(
        (getattr(person, name) or None) != (merged[name] or None)
        for name in ("chi_number", "date_of_birth", "sex")
    )
    errors = identity_errors(
        merged, today=today, chi_mismatch_allowed=confirm_chi_mismatch or not identity_changed
    )
    ref = merged.get("local_reference")
    if ref != person.local_reference and reference_taken(ref):
        errors.setdefault("local_reference", []).append(
            CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]
        )
    raise_if(errors)
    for name, value in fields.items():
        setattr(person, name, value)
    person.in_transition = age_on(person.date_of_birth, today) < ADULT_AGE


@transaction.atomic
def record_status_change(
    actor: User,
    person: Person | int,
    *,
    version: int,
    category: str,
    reason: str,
    urgent_reason: str | None = None,
    risk_rating: str | None = None,
    risk_factors: Iterable[str] | None = (),
    effective_date: dt.date | None = None,
    **event: Any,
) -> StatusChange:
    """A new category, urgent reason, risk rating, or hospital/placement event, with its reason.

    `risk_factors` None keeps the person's current ones. Returns the new history entry, whose
    `person` is the saved person at their new version: all an API answer needs, without a read."""
    unknown = set(event) - set(HOSPITAL_FIELDS) - set(PLACEMENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    person, before = _locked(actor, person, version)
    today = _today()
    effective_date = effective_date or today
    _apply_status(
        person,
        reason=reason,
        effective_date=effective_date,
        last_change=_last_change_date(person),
        today=today,
        host_areas=_host_areas(person.authority_id),
        category=category,
        urgent_reason=urgent_reason,
        risk_rating=risk_rating,
        risk_factors=risk_factors,
        event=event,
    )
    return _finish_with_change(
        actor,
        person,
        kind=ChangeKind.STATUS,
        before=before,
        reason=reason.strip(),
        effective_date=effective_date,
    )


def _apply_status(
    person: Person,
    *,
    reason: str,
    effective_date: dt.date,
    last_change: dt.date | None,
    today: dt.date,
    host_areas: Container[str],
    category: str,
    urgent_reason: str | None,
    risk_rating: str | None,
    risk_factors: Iterable[str] | None,
    event: dict[str, Any],
) -> None:
    """Set the new register status on the person (not saved) once it passes; ValidationError if
    not. `last_change` is the latest effective date in the person's history."""
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Say why the status changed."]
    if effective_date > today:
        errors["effective_date"] = ["The change cannot take effect in the future."]
    errors.update(_not_before(last_change, effective_date, "effective_date"))
    # Event fields not given keep their current values (a rating change keeps the hospital stay).
    state = {name: getattr(person, name) for name in STATUS_FIELDS}
    state.update(_clean_text(event))
    state.update(
        category=category,
        urgent_reason=urgent_reason,
        risk_rating=risk_rating,
        risk_factors=list(person.risk_factors if risk_factors is None else risk_factors),
    )
    state = normalise_status(state)
    errors.update(
        status_errors(state, today=today, host_areas=host_areas, born=person.date_of_birth)
    )
    raise_if(errors)
    category_changed = (person.category, person.urgent_reason) != (category, state["urgent_reason"])
    for name, value in state.items():
        setattr(person, name, value)
    if category_changed:
        person.next_review_due = default_next_review(category, effective_date)


@transaction.atomic
def schedule_review(actor: User, person: Person | int, *, version: int, due: dt.date) -> Person:
    person, before = _locked(actor, person, version)
    if due < _today():
        raise ValidationError({"next_review_due": ["A review cannot be scheduled in the past."]})
    person.next_review_due = due
    return _finish(actor, person, kind=ChangeKind.REVIEW_SCHEDULED, before=before)


@transaction.atomic
def record_review(
    actor: User,
    person: Person | int,
    *,
    version: int,
    review_date: dt.date,
    attendees: str,
    outcome: str,
    next_review_due: dt.date | None = None,
    actions: str = "",
) -> Review:
    """The review, with the next one due; the returned review's `person` is the saved person at
    their new version (an API answer needs no further read)."""
    person, before = _locked(actor, person, version)
    errors: dict[str, list[str]] = {}
    if review_date > _today():
        errors["review_date"] = ["A review cannot be recorded for a future date."]
    if review_date < person.date_added:
        errors["review_date"] = ["The review cannot be before the person joined the register."]
    if not attendees.strip():
        errors["attendees"] = ["Say who attended."]
    if not outcome.strip():
        errors["outcome"] = ["Record the outcome."]
    next_review_due = next_review_due or default_next_review(person.category, review_date)
    if next_review_due <= review_date:
        errors["next_review_due"] = ["The next review must be after this one."]
    raise_if(errors)
    review = Review.objects.create(
        authority_id=person.authority_id,
        person=person,
        review_date=review_date,
        attendees=attendees.strip(),
        outcome=outcome.strip(),
        actions=actions.strip(),
        next_review_due=next_review_due,
        recorded_by=actor,
    )
    person.next_review_due = next_review_due
    _finish(
        actor,
        person,
        kind=ChangeKind.REVIEW_RECORDED,
        before=before,
        reason=outcome.strip(),
        effective_date=review_date,
    )
    return review


@transaction.atomic
def move_locality(
    actor: User, person: Person | int, *, version: int, locality: Locality, reason: str = ""
) -> Person:
    person, before = _locked(actor, person, version)
    if locality.authority_id != person.authority_id:
        raise ValidationError({"locality": ["Choose a locality in the person's own authority."]})
    access.require_locality_write(actor, locality)
    if locality.pk == person.locality_id:
        raise ValidationError({"locality": ["The person is already in this locality."]})
    if locality.retired_at is not None:
        raise ValidationError({"locality": [RETIRED_LOCALITY]})
    person.locality = locality
    return _finish(actor, person, kind=ChangeKind.LOCALITY, before=before, reason=reason.strip())


@transaction.atomic
def remove_from_register(
    actor: User,
    person: Person | int,
    *,
    version: int,
    date_left: dt.date,
    leaving_reason: str,
    note: str = "",
) -> Person:
    """The person leaves the register; the record and its history stay."""
    person, before = _locked(actor, person, version)
    return _leave(
        actor, person, before, date_left=date_left, leaving_reason=leaving_reason, note=note
    )


def _leave(
    actor: User,
    person: Person,
    before: dict[str, Any],
    *,
    date_left: dt.date,
    leaving_reason: str,
    note: str,
) -> Person:
    errors: dict[str, list[str]] = {}
    if leaving_reason not in values(LeavingReason):
        errors["leaving_reason"] = ["Choose why the person left the register."]
    if date_left > _today():
        errors["date_left"] = ["The date left cannot be in the future."]
    elif date_left < person.date_added:
        errors["date_left"] = ["The date left cannot be before the person was added."]
    else:
        errors.update(_not_before_last_change(person, date_left, "date_left"))
    raise_if(errors)
    person.date_left = date_left
    person.leaving_reason = leaving_reason
    person.next_review_due = None
    return _finish(
        actor,
        person,
        kind=ChangeKind.LEFT,
        before=before,
        reason=note.strip(),
        effective_date=date_left,
    )
