"""Transfers between authorities: requested by the sending side, accepted, declined or cancelled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import access
from ..audit import AuditAction, record_event
from ..codes import ChangeKind, LeavingReason, TransferStatus
from ..models import (
    IntegrationAuthority,
    Locality,
    Person,
    Transfer,
)
from ..validation import CONTROL_CHARACTER_MESSAGE, has_control_characters, raise_if
from . import changes
from .people import RETIRED_LOCALITY, _leave
from .records import (
    CONSTRAINT_MESSAGES,
    DETAIL_FIELDS,
    STATUS_FIELDS,
    _append_history,
    _comparable,
    _locked,
    _save,
    _today,
    default_next_review,
)

if TYPE_CHECKING:
    from accounts.models import User


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
        actor,
        AuditAction.TRANSFER_REQUESTED,
        obj=transfer,
        changes={"to_authority": to_authority.code},
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
        AuditAction(f"transfer.{status}"),
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
    """The receiving lead takes the person onto their register: the sending entry closes
    (`transferred_to_other_ia`) and a new entry opens in the receiving authority."""
    access.require_lead(actor, transfer.to_authority_id)
    transfer = _pending(transfer)
    local_reference = _checked_acceptance(transfer, locality=locality, reference=local_reference)
    today = _today()
    sent = _close_sending_entry(actor, transfer, today=today)
    _refuse_second_open_chi(transfer.to_authority_id, sent.fields.get("chi_number"))
    person = _open_receiving_entry(
        actor, transfer, sent, locality=locality, local_reference=local_reference, today=today
    )
    transfer.new_person = person
    _decide(actor, transfer, TransferStatus.ACCEPTED)
    return person


@dataclass(frozen=True)
class _SentEntry:
    """What the receiving entry takes over from the closed sending one."""

    fields: dict[str, Any]
    authority_name: str
    in_transition: bool
    next_review_due: dt.date | None


def _checked_acceptance(transfer: Transfer, *, locality: Locality, reference: str) -> str:
    """The receiving lead's choices, checked: the local reference to use, stripped."""
    reference = (reference or "").strip()
    errors: dict[str, list[str]] = {}
    if locality.authority_id != transfer.to_authority_id:
        errors["locality"] = ["Choose a locality in your own authority."]
    elif locality.retired_at is not None:
        errors["locality"] = [RETIRED_LOCALITY]
    if not reference:
        errors["local_reference"] = ["Give the person a local reference on your register."]
    elif has_control_characters(reference):
        errors["local_reference"] = [CONTROL_CHARACTER_MESSAGE]
    elif Person.objects.filter(
        authority_id=transfer.to_authority_id, local_reference=reference
    ).exists():
        errors["local_reference"] = [CONSTRAINT_MESSAGES["person_local_reference_unique_in_ia"][1]]
    raise_if(errors)
    return reference


def _close_sending_entry(actor: User, transfer: Transfer, *, today: dt.date) -> _SentEntry:
    """Close the sending authority's entry, leaving as transferred today.

    The sending record is outside the receiving lead's scope: the database opens it for this one
    step of the accepting transaction (audited), and for nothing else."""
    receiving = transfer.to_authority
    with access.transfer_acceptance(transfer.pk, actor=actor):
        sent = Person.objects.select_for_update().get(pk=transfer.person_id)
        if sent.date_left is not None:
            raise ValidationError("The person has already left the sending authority's register.")
        if sent.host_area == receiving.code:
            raise ValidationError(
                "The person's placement is hosted by your authority: the sending authority "
                "should record their return before transferring them."
            )
        entry = _SentEntry(
            fields={name: getattr(sent, name) for name in TRANSFER_COPIED_FIELDS},
            authority_name=sent.authority.name,
            in_transition=sent.in_transition,
            next_review_due=sent.next_review_due,
        )
        _leave(
            actor,
            sent,
            _comparable(sent),
            date_left=today,
            leaving_reason=LeavingReason.TRANSFERRED_TO_OTHER_IA,
            note=f"Transferred to {receiving.name}.",
        )
    return entry


def _refuse_second_open_chi(authority_id: int, chi_number: str | None) -> None:
    """One open entry per CHI number in an authority: the receiving one may already hold it."""
    if (
        chi_number
        and Person.objects.filter(
            authority_id=authority_id, chi_number=chi_number, date_left__isnull=True
        ).exists()
    ):
        raise ValidationError(CONSTRAINT_MESSAGES["person_one_open_entry_per_chi_in_ia"][1])


def _open_receiving_entry(
    actor: User,
    transfer: Transfer,
    sent: _SentEntry,
    *,
    locality: Locality,
    local_reference: str,
    today: dt.date,
) -> Person:
    """The person's new entry on the receiving register, with its own history from today."""
    person = Person(
        authority_id=transfer.to_authority_id,
        locality=locality,
        local_reference=local_reference,
        date_added=today,
        in_transition=sent.in_transition,
        next_review_due=sent.next_review_due or default_next_review(sent.fields["category"], today),
        created_by=actor,
        **sent.fields,
    )
    # The receiving authority's feed shows the entry as transferred in (registers/services/changes).
    with changes.transferred_in():
        _save(person, create=True)
    _append_history(
        actor,
        person,
        kind=ChangeKind.ADDED,
        before={},
        reason=f"Transferred from {sent.authority_name}: {transfer.reason}",
        effective_date=today,
    )
    record_event(actor, AuditAction.PERSON_ADDED, obj=person, changes={"transfer": transfer.pk})
    return person
