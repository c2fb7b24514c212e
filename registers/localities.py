"""The lead's changes to their authority's localities: create, rename, retire, and move people
from one locality to another in one step.

Each runs in one transaction, takes the actor first, checks the lead role through the access
module and writes the audit trail. A retired locality keeps its history but cannot be chosen for
people or granted to staff; one with people on the register cannot be retired until they are moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from . import access, webhooks
from .audit import AuditAction, record_event, record_events
from .codes import ChangeKind
from .models import Locality, Person, StatusChange

if TYPE_CHECKING:
    from accounts.models import User

MAX_NAME = 100
NAME_TAKEN = "Your authority already has a locality with this name."


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Enter the locality's name."]})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": [f"Use at most {MAX_NAME} characters."]})
    return name


def _name_taken(authority_id: int, name: str, *, other_than: int | None = None) -> bool:
    return (
        Locality.objects.filter(authority_id=authority_id, name__iexact=name)
        .exclude(pk=other_than)
        .exists()
    )


def _locked(actor: User, locality: Locality | int) -> Locality:
    """The locality, locked, for its authority's lead (404 outside the actor's authorities)."""
    pk = locality if isinstance(locality, int) else locality.pk
    found = access.localities_for_lead(actor).select_for_update().filter(pk=pk).first()
    if found is None:
        # Staff of the authority get 403 (not the lead); anyone else 404.
        authority_id = Locality.objects.filter(pk=pk).values_list("authority_id", flat=True)
        access.require_lead(actor, authority_id.first() or 0)
        raise Http404("No such locality.")
    return found


@transaction.atomic
def create_locality(actor: User, authority_id: int, *, name: str) -> Locality:
    """A new locality in the lead's authority."""
    access.require_lead(actor, authority_id)
    name = _clean_name(name)
    if _name_taken(authority_id, name):
        raise ValidationError({"name": [NAME_TAKEN]})
    locality = Locality(authority_id=authority_id, name=name)
    try:
        with transaction.atomic():
            locality.save(force_insert=True)
    except IntegrityError as exc:  # the same name created at the same moment
        raise ValidationError({"name": [NAME_TAKEN]}) from exc
    record_event(
        actor,
        AuditAction.LOCALITY_CREATED,
        authority_id=authority_id,
        obj=locality,
        changes={"name": name},
    )
    return locality


@transaction.atomic
def rename_locality(actor: User, locality: Locality | int, *, name: str) -> Locality:
    """A new name; people, grants and history stay with the locality."""
    locality = _locked(actor, locality)
    name = _clean_name(name)
    if name == locality.name:
        return locality
    if _name_taken(locality.authority_id, name, other_than=locality.pk):
        raise ValidationError({"name": [NAME_TAKEN]})
    old = locality.name
    locality.name = name
    locality.save(update_fields=["name"])
    record_event(
        actor,
        AuditAction.LOCALITY_RENAMED,
        authority_id=locality.authority_id,
        obj=locality,
        changes={"name": [old, name]},
    )
    return locality


@transaction.atomic
def retire_locality(actor: User, locality: Locality | int) -> Locality:
    """Retire a locality nobody on the register is in. Its grants are withdrawn (nobody can be
    added there any more); people who left while in it keep it in their record and history."""
    from accounts.models import LocalityUserObjectPermission

    locality = _locked(actor, locality)
    if locality.retired_at is not None:
        raise ValidationError("This locality is already retired.")
    on_register = Person.objects.filter(
        authority_id=locality.authority_id, locality=locality, date_left__isnull=True
    ).count()
    if on_register:
        raise ValidationError(
            f"{on_register} {'person is' if on_register == 1 else 'people are'} on the register "
            "in this locality: move them to another locality first."
        )
    grants = LocalityUserObjectPermission.objects.filter(content_object=locality)
    withdrawn = sorted(set(grants.values_list("user__email", flat=True)))
    grants.delete()
    locality.retired_at = timezone.now()
    locality.save(update_fields=["retired_at"])
    record_event(
        actor,
        AuditAction.LOCALITY_RETIRED,
        authority_id=locality.authority_id,
        obj=locality,
        changes={"name": locality.name, "grants_withdrawn_from": withdrawn},
    )
    return locality


@transaction.atomic
def move_people(
    actor: User,
    *,
    from_locality: Locality | int,
    to_locality: Locality | int,
    people: Iterable[int] | None = None,
    reason: str = "",
) -> int:
    """Move people on the register from one locality of the lead's authority to another, in one
    step: `people` (ids in `from_locality`) or, when None, everyone there. Each person gets a
    locality entry in their history and a new version; a fixed number of queries however many
    move. Returns how many moved."""
    from .services.records import _bump, _comparable, _history_row

    source = _locked(actor, from_locality)
    target = _locked(actor, to_locality)
    errors: dict[str, list[str]] = {}
    if target.authority_id != source.authority_id:
        errors["to_locality"] = ["Choose a locality in the same authority."]
    elif target.pk == source.pk:
        errors["to_locality"] = ["Choose a different locality to move people to."]
    elif target.retired_at is not None:
        errors["to_locality"] = ["This locality is retired: choose another."]
    if errors:
        raise ValidationError(errors)
    chosen = Person.objects.filter(
        authority_id=source.authority_id, locality=source, date_left__isnull=True
    )
    wanted: set[int] | None = None
    if people is not None:
        wanted = {int(pk) for pk in people}
        if not wanted:
            raise ValidationError({"people": ["Choose the people to move."]})
        chosen = chosen.filter(pk__in=wanted)
    moving = list(chosen.select_for_update().order_by("pk"))
    if wanted is not None and len(moving) != len(wanted):
        raise ValidationError(
            {"people": ["Some of the people chosen are not on the register in this locality."]}
        )
    if not moving:
        raise ValidationError({"people": ["Nobody on the register is in this locality."]})
    today = timezone.localdate()
    rows: list[StatusChange] = []
    events = []
    for person in moving:
        before = _comparable(person)
        person.locality = target
        _bump(person)
        change = _history_row(
            actor,
            person,
            kind=ChangeKind.LOCALITY,
            before=before,
            reason=reason.strip(),
            effective_date=today,
        )
        rows.append(change)
        events.append((AuditAction.PERSON_LOCALITY, person, change.changes))
    Person.objects.bulk_update(moving, ["locality", "version", "updated_at"])
    if moving:
        webhooks.announce(source.authority_id)
    StatusChange.objects.bulk_create(rows)
    record_events(actor, events)
    record_event(
        actor,
        AuditAction.LOCALITY_PEOPLE_MOVED,
        authority_id=source.authority_id,
        obj=source,
        changes={"from": source.name, "to": target.name, "people": len(moving)},
    )
    return len(moving)
