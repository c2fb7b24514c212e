"""Reads for reporting. Each takes the acting user first and starts from their scope.

These are also what the REST API should expose for returns and their status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from registers import access
from registers import selectors as registers_selectors
from registers.audit import AuditAction
from registers.models import IntegrationAuthority, Person

from .census import latest_census_date, recent_census_dates, return_deadline
from .models import (
    PUBLISHED_NATIONAL_KINDS,
    AuthorityReturn,
    CensusSnapshot,
    JobKind,
    JobStatus,
    ReportJob,
    ReturnStatus,
    SnapshotRow,
)
from .tables import WARNINGS, warning_codes

if TYPE_CHECKING:
    from accounts.models import User

TREND_QUARTERS = 8


@dataclass
class CensusLine:
    census_date: dt.date
    deadline: dt.date
    returns: list[tuple[IntegrationAuthority, AuthorityReturn | None]]
    counts: dict[str, int]


def census_overview(
    user: User, *, today: dt.date | None = None, count: int = 8
) -> list[CensusLine]:
    """Recent census dates: for staff, their authorities' returns; for the analyst, counts."""
    today = today or timezone.localdate()
    dates = recent_census_dates(today, count)
    lines = []
    if access.is_national(user):
        counts: dict[dt.date, dict[str, int]] = {}
        rows = (
            AuthorityReturn.objects.filter(census_date__in=dates)
            .order_by()
            .values("census_date", "status")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts.setdefault(row["census_date"], {})[row["status"]] = row["n"]
        for day in dates:
            lines.append(CensusLine(day, return_deadline(day), [], counts.get(day, {})))
        return lines
    authorities = list(
        IntegrationAuthority.objects.filter(pk__in=access.member_authority_ids(user))
    )
    returns = {
        (r.authority_id, r.census_date): r
        for r in access.in_member_authorities(
            user, AuthorityReturn.objects.filter(census_date__in=dates)
        )
    }
    for day in dates:
        pairs = [(a, returns.get((a.pk, day))) for a in authorities]
        lines.append(CensusLine(day, return_deadline(day), pairs, {}))
    return lines


def authority_return(user: User, authority_id: int, census_date: dt.date) -> AuthorityReturn | None:
    access.require_member(user, authority_id, message="No such authority in your scope.")
    return (
        AuthorityReturn.objects.filter(authority_id=authority_id, census_date=census_date)
        .select_related("authority", "submitted_by", "decided_by")
        .first()
    )


def returns_for_authority(user: User, authority_id: int) -> QuerySet[AuthorityReturn]:
    """Every return of one authority, newest first (status and aggregates)."""
    access.require_member(user, authority_id, message="No such authority in your scope.")
    return AuthorityReturn.objects.filter(authority_id=authority_id).order_by("-census_date")


def people_with_warnings(user: User, ret: AuthorityReturn) -> list[dict[str, Any]]:
    """Who is behind each data-quality warning: the lead only (it names people)."""
    if not access.is_lead(user, ret.authority_id):
        return []
    snapshot = CensusSnapshot.objects.filter(
        authority_id=ret.authority_id, census_date=ret.census_date
    ).first()
    if snapshot is None:
        return []
    fields = [f.name for f in SnapshotRow._meta.concrete_fields]
    found = []
    for row in snapshot.rows.values(*fields).order_by("local_reference"):
        codes = warning_codes(row, ret.census_date)
        if codes:
            found.append(
                {
                    "person_id": row["person"],
                    "local_reference": row["local_reference"],
                    "problems": [WARNINGS[c] for c in codes],
                }
            )
    return found


def national_status(
    user: User, census_date: dt.date
) -> list[tuple[IntegrationAuthority, AuthorityReturn | None]]:
    """Every authority with its return's status for the census date (national analyst only)."""
    access.require_national(user)
    returns = {
        r.authority_id: r
        for r in AuthorityReturn.objects.filter(census_date=census_date).defer("tables", "warnings")
    }
    return [(a, returns.get(a.pk)) for a in IntegrationAuthority.objects.order_by("name")]


def national_landing_date(today: dt.date | None = None) -> dt.date:
    """The census date the national analyst starts from: the latest with a return submitted or
    accepted, else the latest census date."""
    latest = (
        AuthorityReturn.objects.filter(status__in=["submitted", "accepted"])
        .order_by("-census_date")
        .values_list("census_date", flat=True)
        .first()
    )
    return latest or latest_census_date(today or timezone.localdate())


def return_for_decision(user: User, pk: int) -> AuthorityReturn:
    access.require_national(user)
    ret = AuthorityReturn.objects.filter(pk=pk).select_related("authority").first()
    if ret is None:
        raise Http404("No such return.")
    return ret


def jobs_for_return(user: User, authority_id: int, census_date: dt.date) -> QuerySet[ReportJob]:
    access.require_member(user, authority_id, message="No such authority in your scope.")
    return ReportJob.objects.filter(
        authority_id=authority_id, census_date=census_date, person__isnull=True
    ).select_related("requested_by")[:20]


def national_jobs(user: User, census_date: dt.date) -> QuerySet[ReportJob]:
    access.require_national(user)
    return ReportJob.objects.filter(authority__isnull=True, census_date=census_date).select_related(
        "requested_by"
    )[:20]


def profile_page(user: User, person_id: int) -> tuple[Person, QuerySet[ReportJob]]:
    """The person's profile page: the person (404 out of scope) and the user's latest profile
    builds for them. Showing it is a read of the record, audited here."""
    person = access.person_for_read(user, person_id)
    jobs = ReportJob.objects.filter(
        kind=JobKind.PERSON_PROFILE, person=person, requested_by=user
    ).select_related("requested_by")[:10]
    registers_selectors.record_read(user, AuditAction.PERSON_PROFILE_VIEWED, person)
    return person, jobs


def open_download(user: User, job: ReportJob) -> File:
    """The built file of a job the user may download (see `job_for_user`), opened for reading.
    Audited: a download of the file, and for a profile PDF a read of the person's record (it
    shows on their page)."""
    registers_selectors.record_read(
        user, AuditAction.REPORT_DOWNLOADED, job, authority_id=job.authority_id
    )
    if job.person_id is not None:
        registers_selectors.record_read(
            user,
            AuditAction.PERSON_PROFILE_DOWNLOADED,
            job.person,
            authority_id=job.authority_id,
            changes={"job": job.pk},
        )
    return job.output.open("rb")


def job_for_user(user: User, pk: int) -> ReportJob:
    """A job the user may follow and download, or 404.

    National files: the national analyst only. Authority files: that authority's staff. Person
    profiles: staff who can read that person (never the national analyst).
    """
    job = ReportJob.objects.filter(pk=pk).select_related("authority").first()
    if job is None:
        raise access.out_of_scope(user, "report_job", pk, "No such file.")
    if job.is_national:
        if not access.is_national(user):
            raise Http404("No such file.")
        return job
    if not access.is_member(user, job.authority_id):
        raise access.out_of_scope(user, "report_job", pk, "No such file.")
    if job.kind == JobKind.PERSON_PROFILE:
        access.person_for_read(user, job.person_id)
    return job


# National figures on screen -----------------------------------------------------------------------

DONE = (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED)


def return_flag(ret: AuthorityReturn | None, census_date: dt.date, today: dt.date) -> str:
    """ "overdue" (the deadline, domain.md, has passed and the return is not submitted or
    accepted), "due" (not yet submitted, deadline still ahead) or "" (submitted or accepted)."""
    if ret is not None and ret.status in DONE:
        return ""
    return "overdue" if today > return_deadline(census_date) else "due"


def _releases() -> QuerySet[ReportJob]:
    return ReportJob.objects.filter(
        authority__isnull=True,
        kind__in=PUBLISHED_NATIONAL_KINDS,
        status=JobStatus.DONE,
        release__isnull=False,
    )


@dataclass
class NationalFigures:
    census_date: dt.date
    dates: list[dt.date]
    release: ReportJob | None  # the latest built national release of the census date
    headlines: dict[dt.date, dict[str, Any]]  # each date's latest release's headline figures


def national_figures(
    user: User, census_date: dt.date, *, quarters: int = TREND_QUARTERS
) -> NationalFigures:
    """The latest built national release of the census date, and the headline figures of the
    latest release of each of the quarters up to it, for the national analyst: two queries
    whatever the number of authorities or dates. Only what a national file published is read;
    returns are never touched here.

    Read from the read replica when there is one: a release is written once, when it is built, so
    a replica a moment behind the primary at worst shows the release built before it."""
    access.require_national(user)
    dates = recent_census_dates(census_date, quarters)
    with access.user_reporting_reads(user):
        release = (
            _releases()
            .filter(census_date=census_date)
            .select_related("requested_by")
            .order_by("-finished_at", "-id")
            .first()
        )
        latest = dict(
            _releases()
            .filter(census_date__in=dates)
            .order_by("census_date", "-finished_at", "-id")
            .distinct("census_date")
            .values_list("census_date", "release__headlines")
        )
    return NationalFigures(census_date, dates, release, latest)
