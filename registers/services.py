"""Changes to the register. Each runs in one transaction, checks the actor's rights, refuses a
stale version, appends the person's history and writes the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from . import access
from .audit import record_event, record_events
from .codes import ChangeKind, LeavingReason, TransferStatus, values
from .models import (
    HOSPITAL_FIELDS,
    PLACEMENT_FIELDS,
    IntegrationAuthority,
    Locality,
    Person,
    Review,
    StatusChange,
    Transfer,
)
from .validation import (
    CONTROL_CHARACTER_MESSAGE,
    chi_errors,
    date_errors,
    has_control_characters,
    identity_extra_errors,
    normalise_status,
    raise_if,
    status_errors,
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
MINIMUM_AGE = 16
ADULT_AGE = 18

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


def _host_areas(authority_id: int) -> list[str]:
    from .codes import HostAreaOutsideScotland

    others = IntegrationAuthority.objects.exclude(pk=authority_id).values_list("code", flat=True)
    return [*others, *values(HostAreaOutsideScotland)]


def default_next_review(category: str, from_date: dt.date) -> dt.date:
    return from_date + dt.timedelta(days=settings.DSR_REVIEW_CADENCE_DAYS[category])


def _identity_errors(fields: dict[str, Any], *, today: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("given_name", "family_name", "local_reference"):
        if not (fields.get(name) or "").strip():
            errors[name] = ["This field is required."]
    born = fields.get("date_of_birth")
    if not born:
        errors["date_of_birth"] = ["Enter the date of birth."]
    elif born > today:
        errors["date_of_birth"] = ["The date of birth cannot be in the future."]
    elif _age(born, today) < MINIMUM_AGE:
        errors["date_of_birth"] = [
            "The register is for adults; people from 16 may be recorded while in transition."
        ]
    if fields.get("sex") not in ("male", "female", "not_known"):
        errors["sex"] = ["Choose male, female or not known."]
    if fields.get("chi_number"):
        problems = chi_errors(fields["chi_number"], date_of_birth=born, sex=fields.get("sex"))
        if problems:
            errors["chi_number"] = problems
    if fields.get("info_sharing_date") and not fields.get("info_sharing_recorded"):
        errors["info_sharing_date"] = ["A date needs the information-sharing basis recorded."]
    for name, messages in identity_extra_errors(fields, today=today).items():
        errors[name] = errors.get(name) or messages
    return errors


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


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
    after = person.register_state()
    changes = {
        name: [before.get(name), value]
        for name, value in _comparable(person).items()
        if before.get(name) != value
    }
    return StatusChange(
        authority_id=person.authority_id,
        person=person,
        kind=kind,
        changed_by=actor,
        effective_date=effective_date,
        old_category=before.get("category") or "",
        new_category=person.category,
        old_urgent_reason=before.get("urgent_reason") or "",
        new_urgent_reason=person.urgent_reason or "",
        old_risk_rating=before.get("risk_rating") or "",
        new_risk_rating=person.risk_rating or "",
        risk_factors=list(person.risk_factors),
        reason=reason,
        changes=changes,
        state=after,
        version=person.version,
    )


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
    record_event(actor, f"person.{kind}", obj=person, changes=change.changes)
    return person


@transaction.atomic
def add_person(
    actor: User,
    *,
    locality: Locality,
    reason: str = "",
    next_review_due: dt.date | None = None,
    **fields: Any,
) -> Person:
    """Add someone to the register in a locality the actor may write to."""
    person = _new_person(
        actor,
        locality=locality,
        next_review_due=next_review_due,
        fields=fields,
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
    record_event(actor, "person.added", obj=person)
    return person


def _new_person(
    actor: User,
    *,
    locality: Locality,
    next_review_due: dt.date | None,
    fields: dict[str, Any],
    today: dt.date,
    host_areas: list[str],
    reference_taken: Callable[[str | None], bool],
) -> Person:
    """A new person (not saved) once every rule passes; ValidationError with them all if not."""
    access.require_locality_write(actor, locality)
    unknown = set(fields) - set(DETAIL_FIELDS) - set(STATUS_FIELDS) - {"date_added"}
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    fields = _clean_text(fields)
    fields = {**fields, **normalise_status({k: fields.get(k) for k in STATUS_FIELDS})}
    date_added = fields.pop("date_added", None) or today
    errors = _identity_errors(fields, today=today)
    errors.update(status_errors(fields, today=today, host_areas=host_areas))
    if date_added > today:
        errors.setdefault("date_added", []).append("The date added cannot be in the future.")
    elif "date_added" in (added := date_errors({"date_added": date_added, **fields}, today=today)):
        errors["date_added"] = added["date_added"]
    if reference_taken(fields.get("local_reference")):
        errors.setdefault("local_reference", []).append(
            CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]
        )
    raise_if(errors)
    return Person(
        authority_id=locality.authority_id,
        locality=locality,
        date_added=date_added,
        in_transition=_age(fields["date_of_birth"], today) < ADULT_AGE,
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
    actor: User, person: Person | int, *, version: int, **fields: Any
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
    )
    return _finish(actor, person, kind=ChangeKind.DETAILS, before=before)


def _apply_details(
    person: Person,
    fields: dict[str, Any],
    *,
    today: dt.date,
    reference_taken: Callable[[str | None], bool],
) -> None:
    """Set the details on the person (not saved) once they pass; ValidationError if not."""
    fields = _clean_text(fields)
    merged = {name: getattr(person, name) for name in DETAIL_FIELDS} | fields
    errors = _identity_errors(merged, today=today)
    ref = merged.get("local_reference")
    if ref != person.local_reference and reference_taken(ref):
        errors.setdefault("local_reference", []).append(
            CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]
        )
    raise_if(errors)
    for name, value in fields.items():
        setattr(person, name, value)
    person.in_transition = _age(person.date_of_birth, today) < ADULT_AGE


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
    risk_factors: Iterable[str] = (),
    effective_date: dt.date | None = None,
    **event: Any,
) -> Person:
    """A new category, urgent reason, risk rating, or hospital/placement event, with its reason."""
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
    return _finish(
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
    host_areas: list[str],
    category: str,
    urgent_reason: str | None,
    risk_rating: str | None,
    risk_factors: Iterable[str],
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
        risk_factors=list(risk_factors),
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


# Transfers between authorities. The sending authority keeps the person until the receiving lead
# accepts; acceptance closes the sending entry (`transferred_to_other_ia`) and opens a new one in
# the receiving authority with its own history, so each authority's census stays its own.
TRANSFER_COPIED_FIELDS = tuple(
    name
    for name in (*DETAIL_FIELDS, *STATUS_FIELDS)
    if name
    not in ("local_reference", "key_worker_name", "key_worker_contact", "lead_professional_team")
)


def _transfer_summary(person: Person) -> dict[str, Any]:
    """What the receiving lead sees before accepting (they cannot read the record itself)."""
    return {
        "name": f"{person.given_name} {person.family_name}",
        "date_of_birth": person.date_of_birth.isoformat(),
        "sex": person.get_sex_display(),
        "chi_number": person.chi_number or "",
        "category": person.get_category_display(),
        "urgent_reason": person.get_urgent_reason_display() if person.urgent_reason else "",
        "risk_rating": person.risk_rating or "",
        "local_reference": person.local_reference,
    }


@transaction.atomic
def request_transfer(
    actor: User,
    person: Person | int,
    *,
    version: int,
    to_authority: IntegrationAuthority,
    reason: str,
) -> Transfer:
    person, _ = _locked(actor, person, version)
    errors: dict[str, list[str]] = {}
    if to_authority.pk == person.authority_id:
        errors["to_authority"] = ["Choose another authority: the person is already on this one."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the person is moving to another authority."]
    if Transfer.objects.filter(person=person, status=TransferStatus.PENDING).exists():
        errors["to_authority"] = ["A transfer for this person is already waiting for a decision."]
    raise_if(errors)
    transfer = Transfer.objects.create(
        authority_id=person.authority_id,
        to_authority=to_authority,
        person=person,
        reason=reason.strip(),
        summary=_transfer_summary(person),
        requested_by=actor,
    )
    record_event(
        actor, "transfer.requested", obj=transfer, changes={"to_authority": to_authority.code}
    )
    return transfer


def _pending(transfer: Transfer) -> Transfer:
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not locked.is_pending:
        raise ValidationError(f"This transfer has already been {locked.status}.")
    return locked


def _decide(actor: User, transfer: Transfer, status: str, note: str = "") -> Transfer:
    transfer.status = status
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.decision_note = note.strip()
    transfer.save()
    # Audited in the deciding side's authority: the actor's scope may not include the other.
    deciding_authority = (
        transfer.authority_id if status == TransferStatus.CANCELLED else transfer.to_authority_id
    )
    record_event(
        actor,
        f"transfer.{status}",
        authority_id=deciding_authority,
        obj=transfer,
        changes={"note": note.strip()},
    )
    return transfer


@transaction.atomic
def cancel_transfer(actor: User, transfer: Transfer) -> Transfer:
    """The sending side withdraws the request; the person never left."""
    access.person_for_write(actor, transfer.person_id)
    return _decide(actor, _pending(transfer), TransferStatus.CANCELLED)


@transaction.atomic
def decline_transfer(actor: User, transfer: Transfer, *, note: str) -> Transfer:
    access.require_lead(actor, transfer.to_authority_id)
    if not (note or "").strip():
        raise ValidationError({"note": ["Say why the transfer is declined."]})
    return _decide(actor, _pending(transfer), TransferStatus.DECLINED, note)


@transaction.atomic
def accept_transfer(
    actor: User, transfer: Transfer, *, locality: Locality, local_reference: str
) -> Person:
    """The receiving lead takes the person onto their register."""
    access.require_lead(actor, transfer.to_authority_id)
    transfer = _pending(transfer)
    local_reference = (local_reference or "").strip()
    errors: dict[str, list[str]] = {}
    if locality.authority_id != transfer.to_authority_id:
        errors["locality"] = ["Choose a locality in your own authority."]
    if not local_reference:
        errors["local_reference"] = ["Give the person a local reference on your register."]
    elif has_control_characters(local_reference):
        errors["local_reference"] = [CONTROL_CHARACTER_MESSAGE]
    elif Person.objects.filter(
        authority_id=transfer.to_authority_id, local_reference=local_reference
    ).exists():
        errors["local_reference"] = [CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]]
    raise_if(errors)
    receiving = transfer.to_authority
    today = _today()
    # The sending record is outside the receiving lead's scope: the database opens it for this
    # one step of the transaction (audited), and for nothing else.
    with access.transfer_acceptance(transfer.pk, actor=actor):
        sent = Person.objects.select_for_update().get(pk=transfer.person_id)
        if sent.date_left is not None:
            raise ValidationError("The person has already left the sending authority's register.")
        if sent.host_area == receiving.code:
            raise ValidationError(
                "The person's placement is hosted by your authority: the sending authority "
                "should record their return before transferring them."
            )
        copied = {name: getattr(sent, name) for name in TRANSFER_COPIED_FIELDS}
        sending_name = sent.authority.name
        in_transition, next_review_due = sent.in_transition, sent.next_review_due
        _leave(
            actor,
            sent,
            _comparable(sent),
            date_left=today,
            leaving_reason=LeavingReason.TRANSFERRED_TO_OTHER_IA,
            note=f"Transferred to {receiving.name}.",
        )
    if (
        copied.get("chi_number")
        and Person.objects.filter(
            authority_id=receiving.pk, chi_number=copied["chi_number"], date_left__isnull=True
        ).exists()
    ):
        raise ValidationError(CONSTRAINT_MESSAGES["person_one_open_entry_per_chi_in_ia"][1])
    person = Person(
        authority_id=receiving.pk,
        locality=locality,
        local_reference=local_reference,
        date_added=today,
        in_transition=in_transition,
        next_review_due=next_review_due or default_next_review(copied["category"], today),
        created_by=actor,
        **copied,
    )
    _save(person, create=True)
    _append_history(
        actor,
        person,
        kind=ChangeKind.ADDED,
        before={},
        reason=f"Transferred from {sending_name}: {transfer.reason}",
        effective_date=today,
    )
    record_event(actor, "person.added", obj=person, changes={"transfer": transfer.pk})
    transfer.new_person = person
    _decide(actor, transfer, TransferStatus.ACCEPTED)
    return person


# Updates from other systems (the REST API): one call may change details, status, locality and the
# review date together. Each part goes through its own service above (history, audit, rules), all in
# one transaction, each at the version the previous part left.
NEW_PERSON_REQUIRED = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "category",
    "referral_source",
)


class VersionRequired(Exception):
    """A change to an existing record was asked for without saying which version it was read at."""


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(current, list) or isinstance(wanted, list):
        return list(current or []) != list(wanted or [])
    if current in ("", None) and wanted in ("", None):
        return False
    return current != wanted


def _update_plan(person: Person, fields: dict[str, Any]) -> dict[str, Any]:
    details = {
        name: value
        for name, value in _clean_text({k: fields[k] for k in DETAIL_FIELDS if k in fields}).items()
        if _differs(getattr(person, name), value)
    }
    status: dict[str, Any] | None = None
    if any(name in fields for name in STATUS_FIELDS):
        wanted = {name: getattr(person, name) for name in STATUS_FIELDS}
        wanted.update(_clean_text({k: fields[k] for k in STATUS_FIELDS if k in fields}))
        wanted = normalise_status(wanted)
        if any(_differs(getattr(person, name), wanted[name]) for name in STATUS_FIELDS):
            status = wanted
    locality = fields.get("locality")
    review_due = fields.get("next_review_due")
    return {
        "details": details,
        "status": status,
        "locality": locality if locality and locality.pk != person.locality_id else None,
        "next_review_due": review_due
        if review_due and review_due != person.next_review_due
        else None,
    }


def _refuse_unknown_update_fields(fields: dict[str, Any]) -> None:
    allowed = {*DETAIL_FIELDS, *STATUS_FIELDS, "locality", "next_review_due", "date_added"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")


def _planned_update(
    current: Person, version: int | None, fields: dict[str, Any]
) -> dict[str, Any] | None:
    """What bringing the (locked) record to `fields` would change, or None when nothing would;
    raises what a refused update raises (stale or missing version, closed record)."""
    if version is not None and current.version != version:
        raise StaleVersion(current.version)
    date_added = fields.pop("date_added", None)
    if date_added is not None and date_added != current.date_added:
        raise ValidationError({"date_added": ["The date added cannot be changed."]})
    plan = _update_plan(current, fields)
    if not any(plan.values()):
        return None
    if version is None:
        raise VersionRequired
    if current.date_left is not None:
        raise ValidationError("This person has left the register; their record is closed.")
    return plan


def _require_status_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the register status changed."]})


@transaction.atomic
def update_person(
    actor: User,
    person: Person | int,
    *,
    version: int | None,
    reason: str = "",
    effective_date: dt.date | None = None,
    **fields: Any,
) -> Person:
    """Bring a record to the given values: details, register status (with `reason`), locality and
    next review due. Fields not given keep their values; nothing that already matches is written.

    `version` None is accepted only when nothing would change (a replayed request); otherwise it
    raises VersionRequired. A stale version raises StaleVersion and nothing is saved.
    """
    _refuse_unknown_update_fields(fields)
    pk = person if isinstance(person, int) else person.pk
    current = access.person_for_write(actor, pk, lock=True)
    plan = _planned_update(current, version, fields)
    if plan is None:
        return current
    if plan["details"]:
        current = update_person_details(actor, current, version=current.version, **plan["details"])
    if plan["status"] is not None:
        _require_status_reason(reason)
        status = dict(plan["status"])
        current = record_status_change(
            actor,
            current.pk,
            version=current.version,
            reason=reason,
            effective_date=effective_date,
            category=status.pop("category"),
            urgent_reason=status.pop("urgent_reason"),
            risk_rating=status.pop("risk_rating"),
            risk_factors=status.pop("risk_factors") or (),
            **status,
        )
    if plan["locality"] is not None:
        current = move_locality(
            actor, current.pk, version=current.version, locality=plan["locality"], reason=reason
        )
    if plan["next_review_due"] is not None:
        current = schedule_review(
            actor, current.pk, version=current.version, due=plan["next_review_due"]
        )
    return current


def _check_new_person_request(
    authority_id: int, locality: Locality | None, fields: dict[str, Any]
) -> None:
    errors = {
        name: ["This field is required to add a person."]
        for name in NEW_PERSON_REQUIRED
        if fields.get(name) in (None, "")
    }
    if locality is None or locality.authority_id != authority_id:
        errors["locality"] = ["Choose a locality in your own authority."]
    raise_if(errors)


@transaction.atomic
def upsert_person(
    actor: User,
    authority_id: int,
    *,
    local_reference: str,
    version: int | None,
    reason: str = "",
    effective_date: dt.date | None = None,
    **fields: Any,
) -> tuple[Person, bool]:
    """Create or update the person with this local reference in the authority: (person, created).

    Another system keys its records by its own reference, so sending the same record twice is
    safe: the second call finds it and changes nothing.
    """
    existing = (
        Person.objects.visible_to(actor)
        .filter(authority_id=authority_id, local_reference=local_reference)
        .first()
    )
    if existing is None:
        locality = fields.pop("locality", None)
        _check_new_person_request(authority_id, locality, fields)
        created = add_person(
            actor,
            locality=locality,
            reason=reason,
            local_reference=local_reference,
            **{k: v for k, v in fields.items() if k != "next_review_due"},
            next_review_due=fields.get("next_review_due"),
        )
        return created, True
    person = update_person(
        actor,
        existing.pk,
        version=version,
        reason=reason,
        effective_date=effective_date,
        **fields,
    )
    return person, False


class BulkErrors(Exception):
    """Some items of a bulk request failed; nothing was stored. `errors` maps index to errors."""

    def __init__(self, errors: dict[int, Any]) -> None:
        super().__init__(f"{len(errors)} of the items could not be stored.")
        self.errors = errors


def _error_detail(exc: Exception) -> Any:
    if isinstance(exc, StaleVersion):
        return {"version": [f"{exc} The current version is {exc.current}."]}
    if isinstance(exc, VersionRequired):
        return {"version": ["This person exists: give the version you read to change them."]}
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return exc.message_dict
        return {"non_field_errors": exc.messages}
    return {"non_field_errors": [str(exc)]}


@transaction.atomic
def bulk_upsert_people(
    actor: User,
    authority_id: int,
    items: list[tuple[int, dict[str, Any]]],
    *,
    invalid: dict[int, Any] | None = None,
) -> list[tuple[Person, bool]]:
    """Create or update many people, all or nothing, as `upsert_person` would one by one.

    `items` are (index, fields) pairs keyed by `local_reference` (with `version` for people who
    exist); `invalid` holds the errors of items the caller could not even parse. Every item is
    checked, so every error is reported; if any item failed (or was invalid), BulkErrors is raised
    and the whole transaction is rolled back.

    New people, and changes to details and register status, are checked and written for the
    whole batch at once: a fixed number of queries whatever the batch's size. Anything else (a
    locality move, a new review date, a record the actor may read but not change) goes through
    `upsert_person` for that item alone.
    """
    errors: dict[int, Any] = dict(invalid or {})
    wanted: list[tuple[int, str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, raw in items:
        fields = dict(raw)
        reference = (fields.pop("local_reference", "") or "").strip()
        if reference in seen:
            errors[index] = {
                "local_reference": [f"Item {seen[reference]} has the same local reference."]
            }
            continue
        seen[reference] = index
        wanted.append((index, reference, fields))

    batch = _Batch(actor, authority_id, [reference for _, reference, _ in wanted])
    one_by_one: list[tuple[int, str, dict[str, Any]]] = []
    for index, reference, fields in wanted:
        try:
            if not batch.take(index, reference, dict(fields)):
                one_by_one.append((index, reference, fields))
        except _ITEM_ERRORS as exc:
            errors[index] = _error_detail(exc)
    errors.update(batch.finish_checks())

    results = dict(batch.unchanged)
    if not errors:
        try:
            with transaction.atomic():
                results.update(batch.write())
        except IntegrityError:
            # A rule only the database saw (two records racing for one CHI number): find which
            # items break it by storing them one at a time.
            one_by_one.extend(batch.items)
    results.update(_upsert_one_by_one(actor, authority_id, one_by_one, errors))
    if errors:
        raise BulkErrors(dict(sorted(errors.items())))
    return [results[index] for index, _ in items]


def _upsert_one_by_one(
    actor: User,
    authority_id: int,
    items: list[tuple[int, str, dict[str, Any]]],
    errors: dict[int, Any],
) -> dict[int, tuple[Person, bool]]:
    results: dict[int, tuple[Person, bool]] = {}
    for index, reference, raw in sorted(items, key=lambda item: item[0]):
        fields = dict(raw)
        try:
            with transaction.atomic():
                results[index] = upsert_person(
                    actor,
                    authority_id,
                    local_reference=reference,
                    version=fields.pop("version", None),
                    **fields,
                )
        except _ITEM_ERRORS as exc:
            errors[index] = _error_detail(exc)
    return results


class _Batch:
    """The items of a bulk request that are checked and stored together.

    Reads what the rules need for every item at once (the existing people, locked in primary key
    order; references taken; host areas; the last dates in the histories), applies the same rules
    as the single-person services to each item, then writes the people, their history and the
    audit trail in a few statements.
    """

    def __init__(self, actor: User, authority_id: int, references: list[str]) -> None:
        self.actor = actor
        self.authority_id = authority_id
        self.today = _today()
        self.host_areas = _host_areas(authority_id)
        self.existing = {
            person.local_reference: person
            for person in Person.objects.visible_to(actor)
            .filter(authority_id=authority_id, local_reference__in=references)
            .select_for_update()
            .order_by("pk")
        }
        self.writable = (
            set(
                Person.objects.writable_by(actor)
                .filter(pk__in=[person.pk for person in self.existing.values()])
                .values_list("pk", flat=True)
            )
            if self.existing
            else set()
        )
        self.taken = _references_taken(
            authority_id, [ref for ref in references if ref not in self.existing]
        )
        self.items: list[tuple[int, str, dict[str, Any]]] = []
        self.unchanged: dict[int, tuple[Person, bool]] = {}
        self.new: dict[int, tuple[Person, str]] = {}
        self.changes: dict[int, tuple[Person, dict[str, Any], dict[str, Any]]] = {}
        self.rows: list[StatusChange] = []
        self.events: list[tuple[str, Person, dict[str, Any] | None]] = []

    def take(self, index: int, reference: str, fields: dict[str, Any]) -> bool:
        """Check the item and keep it for the batch; False if it must be stored on its own."""
        raw = dict(fields)
        version = fields.pop("version", None)
        reason = fields.pop("reason", "")
        effective_date = fields.pop("effective_date", None)
        current = self.existing.get(reference)
        if current is None:
            locality = fields.pop("locality", None)
            _check_new_person_request(self.authority_id, locality, fields)
            next_review_due = fields.pop("next_review_due", None)
            person = _new_person(
                self.actor,
                locality=locality,
                next_review_due=next_review_due,
                fields={"local_reference": reference, **fields},
                today=self.today,
                host_areas=self.host_areas,
                reference_taken=lambda ref: ref in self.taken,
            )
            self.new[index] = (person, reason)
            self.items.append((index, reference, raw))
            return True
        if current.pk not in self.writable:
            return False
        _refuse_unknown_update_fields(fields)
        plan = _planned_update(current, version, fields)
        if plan is None:
            self.unchanged[index] = (current, False)
            return True
        if plan["locality"] or plan["next_review_due"] or "local_reference" in plan["details"]:
            return False
        self.changes[index] = (
            current,
            plan,
            {"reason": reason, "effective_date": effective_date or self.today},
        )
        self.items.append((index, reference, raw))
        return True

    def finish_checks(self) -> dict[int, Any]:
        """Apply the changes to the people in memory (checking what needs the history), and check
        the CHI numbers across the batch; the errors by index."""
        errors: dict[int, Any] = {}
        with_status = [p.pk for p, plan, _ in self.changes.values() if plan["status"] is not None]
        last_changes = _last_change_dates(with_status) if with_status else {}
        for index, (person, plan, extra) in self.changes.items():
            try:
                self._apply(person, plan, extra, last_changes.get(person.pk))
            except _ITEM_ERRORS as exc:
                errors[index] = _error_detail(exc)
        errors.update(self._chi_clashes())
        return errors

    def _apply(
        self,
        person: Person,
        plan: dict[str, Any],
        extra: dict[str, Any],
        last_change: dt.date | None,
    ) -> None:
        before = _comparable(person)
        if plan["details"]:
            _apply_details(
                person, plan["details"], today=self.today, reference_taken=lambda ref: False
            )
            _bump(person)
            self._changed(person, ChangeKind.DETAILS, before, "", self.today)
            before = _comparable(person)
            # The details entry just written is the latest in the history.
            last_change = max(last_change or self.today, self.today)
        if plan["status"] is not None:
            _require_status_reason(extra["reason"])
            status = dict(plan["status"])
            _apply_status(
                person,
                reason=extra["reason"],
                effective_date=extra["effective_date"],
                last_change=last_change,
                today=self.today,
                host_areas=self.host_areas,
                category=status.pop("category"),
                urgent_reason=status.pop("urgent_reason"),
                risk_rating=status.pop("risk_rating"),
                risk_factors=status.pop("risk_factors") or (),
                event=status,
            )
            _bump(person)
            self._changed(
                person, ChangeKind.STATUS, before, extra["reason"].strip(), extra["effective_date"]
            )

    def _changed(
        self, person: Person, kind: str, before: dict[str, Any], reason: str, when: dt.date
    ) -> None:
        change = _history_row(
            self.actor, person, kind=kind, before=before, reason=reason, effective_date=when
        )
        self.rows.append(change)
        self.events.append((f"person.{kind}", person, change.changes))

    def _chi_clashes(self) -> dict[int, Any]:
        """The one-open-entry-per-CHI rule, before the database would refuse the batch: a CHI
        number another open record holds, or an earlier item of the batch claims."""
        claims = sorted(
            [(index, person) for index, (person, _) in self.new.items() if person.chi_number]
            + [
                (index, person)
                for index, (person, plan, _) in self.changes.items()
                if plan["details"].get("chi_number")
            ],
            key=lambda claim: claim[0],
        )
        if not claims:
            return {}
        moving = {person.pk for _, person in claims if person.pk}
        held = dict(
            Person.objects.filter(
                authority_id=self.authority_id,
                chi_number__in=[person.chi_number for _, person in claims],
                date_left__isnull=True,
            )
            .exclude(pk__in=moving)
            .values_list("chi_number", "pk")
        )
        field, message = CONSTRAINT_MESSAGES["person_one_open_entry_per_chi_in_ia"]
        errors: dict[int, Any] = {}
        for index, person in claims:
            if person.chi_number in held:
                errors[index] = {field: [message]}
            held[person.chi_number] = person.pk
        return errors

    def write(self) -> dict[int, tuple[Person, bool]]:
        created = [person for person, _ in self.new.values()]
        Person.objects.bulk_create(created)
        for person, reason in self.new.values():
            change = _history_row(
                self.actor,
                person,
                kind=ChangeKind.ADDED,
                before={},
                reason=reason,
                effective_date=person.date_added,
            )
            self.rows.append(change)
            self.events.append(("person.added", person, None))
        changed = [person for person, _, _ in self.changes.values()]
        if changed:
            names = {"version", "updated_at"}
            for _, plan, _ in self.changes.values():
                if plan["details"]:
                    names.update(plan["details"], {"in_transition"})
                if plan["status"] is not None:
                    names.update(STATUS_FIELDS, {"next_review_due"})
            stored = Person.objects.writable_by(self.actor).bulk_update(changed, sorted(names))
            if stored != len(changed):
                raise ValidationError("The records changed while they were being stored.")
        StatusChange.objects.bulk_create(self.rows)
        record_events(self.actor, self.events)
        return {
            **{index: (person, True) for index, (person, _) in self.new.items()},
            **{index: (person, False) for index, (person, _, _) in self.changes.items()},
        }


_ITEM_ERRORS: tuple[type[Exception], ...] = (
    ValidationError,
    StaleVersion,
    VersionRequired,
    PermissionDenied,
    Http404,
)
