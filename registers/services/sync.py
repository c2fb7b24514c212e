"""Updates from other systems (the REST API): one person brought to given values, found by the
sending system's own reference, or many people at once, all or nothing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from dsr.bulk import insert_rows, update_rows

from .. import access, webhooks
from ..audit import AuditAction, record_events
from ..codes import ChangeKind
from ..models import Locality, Person, StatusChange
from ..validation import normalise_status, raise_if
from .people import (
    _apply_details,
    _apply_status,
    _chi_confirmation,
    _new_person,
    _references_taken,
    add_person,
    move_locality,
    record_status_change,
    schedule_review,
    update_person_details,
)
from .records import (
    CONSTRAINT_MESSAGES,
    DETAIL_FIELDS,
    STATUS_FIELDS,
    StaleVersion,
    _bump,
    _clean_text,
    _comparable,
    _history_values,
    _host_areas,
    _last_change_dates,
    _today,
)

if TYPE_CHECKING:
    from accounts.models import User


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
    actor: User, current: Person, version: int | None, fields: dict[str, Any]
) -> dict[str, Any] | None:
    """What bringing the (locked) record to `fields` would change, or None when nothing would;
    raises what a refused update raises (stale or missing version, closed record)."""
    if version is not None and current.version != version:
        if _replays_own_change(actor, current, version, fields):
            return None
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


def _replays_own_change(actor: User, current: Person, version: int, fields: dict[str, Any]) -> bool:
    """A request the actor sent before, whose answer was lost: it names an older version, the
    record already holds everything it asks for, and every change since that version is the
    actor's own. It is answered as done (RFC 9110, 13.1.1: the change has already succeeded),
    with nothing written; a change by anyone else in between still makes it stale."""
    if not 1 <= version < current.version:
        return False
    wanted = dict(fields)
    date_added = wanted.pop("date_added", None)
    if date_added is not None and date_added != current.date_added:
        return False
    try:
        if any(_update_plan(current, wanted).values()):
            return False
    except ValidationError:
        return False
    return (
        not StatusChange.objects.filter(person_id=current.pk, version__gt=version)
        .exclude(changed_by=actor)
        .exists()
    )


def _require_status_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the register status changed."]})


@transaction.atomic
def update_person(
    actor: User,
    person: Person | int,
    *,
    version: int | None,
    locked: bool = False,
    reason: str = "",
    effective_date: dt.date | None = None,
    confirm_chi_mismatch: bool = False,
    **fields: Any,
) -> Person:
    """Bring a record to the given values: details, register status (with `reason`), locality and
    next review due. Fields not given keep their values; nothing that already matches is written.

    `version` None is accepted only when nothing would change (a replayed request); otherwise it
    raises VersionRequired. A stale version raises StaleVersion and nothing is saved.
    `locked`: `person` is the record as the caller read it in this transaction with
    `access.person_for_write(..., lock=True)`, so it is not read again.
    """
    _refuse_unknown_update_fields(fields)
    if locked and isinstance(person, Person):
        current = person
    else:
        pk = person if isinstance(person, int) else person.pk
        current = access.person_for_write(actor, pk, lock=True)
    plan = _planned_update(actor, current, version, fields)
    if plan is None:
        return current
    if plan["details"]:
        current = update_person_details(
            actor,
            current,
            version=current.version,
            confirm_chi_mismatch=confirm_chi_mismatch,
            **plan["details"],
        )
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
        ).person
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
    confirm_chi_mismatch: bool = False,
    **fields: Any,
) -> tuple[Person, bool]:
    """Create or update the person with this local reference in the authority: (person, created).

    Another system keys its records by its own reference, so sending the same record twice is
    safe: the second call finds it and changes nothing.
    """
    existing = (
        access.visible_people(actor)
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
            confirm_chi_mismatch=confirm_chi_mismatch,
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
        confirm_chi_mismatch=confirm_chi_mismatch,
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
            for person in access.visible_people(actor)
            .filter(authority_id=authority_id, local_reference__in=references)
            .select_for_update()
            .order_by("pk")
        }
        self.writable = (
            set(
                access.writable_people(actor)
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
        self.rows: list[dict[str, Any]] = []  # history entries, by column
        self.events: list[tuple[str, Person, dict[str, Any] | None]] = []

    def take(self, index: int, reference: str, fields: dict[str, Any]) -> bool:
        """Check the item and keep it for the batch; False if it must be stored on its own."""
        raw = dict(fields)
        version = fields.pop("version", None)
        reason = fields.pop("reason", "")
        effective_date = fields.pop("effective_date", None)
        confirm_chi_mismatch = bool(fields.pop("confirm_chi_mismatch", False))
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
                confirm_chi_mismatch=confirm_chi_mismatch,
            )
            self.new[index] = (person, reason)
            self.items.append((index, reference, raw))
            return True
        if current.pk not in self.writable:
            return False
        _refuse_unknown_update_fields(fields)
        plan = _planned_update(self.actor, current, version, fields)
        if plan is None:
            self.unchanged[index] = (current, False)
            return True
        if plan["locality"] or plan["next_review_due"] or "local_reference" in plan["details"]:
            return False
        self.changes[index] = (
            current,
            plan,
            {
                "reason": reason,
                "effective_date": effective_date or self.today,
                "confirm_chi_mismatch": confirm_chi_mismatch,
            },
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
                person,
                plan["details"],
                today=self.today,
                reference_taken=lambda ref: False,
                confirm_chi_mismatch=extra["confirm_chi_mismatch"],
            )
            _bump(person)
            self._changed(person, ChangeKind.DETAILS, before, "", self.today)
            if plan["status"] is not None:
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
        row = _history_values(
            self.actor, person, kind=kind, before=before, reason=reason, effective_date=when
        )
        self.rows.append(row)
        self.events.append((f"person.{kind}", person, row["changes"]))

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
            row = _history_values(
                self.actor,
                person,
                kind=ChangeKind.ADDED,
                before={},
                reason=reason,
                effective_date=person.date_added,
            )
            self.rows.append(row)
            self.events.append((AuditAction.PERSON_ADDED, person, _chi_confirmation(person)))
        changed = [person for person, _, _ in self.changes.values()]
        if changed:
            names = {"version", "updated_at"}
            for _, plan, _ in self.changes.values():
                if plan["details"]:
                    names.update(plan["details"], {"in_transition"})
                if plan["status"] is not None:
                    names.update(STATUS_FIELDS, {"next_review_due"})
            stored = update_rows(access.writable_people(self.actor), changed, sorted(names))
            if stored != len(changed):
                raise ValidationError("The records changed while they were being stored.")
        # Nothing reads the entries back (their ids are not needed): one INSERT ... SELECT.
        insert_rows(StatusChange, self.rows)
        record_events(self.actor, self.events)
        for authority_id in {person.authority_id for person in [*created, *changed]}:
            webhooks.announce(authority_id)
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
