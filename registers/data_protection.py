"""Data protection: retention (pseudonymising people who left long ago) and subject access.

Retention. People who left the register more than `DSR_RETENTION_YEARS` ago lose what identifies
them: names, CHI number, local reference, key worker details, the day of the month of their birth
(the year and month stay, so their age group on past census dates stays as counted), and the free
text of their history, reviews and transfers. What the census and the returns read stays: the
register state of every history entry, sex, dates on the register, categories. Submitted returns
hold aggregates only and are untouched. History is append-only by trigger; the one exception is
this task, which runs in the audited system scope (the database role `dsr_system`, which only the
worker role may become) and may change only an entry's `reason` and `changes`: that role alone
holds UPDATE on those two columns, and the trigger checks that every other column is unchanged.

Subject access. The authority's lead can download one person's full record, every history entry
and review, their transfers and the audit trail of who viewed or changed the record, as a PDF.
Each download is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import access, selectors
from .audit import record_event
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


def _scrub_changes(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        name: ([REMOVED, REMOVED] if name in IDENTIFYING_CHANGES else value)
        for name, value in changes.items()
    }


def _pseudonymise(pk: int) -> None:
    person = Person.objects.select_for_update().get(pk=pk)
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
    history = 0
    for change in StatusChange.objects.filter(person_id=pk).only("pk", "reason", "changes"):
        reason = REMOVED if change.reason else ""
        changes = _scrub_changes(change.changes)
        if (reason, changes) != (change.reason, change.changes):
            StatusChange.objects.filter(pk=change.pk).update(reason=reason, changes=changes)
            history += 1
    reviews = Review.objects.filter(person_id=pk).update(
        attendees=REMOVED, outcome=REMOVED, actions=""
    )
    for transfer in Transfer.objects.filter(Q(person_id=pk) | Q(new_person_id=pk)):
        summary = dict(transfer.summary)
        summary.update({key: REMOVED for key in TRANSFER_SUMMARY_IDENTIFIERS if summary.get(key)})
        Transfer.objects.filter(pk=transfer.pk).update(
            summary=summary,
            reason=REMOVED,
            decision_note=REMOVED if transfer.decision_note else "",
        )
    # Frozen census rows keep their counted age; only the identifiers change.
    apps.get_model("reporting", "SnapshotRow").objects.filter(person_id=pk).update(
        date_of_birth=date_of_birth, local_reference=reference
    )
    record_event(
        None,
        "person.pseudonymised",
        obj=person,
        changes={
            "date_left": person.date_left.isoformat(),
            "history_entries": history,
            "reviews": reviews,
        },
    )


# --- Subject access ------------------------------------------------------------------------


def _record_fields(person: Person) -> list[tuple[str, str]]:
    hidden = {"id", "authority", "version", "created_by", "search_names"}  # search_names: derived
    rows = []
    for f in Person._meta.concrete_fields:
        if f.name in hidden:
            continue
        value = getattr(person, f.name)
        if f.choices and value:
            value = getattr(person, f"get_{f.name}_display")()
        elif f.name == "locality":
            value = person.locality.name
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, dt.datetime):
            value = timezone.localtime(value).strftime("%-d %B %Y %H:%M")
        elif isinstance(value, dt.date):
            value = value.strftime("%-d %B %Y")
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
    record_event(actor, "person.subject_access_export", obj=person)
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
