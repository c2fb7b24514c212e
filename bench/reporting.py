"""Census snapshot, returns, the national return and the PDFs: wall time, queries and pages.

Everything runs inside one transaction that is rolled back at the end (and files go to a
temporary media root), so the benchmark leaves the data set as it found it and can be run again:
a submitted return is immutable, and the national return needs every authority's submitted.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Membership, Role
from registers import access
from registers.models import IntegrationAuthority, Person
from reporting import services
from reporting.census import latest_census_date
from reporting.models import AuthorityReturn, CensusSnapshot, JobKind, JobStatus, ReportJob

from .measure import capture, timed


@dataclass
class Wall:
    name: str
    ms: float
    queries: int
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ms": round(self.ms, 1), "queries": self.queries, **self.detail}


class _Rollback(Exception):
    pass


def _job(kind: str, *, authority: IntegrationAuthority | None, census_date=None, person=None):
    """Create a report job and run it synchronously, as the Celery worker would."""
    authority_id = authority.pk if authority else None
    with transaction.atomic(), access.using_scope(services.task_scope(authority_id)):
        job = ReportJob.objects.create(
            kind=kind, authority=authority, census_date=census_date, person=person
        )
    job = services.run_job(job.pk, authority_id=authority_id)
    if job.status != JobStatus.DONE:
        raise RuntimeError(f"{kind} job failed: {job.error}")
    return job


def _pdf_pages(job: ReportJob) -> tuple[int, int]:
    # Files are stored like their jobs are scoped (in the database by default).
    with access.using_scope(services.task_scope(job.authority_id)), job.output.open("rb") as handle:
        data = handle.read()
    return len(PdfReader(io.BytesIO(data)).pages), len(data)


def _measure(name: str, fn, **detail: Any) -> tuple[Wall, Any]:
    (ms, (statements, result)) = timed(lambda: capture(fn))
    return Wall(name, ms, len(statements), detail), result


def _snapshot_and_return(authority: IntegrationAuthority, census_date) -> AuthorityReturn:
    scope = services.task_scope(authority.pk)
    with transaction.atomic(), access.using_scope(scope):
        snapshot = services.take_snapshot(None, authority_id=authority.pk, census_date=census_date)
        return services.build_return(None, snapshot=snapshot)


def run(authority: IntegrationAuthority) -> list[Wall]:
    census_date = latest_census_date(timezone.localdate())
    results: list[Wall] = []
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        try:
            with transaction.atomic():
                _run(authority, census_date, results)
                raise _Rollback
        except _Rollback:
            pass
    return results


def _run(authority: IntegrationAuthority, census_date, results: list[Wall]) -> None:
    scope = services.task_scope(authority.pk)

    def snapshot() -> CensusSnapshot:
        with transaction.atomic(), access.using_scope(scope):
            return services.take_snapshot(None, authority_id=authority.pk, census_date=census_date)

    wall, snap = _measure(f"census snapshot ({authority.name})", snapshot)
    wall.detail["people"] = snap.people
    results.append(wall)

    def build() -> AuthorityReturn:
        with transaction.atomic(), access.using_scope(scope):
            return services.build_return(None, snapshot=snap)

    wall, _ = _measure(f"authority return ({authority.name})", build)
    results.append(wall)

    wall, job = _measure(
        f"authority quarterly summary PDF ({authority.name})",
        lambda: _job(JobKind.AUTHORITY_PDF, authority=authority, census_date=census_date),
    )
    wall.detail["pages"], wall.detail["bytes"] = _pdf_pages(job)
    results.append(wall)

    with access.using_scope(scope):
        person = (
            Person.objects.filter(authority=authority, urgent_reason="in_hospital")
            .order_by("pk")
            .first()
        )
    wall, job = _measure(
        "person profile PDF",
        lambda: _job(JobKind.PERSON_PROFILE, authority=authority, person=person),
    )
    wall.detail["pages"], wall.detail["bytes"] = _pdf_pages(job)
    results.append(wall)

    authorities = list(IntegrationAuthority.objects.order_by("code"))
    with access.system_scope("bench: each authority's lead"):
        leads = {
            m.authority_id: m.user
            for m in Membership.objects.filter(role=Role.LEAD).select_related("user")
        }

    def all_returns() -> int:
        for each in authorities:
            ret = _snapshot_and_return(each, census_date)
            lead = leads[each.pk]
            with transaction.atomic(), access.using_scope(access.scope_for(lead)):
                services.submit_return(lead, ret)
        return len(authorities)

    wall, count = _measure(
        f"national: snapshots, returns and submission for all {len(authorities)} authorities",
        all_returns,
    )
    wall.detail["authorities"] = count
    returns_ms = wall.ms
    results.append(wall)

    # The CSV and the PDF timed apart (the PDF has a goal of its own), and together as before.
    csv_wall, _csv = _measure(
        "national CSV", lambda: _job(JobKind.NATIONAL_CSV, authority=None, census_date=census_date)
    )
    pdf_wall, pdf = _measure(
        "national PDF", lambda: _job(JobKind.NATIONAL_PDF, authority=None, census_date=census_date)
    )
    wall = Wall(
        "national return files (CSV and PDF)",
        csv_wall.ms + pdf_wall.ms,
        csv_wall.queries + pdf_wall.queries,
    )
    wall.detail["pages"], wall.detail["bytes"] = _pdf_pages(pdf)
    pdf_wall.detail["pages"] = wall.detail["pages"]
    results.append(wall)
    results.append(
        Wall(
            f"national return, all {len(authorities)} authorities (total)",
            returns_ms + wall.ms,
            results[-2].queries + wall.queries,
        )
    )
    results += [csv_wall, pdf_wall]
