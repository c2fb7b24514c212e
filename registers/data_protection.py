"""Data protection: retention (pseudonymising people who left long ago), erasing an entry added in
error, and subject access. (docs/data-protection.md is the account for data protection officers.)

Retention. People who left the register more than `DSR_RETENTION_YEARS` ago lose what identifies
them: names, CHI number, local reference, key worker details, the day of the month of their birth
(the year and month stay, so their age group on past census dates stays as counted), and the free
text of their history, reviews and transfers. What the census and the returns read stays: the
register state of every history entry, sex, dates on the register, categories. Submitted returns
hold aggregates only and are untouched. History is append-only by trigger; the one exception is
this task, which runs in the audited system scope (the database role `dsr_system`, which only the
worker role may become) and may change only an entry's `reason` and `changes`: that role alone
holds UPDATE on those two columns, and the trigger checks that every other column is unchanged.
Then `remove_identity_everywhere` takes the person's identifying values out of every other text and
JSON column that can hold them (tables found from the app registry), the audit trail included
through its one door, the SECURITY DEFINER function `dsr_redact_audit_changes`.

Erasure. Within `DSR_ERASURE_WINDOW_DAYS` of making an entry, and unless it was counted in a
submitted return or transferred, the lead can erase it: identifying values leave the audit trail,
then the database function `dsr_erase_register_entry` deletes the entry and everything about it
(the only way past the history's trigger for a DELETE), and one audit row records the erasure.

Subject access. The authority's lead can download one person's full record, every history entry
and review, their transfers and the audit trail of who viewed or changed the record, as a PDF.
Each download is audited.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils import formats, timezone

from . import access, labels, selectors, webhooks
from .audit import AuditAction, record_event
from .codes import TransferStatus
from .models import AuditEvent, Person, Review, StatusChange, Transfer
from .validation import safe_download_name

if TYPE_CHECKING:
    from accounts.models import User

REMOVED = "[removed]"
PSEUDONYM_GIVEN_NAME = "Pseudonymised"
# Values in a history entry's `changes` that identify the person; their old and new values go.
IDENTIFYING_CHANGES = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "chi_number",
    "local_reference",
    "key_worker_name",
    "key_worker_contact",
    "lead_professional_team",
)
TRANSFER_SUMMARY_IDENTIFIERS = ("name", "date_of_birth", "chi_number", "local_reference")


def retention_cutoff(today: dt.date, years: int | None = None) -> dt.date:
    """People who left before this date are past the retention period."""
    years = settings.DSR_RETENTION_YEARS if years is None else years
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def due_for_pseudonymisation(today: dt.date) -> Q:
    return Q(date_left__lt=retention_cutoff(today), pseudonymised_at__isnull=True)


def pseudonymise_leavers(*, today: dt.date | None = None) -> list[int]:
    """Pseudonymise everyone past the retention period, in the audited system scope. Idempotent:
    a person is done once (`pseudonymised_at`). Returns the ids done this time."""
    today = today or timezone.localdate()
    cutoff = retention_cutoff(today)
    with (
        transaction.atomic(),
        access.system_scope(f"retention: pseudonymise people who left before {cutoff}"),
    ):
        ids = list(
            Person.objects.filter(due_for_pseudonymisation(today))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for pk in ids:
            _pseudonymise(pk)
    return ids


# --- Finding a person's identifying values wherever they are stored -------------------------


@dataclass(frozen=True)
class Identity:
    """What identifies one person, as patterns to look for in stored text and JSON.

    `everything` (names, CHI, date of birth in the forms people write it, references, key worker)
    is looked for in rows about the person. `distinctive` (CHI, references, full names) is what can
    be looked for across the whole authority without catching other people: a first name alone
    would match half the register, a CHI number or a full name only this person.
    """

    everything: re.Pattern[str] | None
    distinctive: re.Pattern[str] | None


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    needles = sorted({v.strip() for v in values if v and len(v.strip()) >= 2}, key=len)
    if not needles:
        return None
    # Whole words only, so a short name ("Al") does not match inside other words ("hospital").
    # The same text is a PostgreSQL regular expression (see `_matching`).
    alternatives = "|".join(re.escape(n) for n in reversed(needles))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _dates(day: dt.date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%d/%m/%Y"),
        day.strftime("%-d %B %Y"),
        day.strftime("%-d %b %Y"),
        day.strftime("%d.%m.%Y"),
    ]


def identity_of(person: Person) -> Identity:
    """The person's identifying values now and as their history records them earlier (a corrected
    name, a changed reference), read before anything is overwritten."""
    values: dict[str, set[str]] = {field: set() for field in IDENTIFYING_CHANGES}
    for field in IDENTIFYING_CHANGES:
        value = getattr(person, field)
        if value:
            values[field].add(value if isinstance(value, str) else value.isoformat())
    for changes in StatusChange.objects.filter(person_id=person.pk).values_list(
        "changes", flat=True
    ):
        for field in IDENTIFYING_CHANGES:
            for value in changes.get(field) or []:
                if isinstance(value, str) and value and value != REMOVED:
                    values[field].add(value)
    births = set()
    for value in values["date_of_birth"]:
        try:
            births.update(_dates(dt.date.fromisoformat(value)))
        except ValueError:
            births.add(value)
    full_names = {
        f"{given} {family}"
        for given in values["given_name"] | values["preferred_name"]
        for family in values["family_name"]
    }
    distinctive = values["chi_number"] | values["local_reference"] | full_names
    everything = set().union(*values.values()) | births | full_names
    return Identity(everything=_pattern(everything), distinctive=_pattern(distinctive))


def _scrub_json(value: Any, pattern: re.Pattern[str] | None, *, by_key: bool) -> Any:
    """Every string holding an identifying value becomes "[removed]"; with `by_key`, so does the
    value of every identifying field (`{"family_name": [old, new]}`), whatever it holds."""
    if isinstance(value, dict):
        return {
            key: ([REMOVED] * len(item) if isinstance(item, list) else REMOVED)
            if by_key and key in IDENTIFYING_CHANGES and item not in (None, "", [])
            else _scrub_json(item, pattern, by_key=by_key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(item, pattern, by_key=by_key) for item in value]
    if isinstance(value, str) and pattern is not None and pattern.search(value):
        return REMOVED
    return value


def _scrub_text(value: str, pattern: re.Pattern[str] | None, *, free_text: bool) -> str:
    """Free text that mentions the person goes whole; a short value (a file name) loses the
    identifying part only."""
    if not value or pattern is None or not pattern.search(value):
        return value
    return REMOVED if free_text else pattern.sub(REMOVED, value)


# Columns that hold codes and dates only and that the census reads: never rewritten.
KEPT_FOR_THE_CENSUS = {("registers", "statuschange", "state")}


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    """Every column of a model that can hold a person's identifying values: text and JSON,
    discovered from the model (choice fields hold codes only; generated columns follow their
    sources)."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.choices
        and not f.primary_key
        and not isinstance(f, models.GeneratedField)
        and (model._meta.app_label, model._meta.model_name, f.name) not in KEPT_FOR_THE_CENSUS
    ]


def _scrubbed(
    row: models.Model, fields: list[models.Field], pattern: re.Pattern[str] | None, *, by_key: bool
) -> dict[str, Any]:
    changed = {}
    for f in fields:
        value = getattr(row, f.attname)
        if isinstance(f, models.JSONField):
            new = _scrub_json(value, pattern, by_key=by_key)
        else:
            new = _scrub_text(value or "", pattern, free_text=isinstance(f, models.TextField))
            new = new if value is not None else None
        if new != value:
            changed[f.attname] = new
    return changed


def _matching(
    queryset: models.QuerySet, fields: list[models.Field], pattern: re.Pattern[str]
) -> models.QuerySet:
    """Rows where any of the fields holds the pattern, found by the database."""
    regex = pattern.pattern  # PostgreSQL reads re.escape()d text the same way
    condition = Q()
    annotations = {}
    for f in fields:
        if isinstance(f, models.JSONField):
            annotations[f"_text_{f.attname}"] = Cast(f.attname, models.TextField())
            condition |= Q(**{f"_text_{f.attname}__iregex": regex})
        else:
            condition |= Q(**{f"{f.attname}__iregex": regex})
    return queryset.annotate(**annotations).filter(condition)


def person_linked_rows() -> list[tuple[type[models.Model], str]]:
    """Every (model, foreign key) that points at a person, from the app registry: a new table
    about a person is covered by retention and erasure without being listed here."""
    return [
        (rel.related_model, rel.field.name)
        for rel in Person._meta.related_objects
        if rel.one_to_many and rel.related_model is not Person
    ]


def redact_audit_changes(events: list[tuple[int, dict[str, Any]]]) -> int:
    """Replace audit rows' `changes` with redacted copies, through the one database function that
    may (`dsr_redact_audit_changes`: it admits nothing but "[removed]" in place of a value)."""
    if not events:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT dsr_redact_audit_changes(%s::bigint[], %s::text[]::jsonb[])",
            [[pk for pk, _ in events], [json.dumps(changes) for _, changes in events]],
        )
        return cursor.fetchone()[0]


def remove_identity_everywhere(
    person: Person, identity: Identity, *, rows_about_the_person: bool = True
) -> dict[str, int]:
    """Remove the person's identifying values from every text and JSON column that can hold them,
    in the caller's transaction and scope: rows about the person (every table with a foreign key to
    people: history, reviews, transfers, snapshot rows, report jobs) lose every identifying value;
    audit rows about the person or those rows lose them too, by value and by field; every other row
    of the person's authority (audit events, import batches, ...) loses the distinctive ones.
    Returns the number of rows changed per table. The person row itself is the caller's, and so
    are the rows about the person when `rows_about_the_person` is false (erasure deletes them)."""
    counts: dict[str, int] = {}
    linked_objects: dict[str, list[str]] = {"person": [str(person.pk)]}
    linked_models = set()
    for model, fk in person_linked_rows():
        linked_models.add(model)
        fields = _text_fields(model)
        rows = list(model._base_manager.filter(**{fk: person.pk}))
        linked_objects.setdefault(model._meta.model_name, []).extend(str(r.pk) for r in rows)
        for row in rows if rows_about_the_person else ():
            changed = _scrubbed(row, fields, identity.everything, by_key=True)
            if changed:
                model._base_manager.filter(pk=row.pk).update(**changed)
                counts[model._meta.db_table] = counts.get(model._meta.db_table, 0) + 1

    about = Q()
    for object_type, ids in linked_objects.items():
        about |= Q(object_type=object_type, object_id__in=ids)
    # Rows about the person or their rows may sit in another authority (the receiving side of a
    # transfer records its decision there); the rest are looked for in the person's authority.
    found = AuditEvent.objects.filter(about)
    if identity.distinctive is not None:
        audit = AuditEvent.objects.filter(authority_id=person.authority_id)
        found = found | _matching(audit, _text_fields(AuditEvent), identity.distinctive)
    redacted = []
    linked_pairs = {(t, i) for t, ids in linked_objects.items() for i in ids}
    for event in found.distinct().only("pk", "object_type", "object_id", "changes"):
        is_about = (event.object_type, event.object_id) in linked_pairs
        pattern = identity.everything if is_about else identity.distinctive
        changes = _scrub_json(event.changes, pattern, by_key=is_about)
        if changes != event.changes:
            redacted.append((event.pk, changes))
    counts[AuditEvent._meta.db_table] = redact_audit_changes(redacted)

    if identity.distinctive is not None:
        for model in apps.get_models():
            if model in linked_models or model in (Person, AuditEvent):
                continue
            if "authority" not in {f.name for f in model._meta.concrete_fields}:
                continue
            fields = _text_fields(model)
            if not fields:
                continue
            rows = _matching(
                model._base_manager.filter(authority_id=person.authority_id),
                fields,
                identity.distinctive,
            )
            for row in rows:
                changed = _scrubbed(row, fields, identity.distinctive, by_key=False)
                if changed:
                    model._base_manager.filter(pk=row.pk).update(**changed)
                    counts[model._meta.db_table] = counts.get(model._meta.db_table, 0) + 1
    return {table: n for table, n in counts.items() if n}


def _delete_person_files(person_id: int, *, action: AuditAction, actor: User | None = None) -> int:
    """Delete every stored file built about the person (profile PDFs), audited."""
    from reporting.models import ReportJob
    from reporting.services import delete_job_file

    jobs = list(
        ReportJob.objects.select_for_update().filter(person_id=person_id, expired_at__isnull=True)
    )
    for job in jobs:
        delete_job_file(job, action=action, actor=actor)
    return len(jobs)


def _pseudonymise(pk: int) -> None:
    person = Person.objects.select_for_update().get(pk=pk)
    identity = identity_of(person)
    now = timezone.now()
    reference = f"PSEUDONYMISED-{pk}"
    date_of_birth = person.date_of_birth.replace(day=1)
    Person.objects.filter(pk=pk).update(
        given_name=PSEUDONYM_GIVEN_NAME,
        family_name=f"person {pk}",
        preferred_name="",
        chi_number=None,
        date_of_birth=date_of_birth,
        local_reference=reference,
        key_worker_name="",
        key_worker_contact="",
        lead_professional_team="",
        pseudonymised_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    # Free text about the person goes whole, whatever it says.
    history = 0
    for change in StatusChange.objects.filter(person_id=pk).exclude(reason="").only("pk"):
        StatusChange.objects.filter(pk=change.pk).update(reason=REMOVED)
        history += 1
    reviews = Review.objects.filter(person_id=pk).update(
        attendees=REMOVED, outcome=REMOVED, actions=""
    )
    for transfer in Transfer.objects.filter(Q(person_id=pk) | Q(new_person_id=pk)):
        Transfer.objects.filter(pk=transfer.pk).update(
            reason=REMOVED, decision_note=REMOVED if transfer.decision_note else ""
        )
    # Frozen census rows keep their counted age; only the identifiers change.
    apps.get_model("reporting", "SnapshotRow").objects.filter(person_id=pk).update(
        date_of_birth=date_of_birth, local_reference=reference
    )
    files = _delete_person_files(pk, action=AuditAction.REPORT_FILE_DELETED_BY_RETENTION)
    # Then every identifying value left anywhere else.
    removed = remove_identity_everywhere(person, identity)
    webhooks.announce(person.authority_id)
    record_event(
        None,
        AuditAction.PERSON_PSEUDONYMISED,
        obj=person,
        changes={
            "date_left": person.date_left.isoformat(),
            "history_entries": history + removed.get(StatusChange._meta.db_table, 0),
            "reviews": reviews,
            "files": files,
            "rows": removed,
        },
    )


# --- Erasing an entry added in error ---------------------------------------------------------


@dataclass(frozen=True)
class ErasureRefusal:
    """Why an entry cannot be erased; `code` lets the page explain the route that applies."""

    code: str
    message: str


def erasable_until(person: Person) -> dt.datetime:
    return person.created_at + dt.timedelta(days=settings.DSR_ERASURE_WINDOW_DAYS)


def submitted_returns_counting(person: Person) -> list[dt.date]:
    """Census dates of submitted or accepted returns whose snapshot counted the person."""
    from reporting.models import AuthorityReturn, ReturnStatus, SnapshotRow

    dates = SnapshotRow.objects.filter(person_id=person.pk).values("snapshot__census_date")
    return list(
        AuthorityReturn.objects.filter(
            authority_id=person.authority_id,
            census_date__in=dates,
            status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED],
        )
        .order_by("census_date")
        .values_list("census_date", flat=True)
    )


def erasure_refusal(person: Person, *, now: dt.datetime | None = None) -> ErasureRefusal | None:
    """None when the entry may be erased; otherwise the reason it may not."""
    now = now or timezone.now()
    if person.pseudonymised_at is not None:
        return ErasureRefusal("pseudonymised", "This entry has already been pseudonymised.")
    if now > erasable_until(person):
        made = labels.display_date(timezone.localtime(person.created_at).date())
        return ErasureRefusal(
            "too_late",
            f"Only an entry made in the last {settings.DSR_ERASURE_WINDOW_DAYS} days can be "
            f"erased as a mistake; this one was made on {made}. Correct the details on the edit "
            "page, or remove the person from the register with the reason that fits.",
        )
    counted = submitted_returns_counting(person)
    if counted:
        dates = ", ".join(labels.display_date(d) for d in counted)
        return ErasureRefusal(
            "counted_in_return",
            f"This entry is counted in the submitted return for {dates}, so it cannot be erased: "
            "the national figures were built from it. Correct it instead: remove the person from "
            "the register (reason: no longer meets criteria, with a note that the entry was made "
            "in error), record the correction with your data protection officer, and ask the "
            "national team to send the return back so you can rebuild and resubmit it.",
        )
    if (
        Transfer.objects.filter(Q(person_id=person.pk) | Q(new_person_id=person.pk))
        .exclude(status=TransferStatus.CANCELLED)
        .exists()
    ):
        return ErasureRefusal(
            "transferred",
            "This entry has been part of a transfer between authorities, so the other authority "
            "holds a record of it too. Cancel a pending transfer first; otherwise agree the "
            "correction with the other authority's lead and your data protection officer.",
        )
    return None


@transaction.atomic
def erase_entry(actor: User, person: Person | int, *, version: int, reason: str) -> int:
    """Erase an entry added in error (someone else's CHI, a duplicate): the person row, their
    history, reviews, unsubmitted snapshot rows, profile jobs and files go, and their identifying
    values leave the audit trail; one audit row says that an entry was erased, by whom and why,
    without the identity. Refused (ValidationError) outside the window, once counted in a submitted
    return, or after a transfer. Draft snapshots and returns that counted the entry are rebuilt
    without it. Returns the number of history entries erased."""
    from reporting.models import AuthorityReturn, CensusSnapshot
    from reporting.services import build_return, take_snapshot

    from .services import StaleVersion

    pk = person if isinstance(person, int) else person.pk
    access.person_for_erasure(actor, pk)
    person = Person.objects.select_for_update().get(pk=pk)
    if person.version != version:
        raise StaleVersion(person.version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this entry was added in error."]})
    refusal = erasure_refusal(person)
    if refusal is not None:
        raise ValidationError(refusal.message, code=refusal.code)

    identity = identity_of(person)
    census_dates = list(
        CensusSnapshot.objects.filter(authority_id=person.authority_id, rows__person_id=pk)
        .order_by("census_date")
        .values_list("census_date", flat=True)
    )
    files = _delete_person_files(pk, action=AuditAction.REPORT_FILE_DELETED_BY_ERASURE, actor=actor)
    remove_identity_everywhere(person, identity, rows_about_the_person=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT dsr_erase_register_entry(%s)", [pk])
        history = cursor.fetchone()[0]
    webhooks.announce(person.authority_id)
    record_event(
        actor,
        AuditAction.PERSON_ERASED,
        obj=person,
        changes={
            "reason": _scrub_text(reason, identity.everything, free_text=False),
            "entry_made": person.created_at.isoformat(),
            "history_entries": history,
            "files": files,
        },
    )
    for census_date in census_dates:
        snapshot = take_snapshot(actor, authority_id=person.authority_id, census_date=census_date)
        if AuthorityReturn.objects.filter(
            authority_id=person.authority_id, census_date=census_date
        ).exists():
            build_return(actor, snapshot=snapshot)
    return history


# --- Subject access ------------------------------------------------------------------------


def _record_fields(person: Person) -> list[tuple[str, str]]:
    hidden = {"id", "authority", "version", "created_by", "search_names"}  # search_names: derived
    rows = []
    for f in Person._meta.concrete_fields:
        if f.name in hidden:
            continue
        value = getattr(person, f.name)
        if f.name in labels.FIELD_CODES or f.name == "host_area":
            value = labels.field_value(f.name, value)
        elif f.name == "locality":
            value = person.locality.name
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, dt.datetime):
            value = formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
        elif isinstance(value, dt.date):
            value = labels.display_date(value)
        elif isinstance(value, list):
            value = ", ".join(value)
        label = str(f.verbose_name)
        rows.append((label[:1].upper() + label[1:], "" if value in (None, "") else str(value)))
    return rows


def subject_access_report(actor: User, pk: int) -> tuple[bytes, str]:
    """One person's full record as a PDF, for the authority's lead only; audited."""
    from reporting.builders.pdf import render_pdf

    person = selectors.person_detail(actor, pk)
    access.require_lead(actor, person.authority_id)
    record_event(actor, AuditAction.PERSON_SUBJECT_ACCESS_EXPORT, obj=person)
    transfers = list(
        Transfer.objects.filter(Q(person=person) | Q(new_person=person)).select_related(
            "authority", "to_authority", "requested_by", "decided_by"
        )
    )
    audit = (
        AuditEvent.objects.filter(authority_id=person.authority_id)
        .filter(
            Q(object_type="person", object_id=str(person.pk))
            | Q(object_type="transfer", object_id__in=[str(t.pk) for t in transfers])
        )
        .order_by("at", "id")
    )
    generated_at = timezone.localtime()
    context = {
        "person": person,
        "fields": _record_fields(person),
        "changes": sorted(
            person.status_changes.all(), key=lambda c: (c.effective_date, c.changed_at, c.pk)
        ),
        "reviews": sorted(person.reviews.all(), key=lambda r: (r.review_date, r.pk)),
        "transfers": transfers,
        "audit": list(audit),
        "generated_at": generated_at,
        "generated_by": actor,
    }
    filename = safe_download_name(
        f"dsr-subject-access-{person.local_reference}-{generated_at:%Y-%m-%d}.pdf"
    )
    return render_pdf("registers/pdf/subject_access.html", context), filename
