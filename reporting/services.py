"""Changes in reporting: snapshots, returns and their workflow, and the build jobs.

Each service runs in one transaction, takes the actor first, validates, writes, audits, and
enqueues Celery work with `transaction.on_commit`. `run_job` is the exception: it is the body of
the Celery task and commits in steps so the browser can follow its progress.

One module although it is over 600 lines, for now: the return workflow and the build jobs (request,
run, retry, cancel, the sweep of lost jobs, file expiry) share its transaction and audit helpers,
and the national figures are being added here at the same time. Splitting it by subject
(snapshots and returns, jobs and their files) is the next step once that work has landed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr import cache
from registers import access
from registers.audit import AuditAction, record_event
from registers.models import IntegrationAuthority, Person

from . import disclosure, documents, figures
from .builders import pdf, tabular
from .builders.charts import stacked_bars
from .census import is_census_date
from .models import (
    EXPIRING_KINDS,
    NATIONAL_KINDS,
    AuthorityReturn,
    CensusSnapshot,
    JobKind,
    JobStatus,
    ReportJob,
    ReturnStatus,
    SnapshotRow,
)
from .snapshots import ROW_COLUMNS, store_rows
from .tables import compute_tables, summarise_warnings

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

TREND_QUARTERS = 8
PROTECTION_CACHE_SECONDS = 7 * 24 * 3600
# Value columns per table part on an A4 page (wider tables are cut, row labels repeated).
PORTRAIT_COLUMNS = 8
LANDSCAPE_COLUMNS = 10


def task_scope(authority_id: int | None) -> access.Scope:
    """The scope a job runs in: one authority's rows, or the national (aggregate-only) scope."""
    return access.task_scope(authority_id)


def _check_census_date(census_date: dt.date) -> None:
    if not is_census_date(census_date):
        raise ValidationError({"census_date": ["This is not a census date."]})
    if census_date > timezone.localdate():
        raise ValidationError({"census_date": ["This census date has not happened yet."]})


# Snapshots and returns ---------------------------------------------------------------------------


@transaction.atomic
def take_snapshot(actor: User | None, *, authority_id: int, census_date: dt.date) -> CensusSnapshot:
    """Freeze everyone on the register at the census date. Running it again replaces the rows
    with the same reconstruction, so there is always exactly one snapshot per authority and date."""
    _check_census_date(census_date)
    existing = AuthorityReturn.objects.filter(authority_id=authority_id, census_date=census_date)
    if existing.filter(status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED]).exists():
        raise ValidationError("The return for this census date is submitted; its snapshot stays.")
    snapshot, created = CensusSnapshot.objects.select_for_update().get_or_create(
        authority_id=authority_id, census_date=census_date
    )
    if not created:  # a new snapshot has no rows yet
        SnapshotRow.objects.filter(snapshot=snapshot).delete()
    # Rebuilt and inserted by the database in one statement (reporting/snapshots.py).
    snapshot.people, snapshot.movement = store_rows(snapshot)
    snapshot.taken_at = timezone.now()
    snapshot.save()
    record_event(
        actor, AuditAction.SNAPSHOT_TAKEN, obj=snapshot, changes={"people": snapshot.people}
    )
    return snapshot


# What the return's tables and warnings read of a snapshot row (reporting/tables.py): all but
# who the person is and the dates only the snapshot itself keeps.
RETURN_FIELDS = tuple(
    column
    for column in ROW_COLUMNS
    if column not in ("person_id", "local_reference", "locality_id", "date_of_birth", "date_added")
)


def _snapshot_rows(snapshot: CensusSnapshot) -> list[dict[str, Any]]:
    """The snapshot's rows as the return reads them: read as tuples, in no order (they are only
    counted), which halves the time of reading all 146,000 rows of a national build."""
    rows = snapshot.rows.order_by().values_list(*RETURN_FIELDS)
    return [dict(zip(RETURN_FIELDS, row, strict=True)) for row in rows]


@transaction.atomic
def build_return(actor: User | None, *, snapshot: CensusSnapshot) -> AuthorityReturn:
    """The return's tables and data-quality warnings, computed from the snapshot."""
    ret = (
        AuthorityReturn.objects.select_for_update()
        .filter(authority_id=snapshot.authority_id, census_date=snapshot.census_date)
        .first()
    )
    if ret is not None and ret.is_locked:
        raise ValidationError("This return is submitted and cannot be rebuilt.")
    rows = _snapshot_rows(snapshot)
    ret = ret or AuthorityReturn(
        authority_id=snapshot.authority_id, census_date=snapshot.census_date
    )
    ret.tables = compute_tables(rows, snapshot.census_date, snapshot.movement)
    ret.warnings = summarise_warnings(rows, snapshot.census_date)
    ret.in_transition = sum(1 for r in rows if r["age"] < 18)
    ret.built_at = timezone.now()
    ret.status = ReturnStatus.DRAFT
    ret.submitted_at = ret.submitted_by = None
    ret.save()
    record_event(
        actor, AuditAction.RETURN_BUILT, obj=ret, changes={"census_date": str(ret.census_date)}
    )
    return ret


@transaction.atomic
def submit_return(actor: User, ret: AuthorityReturn) -> AuthorityReturn:
    access.require_lead(actor, ret.authority_id)
    ret = AuthorityReturn.objects.select_for_update().get(pk=ret.pk)
    if ret.status != ReturnStatus.DRAFT:
        raise ValidationError(
            "Only a built draft can be submitted; rebuild a return that was sent back."
        )
    ret.status = ReturnStatus.SUBMITTED
    ret.submitted_at = timezone.now()
    ret.submitted_by = actor
    ret.save(update_fields=["status", "submitted_at", "submitted_by"])
    record_event(
        actor, AuditAction.RETURN_SUBMITTED, obj=ret, changes={"census_date": str(ret.census_date)}
    )
    return ret


def included_returns_count(census_date: dt.date) -> int:
    """How many returns a national build of the census date would include now (submitted or
    accepted), read in the caller's scope."""
    return AuthorityReturn.objects.filter(
        census_date=census_date, status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED]
    ).count()


def national_build_blocker(census_date: dt.date, *, included: int | None = None) -> str:
    """Why a national file cannot be built for this census date yet ("" when it can), so the
    page can say so before anyone tries. `included`: the number of submitted or accepted
    returns, when the caller has already counted them (else read in the national scope)."""
    if included is None:
        included = included_returns_count(census_date)
    if included >= documents.MINIMUM_RETURNS:
        return ""
    return (
        f"National files cannot be built yet: {included} of the authorities' returns "
        f"{'is' if included == 1 else 'are'} submitted or accepted for this census date, and at "
        f"least {documents.MINIMUM_RETURNS} are needed so that no authority's own small counts "
        "are published."
    )


def _decide(actor: User, ret_pk: int, *, status: str, comment: str) -> AuthorityReturn:
    # The national scope may only read returns; the database opens this one submitted return for
    # the decision (audited).
    if AuthorityReturn.objects.get(pk=ret_pk).status != ReturnStatus.SUBMITTED:
        raise ValidationError("Only a submitted return can be accepted or sent back.")
    with access.return_decision(ret_pk, actor=actor):
        ret = AuthorityReturn.objects.select_for_update().get(pk=ret_pk)
        ret.status = status
        ret.decided_at = timezone.now()
        ret.decided_by = actor
        ret.comment = comment
        ret.save(update_fields=["status", "decided_at", "decided_by", "comment"])
        record_event(actor, AuditAction(f"return.{status}"), obj=ret, changes={"comment": comment})
    return ret


@transaction.atomic
def accept_return(actor: User, ret: AuthorityReturn) -> AuthorityReturn:
    access.require_national(actor)
    return _decide(actor, ret.pk, status=ReturnStatus.ACCEPTED, comment="")


@transaction.atomic
def send_back_return(actor: User, ret: AuthorityReturn, *, comment: str) -> AuthorityReturn:
    access.require_national(actor)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": ["Say what the authority needs to correct."]})
    return _decide(actor, ret.pk, status=ReturnStatus.RETURNED, comment=comment)


# Jobs --------------------------------------------------------------------------------------------


QUEUE_FAILED_MESSAGE = (
    "This build could not be queued: the background queue is not answering. Nothing was built. "
    "Retry it in a few minutes, or cancel it."
)


def queue_for(job: ReportJob) -> str:
    """National builds go to the heavy queue; one authority's files, returns and snapshots, which
    someone waits on, to the interactive one (the scheduled snapshots of every authority choose
    the heavy queue themselves)."""
    if job.kind in NATIONAL_KINDS:
        return settings.DSR_QUEUE_HEAVY
    return settings.DSR_QUEUE_INTERACTIVE


def _enqueue(job: ReportJob, *, queue: str | None = None) -> None:
    """Queue the job's task once its row is committed. If the broker cannot take it (Redis down or
    hanging; the publish gives up within about a second), the job is marked failed with the reason
    at once, so its page offers Retry and Cancel instead of polling a job nobody will run."""
    from .tasks import run_report_job

    job_id, authority_id, queue = job.pk, job.authority_id, queue or queue_for(job)

    def send() -> None:
        try:
            run_report_job.apply_async((job_id, authority_id), queue=queue)
        except Exception:
            logger.exception("report job %s could not be queued", job_id)
            _fail_unqueued(job_id, authority_id)

    transaction.on_commit(send)


def _fail_unqueued(job_id: int, authority_id: int | None) -> None:
    try:
        with transaction.atomic(), access.using_scope(task_scope(authority_id)):
            updated = ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                status=JobStatus.FAILED, error=QUEUE_FAILED_MESSAGE, finished_at=timezone.now()
            )
            if updated:
                job = ReportJob(pk=job_id, authority_id=authority_id)
                record_event(
                    None, AuditAction.REPORT_QUEUE_FAILED, authority_id=authority_id, obj=job
                )
    except Exception:
        # The database is away too: the job stays queued and the sweep fails it later.
        logger.exception("report job %s could not be marked failed", job_id)


def _check_job_rights(
    actor: User,
    kind: str,
    authority: IntegrationAuthority | None,
    census_date: dt.date | None,
    person: Person | None,
) -> None:
    if kind in NATIONAL_KINDS:
        access.require_national(actor)
        _check_census_date(census_date)
        blocker = national_build_blocker(census_date)
        if blocker:
            raise ValidationError(blocker)
        return
    if kind == JobKind.PERSON_PROFILE:
        access.person_for_read(actor, person.pk)  # 404 for the national analyst too
        return
    access.require_member(
        actor, authority.pk if authority else None, message="No such authority in your scope."
    )
    _check_census_date(census_date)
    if kind in (JobKind.SNAPSHOT, JobKind.AUTHORITY_RETURN):
        access.require_lead(actor, authority.pk)
        ret = AuthorityReturn.objects.filter(authority=authority, census_date=census_date).first()
        if ret is not None and ret.is_locked:
            raise ValidationError("This return is submitted and cannot be rebuilt.")
    elif not AuthorityReturn.objects.filter(authority=authority, census_date=census_date).exists():
        raise ValidationError("Build the return before downloading it.")


@transaction.atomic
def request_job(
    actor: User,
    *,
    kind: str,
    authority: IntegrationAuthority | None = None,
    census_date: dt.date | None = None,
    person: Person | None = None,
) -> ReportJob:
    """Queue a build. An identical build already queued or running is returned instead."""
    if kind not in JobKind.values:
        raise ValidationError({"kind": ["Choose a file to build."]})
    _check_job_rights(actor, kind, authority, census_date, person)
    if person is not None:
        authority = person.authority
    pending = ReportJob.objects.filter(
        kind=kind,
        authority=authority,
        census_date=census_date,
        person=person,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
    ).first()
    if pending is not None and fail_if_stuck(pending).status != JobStatus.FAILED:
        return pending
    job = ReportJob.objects.create(
        kind=kind,
        authority=authority,
        census_date=census_date,
        person=person,
        requested_by=actor,
    )
    record_event(
        actor,
        AuditAction.REPORT_REQUESTED,
        authority_id=job.authority_id,
        obj=job,
        changes={"kind": kind, "census_date": str(census_date or "")},
    )
    _enqueue(job)
    return job


@transaction.atomic
def retry_job(actor: User, job: ReportJob) -> ReportJob:
    """Queue a failed build again (the caller has already checked the actor may see it)."""
    job = ReportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.FAILED:
        raise ValidationError("Only a failed build can be retried.")
    _check_job_rights(actor, job.kind, job.authority, job.census_date, job.person)
    job.status, job.progress, job.error = JobStatus.QUEUED, 0, ""
    job.finished_at, job.queued_at = None, timezone.now()
    job.save(update_fields=["status", "progress", "error", "finished_at", "queued_at"])
    record_event(actor, AuditAction.REPORT_RETRIED, authority_id=job.authority_id, obj=job)
    _enqueue(job)
    return job


@transaction.atomic
def cancel_job(actor: User, job: ReportJob) -> ReportJob:
    """Give up a queued or failed build (the caller has already checked the actor may see it).

    A cancelled job is finished: its task, should it still arrive, leaves it alone, and building
    the same file again queues a new job."""
    job = ReportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.QUEUED, JobStatus.FAILED):
        raise ValidationError("Only a queued or failed build can be cancelled.")
    _check_job_rights(actor, job.kind, job.authority, job.census_date, job.person)
    job.status, job.finished_at = JobStatus.CANCELLED, timezone.now()
    job.save(update_fields=["status", "finished_at"])
    record_event(actor, AuditAction.REPORT_CANCELLED, authority_id=job.authority_id, obj=job)
    return job


def stuck_message() -> str:
    minutes = max(settings.DSR_JOB_QUEUED_LIMIT_SECONDS // 60, 1)
    return (
        f"No worker started this build within {minutes} minutes of it being queued: the "
        "background worker may be stopped, or its task was lost. Retry it, or cancel it."
    )


def lost_worker_message() -> str:
    minutes = max(settings.DSR_JOB_RUNNING_LIMIT_SECONDS // 60, 1)
    return (
        f"The worker building this file stopped answering for {minutes} minutes (it was stopped "
        "or its machine was lost) and the build did not finish. Retry it, or cancel it."
    )


def _stuck_filter(now: dt.datetime | None = None) -> Q:
    """Queued past DSR_JOB_QUEUED_LIMIT_SECONDS (the task was lost), or running with no heartbeat
    for DSR_JOB_RUNNING_LIMIT_SECONDS (the worker was lost)."""
    now = now or timezone.now()
    queued_before = now - dt.timedelta(seconds=settings.DSR_JOB_QUEUED_LIMIT_SECONDS)
    heard_before = now - dt.timedelta(seconds=settings.DSR_JOB_RUNNING_LIMIT_SECONDS)
    return Q(status=JobStatus.QUEUED, queued_at__lt=queued_before) | Q(
        Q(heartbeat_at__lt=heard_before)
        | Q(heartbeat_at__isnull=True, started_at__lt=heard_before),
        status=JobStatus.RUNNING,
    )


def fail_if_stuck(job: ReportJob) -> ReportJob:
    """A job still queued past DSR_JOB_QUEUED_LIMIT_SECONDS lost its task (no worker, a worker
    of another database took it, the broker dropped it); a running job with no heartbeat for
    DSR_JOB_RUNNING_LIMIT_SECONDS lost its worker. Mark it failed, with the reason, so its page
    offers Retry and Cancel and building the same file again queues a fresh job."""
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return job
    with transaction.atomic():
        stuck = (
            ReportJob.objects.select_for_update(skip_locked=True)
            .filter(_stuck_filter(), pk=job.pk)
            .first()
        )
        if stuck is not None:
            _mark_stuck(stuck)
    job.refresh_from_db()
    return job


def _mark_stuck(job: ReportJob) -> None:
    was = job.status
    queued = was == JobStatus.QUEUED
    job.status, job.finished_at = JobStatus.FAILED, timezone.now()
    job.error = stuck_message() if queued else lost_worker_message()
    job.save(update_fields=["status", "error", "finished_at"])
    logger.warning("report job %s failed: %s", job.pk, "task lost" if queued else "worker lost")
    record_event(
        None,
        AuditAction.REPORT_STUCK,
        authority_id=job.authority_id,
        obj=job,
        changes={
            "status": was,
            "queued_at": job.queued_at.isoformat(),
            "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else "",
        },
    )


def fail_stuck_jobs(*, now: dt.datetime | None = None) -> list[int]:
    """Every five minutes (Celery beat): fail each job of any authority that lost its task
    (queued past DSR_JOB_QUEUED_LIMIT_SECONDS) or its worker (running, no heartbeat for
    DSR_JOB_RUNNING_LIMIT_SECONDS), so it shows as failed even if nobody opens its page.
    Returns the ids of the jobs failed this time."""
    with transaction.atomic(), access.system_scope("fail report jobs that lost their task"):
        stuck = ReportJob.objects.select_for_update(skip_locked=True).filter(_stuck_filter(now))
        failed = []
        for job in stuck.order_by("pk"):
            _mark_stuck(job)
            failed.append(job.pk)
        return failed


@transaction.atomic
def schedule_due_snapshots(*, today: dt.date) -> list[ReportJob]:
    """The day after a census date, queue every authority's snapshot (once per date)."""
    census_date = today - dt.timedelta(days=1)
    if not is_census_date(census_date):
        return []
    jobs = []
    with access.system_scope(f"census snapshots for {census_date}"):
        for authority in IntegrationAuthority.objects.order_by("pk"):
            job, created = ReportJob.objects.get_or_create(
                kind=JobKind.SNAPSHOT, authority=authority, census_date=census_date
            )
            if created:
                _enqueue(job, queue=settings.DSR_QUEUE_HEAVY)
                jobs.append(job)
    return jobs


def _step(scope: access.Scope, job_id: int, **changes: Any) -> ReportJob:
    """Record the job's progress in its own short transaction, so the browser sees it."""
    with transaction.atomic(), access.using_scope(scope):
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        for name, value in changes.items():
            setattr(job, name, value)
        job.save(update_fields=list(changes))
        return job


def run_job(job_id: int, *, authority_id: int | None) -> ReportJob | None:
    """Run one build to the end. Safe to run twice: a finished job is left as it is, and a job
    whose worker died mid-way (Celery redelivers it, acks_late) is run again from the start and
    overwrites its own partial output."""
    scope = task_scope(authority_id)
    with transaction.atomic(), access.using_scope(scope):
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            # Not this database's job (a worker sharing the broker with another instance took
            # it) or a job since removed: nothing to do here. The job itself, wherever it is,
            # is marked failed once it has sat queued past the limit (fail_if_stuck).
            logger.warning("report job %s not found: task ignored", job_id)
            return None
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return job
        job.status, job.progress, job.error = JobStatus.RUNNING, 10, ""
        job.started_at, job.attempts = timezone.now(), job.attempts + 1
        job.heartbeat_at = job.started_at
        job.save(
            update_fields=["status", "progress", "error", "started_at", "heartbeat_at", "attempts"]
        )
    try:
        with _Heartbeat(scope, job_id):
            data, filename = BUILDERS[job.kind](scope, job)
        if data is not None:
            _step(scope, job.pk, progress=80)
        with transaction.atomic(), access.using_scope(scope):
            job = ReportJob.objects.select_for_update().get(pk=job_id)
            if data is not None:
                _save_output(job, filename, data)
            job.status, job.progress, job.finished_at = JobStatus.DONE, 100, timezone.now()
            job.save()
            record_event(
                job.requested_by, AuditAction.REPORT_BUILT, authority_id=job.authority_id, obj=job
            )
    except Exception as exc:
        logger.exception("report job %s failed", job_id)
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        job = _step(
            scope,
            job_id,
            status=JobStatus.FAILED,
            error=message or exc.__class__.__name__,
            finished_at=timezone.now(),
        )
    return job


class _Heartbeat(threading.Thread):
    """While a build runs, write `heartbeat_at` every DSR_JOB_HEARTBEAT_SECONDS on a connection
    of its own, so a job whose worker was killed whole is told apart from a long build."""

    def __init__(self, scope: access.Scope, job_id: int) -> None:
        super().__init__(name=f"report-job-{job_id}-heartbeat", daemon=True)
        self.scope, self.job_id, self.stopped = scope, job_id, threading.Event()

    def __enter__(self) -> _Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.join(timeout=10)

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.DSR_JOB_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        try:
            with transaction.atomic(), access.using_scope(self.scope):
                # Never wait for the build's own lock on the row: the next beat will do.
                if ReportJob.objects.select_for_update(skip_locked=True).filter(
                    pk=self.job_id, status=JobStatus.RUNNING
                ):
                    ReportJob.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
        except Exception:
            logger.warning("report job %s: heartbeat not written", self.job_id, exc_info=True)


def _save_output(job: ReportJob, filename: str, data: bytes) -> None:
    path = f"reports/{job.pk}/{filename}"
    if default_storage.exists(path):  # a rerun replaces its own earlier output
        default_storage.delete(path)
    job.output.name = default_storage.save(path, ContentFile(data))
    job.filename = filename
    if job.kind in EXPIRING_KINDS:
        job.expires_at = timezone.now() + dt.timedelta(days=settings.DSR_FILE_RETENTION_DAYS)


def expire_files(*, now: dt.datetime | None = None) -> list[int]:
    """Delete every stored file holding personal data whose time is up (Celery beat, hourly).

    Runs in the audited system scope (files of every authority) and audits each deletion
    (`report.file_expired`) in the file's authority. Idempotent: a file is deleted once
    (`expired_at`); if the transaction fails after some files left storage, the next run finds
    them gone and records them. Returns the ids of the jobs whose files went this time.
    """
    now = now or timezone.now()
    reason = "retention: delete generated files past DSR_FILE_RETENTION_DAYS"
    with transaction.atomic(), access.system_scope(reason):
        due = list(
            ReportJob.objects.select_for_update()
            .filter(expires_at__lte=now, expired_at__isnull=True, kind__in=EXPIRING_KINDS)
            .order_by("expires_at", "pk")
        )
        for job in due:
            delete_job_file(job, action=AuditAction.REPORT_FILE_EXPIRED, now=now)
    return [job.pk for job in due]


def delete_job_file(
    job: ReportJob,
    *,
    action: AuditAction,
    now: dt.datetime | None = None,
    actor: User | None = None,
) -> None:
    """Delete a job's stored file and record that it is gone (in the caller's transaction)."""
    if job.output and default_storage.exists(job.output.name):
        default_storage.delete(job.output.name)
    ReportJob.objects.filter(pk=job.pk).update(output="", expired_at=now or timezone.now())
    record_event(
        actor,
        action,
        authority_id=job.authority_id,
        obj=job,
        changes={"kind": job.kind, "built": job.finished_at.isoformat() if job.finished_at else ""},
    )


# What each kind of job builds: (file bytes or None, file name).


def _build_snapshot(scope: access.Scope, job: ReportJob) -> tuple[None, str]:
    with access.using_scope(scope):
        take_snapshot(job.requested_by, authority_id=job.authority_id, census_date=job.census_date)
    return None, ""


def _build_return(scope: access.Scope, job: ReportJob) -> tuple[None, str]:
    with access.using_scope(scope):
        snapshot = take_snapshot(
            job.requested_by, authority_id=job.authority_id, census_date=job.census_date
        )
    _step(scope, job.pk, progress=60)
    with access.using_scope(scope):
        build_return(job.requested_by, snapshot=snapshot)
    return None, ""


def _authority_document(scope: access.Scope, job: ReportJob) -> tuple[documents.Document, Any]:
    with transaction.atomic(), access.using_scope(scope):
        ret = AuthorityReturn.objects.select_related("authority").get(
            authority_id=job.authority_id, census_date=job.census_date
        )
        history = list(
            AuthorityReturn.objects.filter(
                authority_id=job.authority_id, census_date__lte=job.census_date
            ).order_by("-census_date")[:TREND_QUARTERS]
        )
    doc = documents.authority_document(ret, authority_name=ret.authority.name)
    return doc, (ret, history)


def _file_name(job: ReportJob, stem: str, extension: str) -> str:
    where = job.authority.code if job.authority_id else "scotland"
    return f"dsr-{stem}-{where}-{job.census_date.isoformat()}.{extension}"


def _build_authority_csv(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    doc, _ = _authority_document(scope, job)
    return tabular.render_csv(doc), _file_name(job, "return", "csv")


def _build_authority_xlsx(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    doc, _ = _authority_document(scope, job)
    return tabular.render_xlsx(doc), _file_name(job, "return", "xlsx")


def _category_trend(history: list[AuthorityReturn]) -> str:
    points = []
    for ret in reversed(history):
        table = next(t for t in ret.tables if t["key"] == "category")
        points.append((ret.census_date, [row[0] for row in table["cells"]]))
    labels = [label for _, label in history[0].tables[0]["rows"]] if history else []
    return stacked_bars(points, labels, title="People on the register by category, by quarter")


def pdf_parts(doc: documents.Document, columns: int, orientation: str) -> list[documents.Sheet]:
    """The document's sheets cut into parts that each fit a page of the PDF."""

    def fits(part: documents.Sheet) -> bool:
        return pdf.fits(part.header, part.all_rows, part.label_columns, orientation)

    return [part for sheet in doc.sheets for part in sheet.parts(columns, fits)]


def pdf_topics(parts: list[documents.Sheet]) -> list[list[documents.Sheet]]:
    """The parts in runs that each start a page: every per-authority table starts one (its
    parts follow it), and whatever comes before the first of them is the first run."""
    topics: list[list[documents.Sheet]] = []
    for part in parts:
        starts = part.per_authority and (not topics or topics[-1][-1].key != part.key)
        if starts or not topics:
            topics.append([])
        topics[-1].append(part)
    return topics


def _build_authority_pdf(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    doc, (ret, history) = _authority_document(scope, job)
    context = {
        "doc": doc,
        "topics": [pdf_parts(doc, PORTRAIT_COLUMNS, "portrait")],
        "ret": ret,
        "generated_at": timezone.now(),
        "chart": _category_trend(history),
        "warnings": ret.warnings,
    }
    return pdf.render_pdf("reporting/pdf/summary.html", context), _file_name(job, "summary", "pdf")


def _included_returns(job: ReportJob) -> tuple[list[AuthorityReturn], int]:
    """The submitted or accepted returns of the job's census date, read in the named (audited)
    scope, and how many authorities there are."""
    reason = f"national aggregate for {job.census_date} (job {job.pk})"
    with (
        transaction.atomic(),
        access.system_scope(reason, actor=job.requested_by),
    ):
        returns = list(
            AuthorityReturn.objects.filter(
                census_date=job.census_date,
                status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED],
            )
            .select_related("authority")
            .order_by("authority__name")
        )
        documents.align_tables(returns)
        record_event(
            job.requested_by,
            AuditAction.NATIONAL_AGGREGATED,
            obj=job,
            changes={"returns": [r.pk for r in returns]},
        )
        authorities = IntegrationAuthority.objects.count()
    return returns, authorities


def release_protection(returns: list[AuthorityReturn]) -> disclosure.Protection:
    """The suppression pattern of a release, computed once for its CSV, XLSX and PDF alike (the
    audit's linear programs take seconds on a full release). Keyed by the returns exactly as
    they are and the settings, so a changed input is never served an old pattern."""
    threshold = settings.DSR_DISCLOSURE_THRESHOLD
    width = settings.DSR_DISCLOSURE_PROTECTION_WIDTH
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                threshold,
                width,
                [[r.pk, r.status, r.built_at.isoformat(), r.tables] for r in returns],
            ],
            sort_keys=True,
        ).encode()
    ).hexdigest()
    key = f"dsr:disclosure:{fingerprint}"
    hidden = cache.get(key)
    if hidden is None:
        hidden = documents.protect_returns(returns, threshold=threshold, width=width).hidden
        cache.set(key, hidden, timeout=PROTECTION_CACHE_SECONDS)
    release = documents.linked_release(returns)
    return disclosure.Protection(release.values, hidden, threshold, width)


def _national_document(scope: access.Scope, job: ReportJob) -> documents.Document:
    """Disclosure control over the whole release is applied before anything is rendered. The
    release (every published figure, suppression marks included) is stored on the job, and the
    file is rendered from it: the national figures page reads these stored releases, so what the
    screen shows is what was published."""
    returns, authorities = _included_returns(job)
    documents.check_enough_returns(returns)
    release = documents.national_release(
        job.census_date,
        returns,
        threshold=settings.DSR_DISCLOSURE_THRESHOLD,
        width=settings.DSR_DISCLOSURE_PROTECTION_WIDTH,
        all_authorities=authorities,
        protection=release_protection(returns),
    )
    release["headlines"] = figures.release_headlines(release)
    _step(scope, job.pk, release=release)
    return documents.release_document(release)


def _build_national_audit(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    returns, _ = _included_returns(job)
    documents.check_enough_returns(returns)
    doc = documents.disclosure_audit_document(
        job.census_date, returns, protection=release_protection(returns)
    )
    return tabular.render_csv(doc), _file_name(job, "disclosure-audit-internal", "csv")


def _build_national_csv(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    return tabular.render_csv(_national_document(scope, job)), _file_name(job, "national", "csv")


def _build_national_xlsx(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    doc = _national_document(scope, job)
    return tabular.render_xlsx(doc), _file_name(job, "national", "xlsx")


def _build_national_pdf(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    doc = _national_document(scope, job)
    context = {"doc": doc, "orientation": "landscape", "generated_at": timezone.now()}
    topics = pdf_topics(pdf_parts(doc, LANDSCAPE_COLUMNS, "landscape"))
    return pdf.render_pdf_in_pieces("reporting/pdf/summary.html", context, topics), _file_name(
        job, "national-summary", "pdf"
    )


def _build_person_profile(scope: access.Scope, job: ReportJob) -> tuple[bytes, str]:
    with transaction.atomic(), access.using_scope(scope):
        person = (
            Person.objects.select_related("authority", "locality")
            .filter(authority_id=job.authority_id)
            .get(pk=job.person_id)
        )
        changes = list(person.status_changes.order_by("-effective_date", "-changed_at", "-id")[:6])
        reviews = list(person.reviews.all()[:3])
        record_event(job.requested_by, AuditAction.PERSON_PROFILE_GENERATED, obj=person)
    context = {
        "person": person,
        "changes": changes,
        "reviews": reviews,
        "generated_at": timezone.now(),
        "age": person.age_on(timezone.localdate()),
        "overdue": person.review_overdue(timezone.localdate()),
    }
    name = f"dsr-profile-{person.local_reference}-{timezone.localdate().isoformat()}.pdf"
    return pdf.render_pdf("reporting/pdf/person_profile.html", context), name


BUILDERS = {
    JobKind.SNAPSHOT: _build_snapshot,
    JobKind.AUTHORITY_RETURN: _build_return,
    JobKind.AUTHORITY_CSV: _build_authority_csv,
    JobKind.AUTHORITY_XLSX: _build_authority_xlsx,
    JobKind.AUTHORITY_PDF: _build_authority_pdf,
    JobKind.NATIONAL_CSV: _build_national_csv,
    JobKind.NATIONAL_XLSX: _build_national_xlsx,
    JobKind.NATIONAL_PDF: _build_national_pdf,
    JobKind.NATIONAL_AUDIT: _build_national_audit,
    JobKind.PERSON_PROFILE: _build_person_profile,
}


# Reminders from the national team ---------------------------------------------------------------


def _reminder_key(authority_id: int, census_date: dt.date, today: dt.date) -> str:
    return f"dsr:national-reminder:{authority_id}:{census_date.isoformat()}:{today.isoformat()}"


@transaction.atomic
def request_return_reminder(
    actor: User, *, authority_id: int, census_date: dt.date, today: dt.date | None = None
) -> None:
    """The national analyst asks an authority's lead, by email, for a return that is not yet
    submitted (due or overdue). Audited; sent by the worker, which alone may read who the lead
    is. At most one a day per authority and census date: a second request the same day is
    refused here, and the worker's unique key (SentReminder) sends nothing twice even so."""
    from .selectors import return_flag

    access.require_national(actor)
    _check_census_date(census_date)
    today = today or timezone.localdate()
    authority = IntegrationAuthority.objects.filter(pk=authority_id).first()
    if authority is None:
        raise ValidationError("No such authority.")
    ret = AuthorityReturn.objects.filter(authority_id=authority_id, census_date=census_date).first()
    if not return_flag(ret, census_date, today):
        raise ValidationError(f"{authority.name}: the return is already submitted.")
    key = _reminder_key(authority_id, census_date, today)
    if cache.get(key):
        raise ValidationError(
            f"{authority.name}: a reminder for this return was sent today. You can send another "
            "tomorrow."
        )
    cache.set(key, True, timeout=24 * 3600)
    record_event(
        actor,
        AuditAction.RETURN_REMINDER_REQUESTED,
        changes={
            "authority": authority.code,
            "census_date": census_date.isoformat(),
            "day": today.isoformat(),
        },
    )
    from .tasks import send_return_reminder as task

    transaction.on_commit(
        lambda: task.delay(authority_id, census_date.isoformat(), today.isoformat())
    )


def send_return_reminder(*, authority_id: int, census_date: dt.date, today: dt.date) -> int:
    """The worker's half: find the lead (system scope) and send once per day (SentReminder)."""
    from registers import reminders

    from .census import return_deadline

    with transaction.atomic(), access.system_scope("reminder from the national team"):
        lead = reminders.leads().get(authority_id)
        name = IntegrationAuthority.objects.filter(pk=authority_id).values_list("name", flat=True)
        name = name.first()
    if lead is None or name is None:
        logger.warning("national reminder: authority %s has no active lead", authority_id)
        return 0
    reminder = reminders.Reminder(
        recipient_id=lead[0],
        email=lead[1],
        authority_id=authority_id,
        authority_name=name,
        kind=reminders.RETURN_REMINDER_FROM_NATIONAL,
        key=f"{census_date.isoformat()}:{today.isoformat()}",
        path=reverse("reporting:return", args=[authority_id, census_date]),
        counts={"census_date": census_date, "deadline": return_deadline(census_date)},
    )
    return reminders.send([reminder])
