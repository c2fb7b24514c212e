"""Census snapshots, each authority's quarterly return, and the build jobs that make files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from registers.codes import Category, Sex, UrgentReason, values
from registers.models import IntegrationAuthority, Person


class CensusSnapshot(models.Model):
    """Everyone on one authority's register at the end of a census date, frozen from history.

    Person-level: never readable by the national scope.
    """

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    census_date = models.DateField()
    taken_at = models.DateTimeField(default=timezone.now)
    people = models.PositiveIntegerField(default=0, help_text="rows in the snapshot")
    movement = models.JSONField(
        default=dict, help_text="counts of people added, left and moved during the quarter"
    )

    class Meta:
        ordering = ["authority", "-census_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "census_date"], name="snapshot_once_per_census"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authority} on {self.census_date}"


class SnapshotRow(models.Model):
    """One person as they stood on the census date: the fields the return needs."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    snapshot = models.ForeignKey(CensusSnapshot, on_delete=models.CASCADE, related_name="rows")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    local_reference = models.CharField(max_length=50)
    locality_id = models.BigIntegerField(null=True)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    date_of_birth = models.DateField()
    age = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=30, choices=Category.choices)
    urgent_reason = models.CharField(max_length=30, choices=UrgentReason.choices, blank=True)
    risk_rating = models.CharField(max_length=10, blank=True)
    hospital_type = models.CharField(max_length=30, blank=True)
    legal_status = models.CharField(max_length=30, blank=True)
    admission_date = models.DateField(null=True)
    ready_for_discharge_date = models.DateField(null=True)
    delay_reason = models.CharField(max_length=30, blank=True)
    host_area = models.CharField(max_length=20, blank=True)
    placement_type = models.CharField(max_length=20, blank=True)
    placement_chosen = models.BooleanField(null=True)
    date_added = models.DateField()
    next_review_due = models.DateField(null=True)
    chi_mismatch = models.BooleanField(
        null=True,
        default=False,
        help_text="the CHI number disagrees with the date of birth or sex (null: not checked, as "
        "in snapshots taken before the check existed)",
    )

    class Meta:
        ordering = ["snapshot", "local_reference"]
        indexes = [models.Index(fields=["authority", "snapshot"], name="snapshotrow_snapshot")]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "person"], name="snapshotrow_once"),
            models.CheckConstraint(
                condition=Q(category__in=values(Category)), name="snapshotrow_category_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.local_reference} ({self.category})"


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Sent back"


class AuthorityReturn(models.Model):
    """An authority's quarterly return: aggregate tables built from its snapshot.

    The tables are unsuppressed counts; the national analyst may read this table (status and
    aggregates, never people), and nothing leaves the service from it without disclosure control.
    Submitted and accepted returns are immutable (a trigger refuses changes to their tables).
    """

    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, related_name="returns"
    )
    census_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT
    )
    tables = models.JSONField(default=list)
    warnings = models.JSONField(default=list, help_text="data-quality warnings, counts only")
    in_transition = models.PositiveIntegerField(
        default=0, help_text="people under 18 on the census date, left out of the tables"
    )
    built_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    comment = models.TextField(blank=True, help_text="the national team's reason for sending back")

    class Meta:
        ordering = ["-census_date", "authority__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "census_date"], name="return_once_per_census"
            ),
            models.CheckConstraint(
                condition=Q(status__in=values(ReturnStatus)), name="return_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="return_submitted_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["authority", "census_date"], name="return_authority_date"),
            models.Index(fields=["census_date", "status"], name="return_date_status"),
        ]

    def __str__(self) -> str:
        return f"{self.authority} return for {self.census_date}"

    @property
    def is_locked(self) -> bool:
        return self.status in (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED)

    @property
    def can_rebuild(self) -> bool:
        return self.status in (ReturnStatus.DRAFT, ReturnStatus.RETURNED)


class JobKind(models.TextChoices):
    SNAPSHOT = "snapshot", "Census snapshot"
    AUTHORITY_RETURN = "authority_return", "Build the return"
    AUTHORITY_CSV = "authority_csv", "Return as CSV"
    AUTHORITY_XLSX = "authority_xlsx", "Return as XLSX"
    AUTHORITY_PDF = "authority_pdf", "Quarterly summary (PDF)"
    PERSON_PROFILE = "person_profile", "Person profile (PDF)"
    NATIONAL_CSV = "national_csv", "National return as CSV"
    NATIONAL_XLSX = "national_xlsx", "National return as XLSX"
    NATIONAL_PDF = "national_pdf", "National summary (PDF)"
    NATIONAL_AUDIT = "national_audit", "Disclosure audit (internal, never published)"


PUBLISHED_NATIONAL_KINDS = (JobKind.NATIONAL_CSV, JobKind.NATIONAL_XLSX, JobKind.NATIONAL_PDF)
NATIONAL_KINDS = (*PUBLISHED_NATIONAL_KINDS, JobKind.NATIONAL_AUDIT)
_NATIONAL = [kind.value for kind in NATIONAL_KINDS]
FILE_KINDS = (
    JobKind.AUTHORITY_CSV,
    JobKind.AUTHORITY_XLSX,
    JobKind.AUTHORITY_PDF,
    JobKind.PERSON_PROFILE,
    *NATIONAL_KINDS,
)
# Files that hold personal data (a person's profile; an authority's unsuppressed return with its
# data-quality lists) are deleted DSR_FILE_RETENTION_DAYS after they are built. National files
# hold suppressed aggregates only and are kept.
EXPIRING_KINDS = tuple(kind for kind in FILE_KINDS if kind not in NATIONAL_KINDS)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ReportJob(models.Model):
    """One build run by Celery: its progress and outcome live here, not in the result backend.

    Authority jobs carry the authority (tenant policy); national jobs have none and are readable
    and writable only in the national or system scope (see the migration's policy).
    """

    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    census_date = models.DateField(null=True, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    output = models.FileField(upload_to="reports/", blank=True, max_length=255)
    filename = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the job was last put on the queue (created or retried): a job still queued long after
    # this lost its task (see reporting.services.fail_if_stuck).
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written every DSR_JOB_HEARTBEAT_SECONDS while the build runs: a running job unheard from for
    # DSR_JOB_RUNNING_LIMIT_SECONDS lost its worker (see reporting.services.fail_if_stuck).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="when the file (personal data) is deleted"
    )
    expired_at = models.DateTimeField(
        null=True, blank=True, help_text="when the file was deleted from storage"
    )
    # A published national build (CSV, XLSX or PDF) stores the release it rendered: every
    # published figure, suppression marks included (documents.national_release), and its headline
    # figures. The national figures page reads these, never the returns.
    release = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["authority", "census_date", "kind"], name="job_authority_census"),
            models.Index(fields=["census_date", "kind"], name="job_census_kind"),
            # The national figures page: the latest built release of each census date.
            models.Index(
                fields=["census_date", "-finished_at"],
                condition=Q(authority__isnull=True, status="done", release__isnull=False),
                name="job_national_release",
            ),
            # The expiry task's sweep: files still stored, oldest expiry first.
            models.Index(
                fields=["expires_at"],
                condition=Q(expires_at__isnull=False, expired_at__isnull=True),
                name="job_file_expiry_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=values(JobKind)), name="job_kind_known"),
            models.CheckConstraint(
                condition=Q(status__in=values(JobStatus)), name="job_status_known"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="job_progress_percent"),
            # National files never belong to an authority; everything else always does.
            models.CheckConstraint(
                condition=(Q(kind__in=_NATIONAL) & Q(authority__isnull=True))
                | (~Q(kind__in=_NATIONAL) & Q(authority__isnull=False)),
                name="job_national_has_no_authority",
            ),
            models.CheckConstraint(
                condition=~Q(kind="person_profile") | Q(person__isnull=False),
                name="job_profile_names_person",
            ),
            models.CheckConstraint(
                condition=Q(kind="person_profile") | Q(census_date__isnull=False),
                name="job_census_date_unless_profile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_national(self) -> bool:
        return self.authority_id is None

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def has_file(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.output) and self.expired_at is None

    @property
    def is_expired(self) -> bool:
        return self.expired_at is not None


class StoredFile(models.Model):
    """A generated file kept in PostgreSQL (reporting.storage.DatabaseStorage): every web and
    worker machine sees the same files without shared disks or new infrastructure.

    Tenant-owned like its job: an authority's files are visible in that authority's scope only,
    national files (no authority) in the national scope only (migration 0009's policies).
    """

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["authority", "name"], name="storedfile_authority_name")]

    def __str__(self) -> str:
        return self.name
