"""The register's tables: the tenant (`IntegrationAuthority`), `Locality`, `Person` with its
append-only `StatusChange` history, `Review`, `Transfer`, `ImportBatch` and `AuditEvent`.

One module although it is over 600 lines: `Person` alone is about 300, half of it the indexes
and the constraints that state the register's rules in the database (what each category needs),
kept beside the fields they constrain; the other tables are small and refer to one another.
Behaviour lives elsewhere (access.py, services/, selectors.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, TypeVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Upper
from django.utils import timezone

from .codes import (
    Category,
    ChangeKind,
    DelayReason,
    HospitalType,
    LeavingReason,
    LegalStatus,
    PlacementType,
    ReferralSource,
    RiskFactor,
    RiskRating,
    Sex,
    TransferStatus,
    UrgentReason,
    values,
)

if TYPE_CHECKING:
    pass


class IntegrationAuthority(models.Model):
    """A Health and Social Care Partnership: the tenant that owns a register."""

    code = models.CharField(
        max_length=9, unique=True, help_text="Scottish Government HSCP code (S37)"
    )
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "integration authority"
        verbose_name_plural = "integration authorities"
        permissions = [("lead_authority", "Lead the authority's register")]

    def __str__(self) -> str:
        return self.name


class LocalityQuerySet(models.QuerySet["Locality"]):
    def active(self) -> LocalityQuerySet:
        """Localities that can be chosen for people and grants (not retired)."""
        return self.filter(retired_at__isnull=True)


class Locality(models.Model):
    """A part of an authority's area. The lead maintains the list; staff are granted localities.

    A retired locality keeps its history (people who left while in it, their history entries and
    the audit trail still name it) but cannot be chosen for people or granted to staff."""

    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, related_name="localities"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = LocalityQuerySet.as_manager()

    class Meta:
        # By the authority's id, not its name: ordering by name would join the authority table
        # into every list of localities.
        ordering = ["authority_id", "name"]
        verbose_name_plural = "localities"
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="locality_name_unique_in_ia")
        ]
        permissions = [
            ("view_people_in_locality", "Read people in the locality"),
            ("change_people_in_locality", "Add and update people in the locality"),
        ]

    def __str__(self) -> str:
        return self.name


class ScopeLike(Protocol):
    """What a queryset needs of a scope (registers.access.Scope) to narrow itself to it."""

    system: bool
    lead_authorities: frozenset[int]
    read_localities: frozenset[int]
    write_localities: frozenset[int]
    read_authorities: frozenset[int]
    write_authorities: frozenset[int]


QS = TypeVar("QS", bound=models.QuerySet)


def scoped_rows(qs: QS, scope: ScopeLike, *, write: bool) -> QS:
    """Rows of `qs` (with `authority_id` and `locality_id` columns) about people the scope may
    read (or, with `write`, change): everyone in the authorities it leads (or reads or changes
    whole, as an API client does), and the people in its granted localities."""
    if scope.system:
        return qs
    localities = scope.write_localities if write else scope.read_localities
    whole = scope.lead_authorities | (scope.write_authorities if write else scope.read_authorities)
    if not (whole or localities):
        return qs.none()
    return qs.filter(Q(authority_id__in=whole) | Q(locality_id__in=localities))


class PersonQuerySet(models.QuerySet["Person"]):
    def in_scope(self, scope: ScopeLike, *, write: bool = False) -> PersonQuerySet:
        """People the scope may read (or, with `write`, change). Who gets which scope is decided
        in registers/access.py, whose `visible_people` / `writable_people` are the way in."""
        return scoped_rows(self, scope, write=write)

    def on_register(self) -> PersonQuerySet:
        return self.filter(date_left__isnull=True)


HOSPITAL_FIELDS = (
    "hospital_name",
    "hospital_type",
    "hospital_in_area",
    "admission_date",
    "legal_status",
    "ready_for_discharge_date",
    "delay_reason",
)
PLACEMENT_FIELDS = (
    "host_area",
    "placement_type",
    "placement_start_date",
    "placement_chosen",
    "planned_return_date",
)
# The placement fields staff enter (forms, register files); `placement_chosen` follows from the
# category (validation.normalise_status).
PLACEMENT_ENTRY_FIELDS = tuple(name for name in PLACEMENT_FIELDS if name != "placement_chosen")
# What the census needs to rebuild a past quarter; frozen into every StatusChange.
REGISTER_STATE_FIELDS = (
    "locality_id",
    "category",
    "urgent_reason",
    "risk_rating",
    "risk_factors",
    *HOSPITAL_FIELDS,
    *PLACEMENT_FIELDS,
    "date_added",
    "date_left",
    "leaving_reason",
    "in_transition",
)


def _one_of(field: str, choices: list[str]) -> Q:
    # A CHECK passes when it evaluates to NULL, and `NULL IN (...)` is NULL: say NOT NULL too.
    return Q(**{f"{field}__isnull": False, f"{field}__in": choices})


_IN_HOSPITAL = Q(urgent_reason__isnull=False, urgent_reason=UrgentReason.IN_HOSPITAL)
_OUT_OF_AREA = Q(category=Category.APPROPRIATE_OUT_OF_AREA) | Q(
    urgent_reason__isnull=False, urgent_reason=UrgentReason.INAPPROPRIATE_OUT_OF_AREA
)


class Person(models.Model):
    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, related_name="people"
    )
    locality = models.ForeignKey(Locality, on_delete=models.PROTECT, related_name="people")

    # Identity
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    chi_number = models.CharField("CHI number", max_length=10, null=True, blank=True)
    local_reference = models.CharField(max_length=50)
    in_transition = models.BooleanField(
        default=False, help_text="Aged 16-17, moving from children's services"
    )

    # Placement in the IA
    key_worker_name = models.CharField(max_length=200, blank=True)
    key_worker_contact = models.CharField(max_length=200, blank=True)
    lead_professional_team = models.CharField(max_length=200, blank=True)

    # Register status
    category = models.CharField(max_length=30, choices=Category.choices)
    urgent_reason = models.CharField(
        max_length=30, choices=UrgentReason.choices, null=True, blank=True
    )
    risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, null=True, blank=True)
    risk_factors = ArrayField(
        models.CharField(max_length=30, choices=RiskFactor.choices), default=list, blank=True
    )
    date_added = models.DateField(default=dt.date.today)
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)

    # Hospital stay (urgent, in hospital)
    hospital_name = models.CharField(max_length=200, blank=True)
    hospital_type = models.CharField(
        max_length=30, choices=HospitalType.choices, null=True, blank=True
    )
    hospital_in_area = models.BooleanField("hospital within the IA", null=True, blank=True)
    admission_date = models.DateField(null=True, blank=True)
    legal_status = models.CharField(
        max_length=30, choices=LegalStatus.choices, null=True, blank=True
    )
    ready_for_discharge_date = models.DateField(
        "clinically ready for discharge", null=True, blank=True
    )
    delay_reason = models.CharField(
        max_length=30, choices=DelayReason.choices, null=True, blank=True
    )

    # Out-of-area placement
    host_area = models.CharField(
        max_length=20, null=True, blank=True, help_text="Another IA's code, or a UK nation"
    )
    placement_type = models.CharField(
        max_length=20, choices=PlacementType.choices, null=True, blank=True
    )
    placement_start_date = models.DateField(null=True, blank=True)
    placement_chosen = models.BooleanField("chosen by the person or family", null=True, blank=True)
    planned_return_date = models.DateField(null=True, blank=True)

    # Planning
    planned_move_date = models.DateField("planned move or discharge date", null=True, blank=True)
    guardianship_or_poa = models.BooleanField(
        "guardianship or power of attorney in place", default=False
    )
    info_sharing_recorded = models.BooleanField("information-sharing basis recorded", default=False)
    info_sharing_date = models.DateField(null=True, blank=True)

    next_review_due = models.DateField(null=True, blank=True)

    # Leaving
    date_left = models.DateField(null=True, blank=True)
    leaving_reason = models.CharField(
        max_length=30, choices=LeavingReason.choices, null=True, blank=True
    )

    pseudonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="when retention replaced the identifying details"
    )

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    # The names as the register list's search reads them, upper-cased once on write: row-level
    # security keeps the planner from using an index for a substring search, so each search scans
    # the authority's people, and one LIKE per row costs less than three UPPER ... LIKEs.
    search_names = models.GeneratedField(
        expression=Upper(
            Concat("given_name", Value(" "), "family_name", Value(" "), "preferred_name")
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name_plural = "people"
        indexes = [
            models.Index(fields=["authority", "locality"], name="person_authority_locality"),
            models.Index(fields=["authority", "category"], name="person_authority_category"),
            # By name, with what the register list and the row-level policies filter on: see
            # person_register_review.
            models.Index(
                fields=["authority", "family_name", "given_name", "id"],
                include=["locality", "date_left"],
                name="person_authority_name",
            ),
            models.Index(fields=["authority", "updated_at"], name="person_authority_updated"),
            # The register list sorted by next review, a page from the index alone: the planner
            # cannot see how many rows the row-level policies admit (it guesses a thirtieth), so
            # only an index that also answers the filters and policies (locality, id) makes
            # walking it cheaper in its eyes than sorting the whole register.
            models.Index(
                fields=["authority", "next_review_due", "family_name", "id"],
                include=["locality"],
                condition=Q(date_left__isnull=True),
                name="person_register_review",
            ),
            # The register list's total and counts by category (lead: by authority; staff: by
            # locality; with the risk rating filter too), from the index alone.
            models.Index(
                fields=["authority", "locality", "category", "urgent_reason", "risk_rating"],
                include=["id"],
                condition=Q(date_left__isnull=True),
                name="person_register_buckets",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "local_reference"], name="person_local_reference_unique_in_ia"
            ),
            models.UniqueConstraint(
                fields=["authority", "chi_number"],
                condition=Q(date_left__isnull=True, chi_number__isnull=False),
                name="person_one_open_entry_per_chi_in_ia",
            ),
            models.CheckConstraint(condition=Q(sex__in=values(Sex)), name="person_sex_known"),
            models.CheckConstraint(
                condition=Q(category__in=values(Category)), name="person_category_known"
            ),
            models.CheckConstraint(
                condition=Q(referral_source__in=values(ReferralSource)),
                name="person_referral_source_known",
            ),
            models.CheckConstraint(
                condition=Q(chi_number__isnull=True) | Q(chi_number__regex=r"^[0-9]{10}$"),
                name="person_chi_ten_digits",
            ),
            models.CheckConstraint(
                condition=(
                    Q(category=Category.URGENT) & _one_of("urgent_reason", values(UrgentReason))
                    | (~Q(category=Category.URGENT) & Q(urgent_reason__isnull=True))
                ),
                name="person_urgent_has_exactly_one_reason",
            ),
            models.CheckConstraint(
                condition=(
                    (_IN_HOSPITAL & Q(risk_rating__isnull=True))
                    | (~_IN_HOSPITAL & _one_of("risk_rating", values(RiskRating)))
                ),
                name="person_risk_rating_unless_in_hospital",
            ),
            models.CheckConstraint(
                condition=~Q(urgent_reason=UrgentReason.AT_RISK_OF_BREAKDOWN)
                | _one_of("risk_rating", [RiskRating.RED, RiskRating.AMBER]),
                name="person_at_risk_is_red_or_amber",
            ),
            models.CheckConstraint(
                condition=Q(risk_factors__contained_by=values(RiskFactor)),
                name="person_risk_factors_known",
            ),
            models.CheckConstraint(
                condition=~_IN_HOSPITAL
                | (
                    Q(admission_date__isnull=False)
                    & _one_of("hospital_type", values(HospitalType))
                    & _one_of("legal_status", values(LegalStatus))
                ),
                name="person_in_hospital_has_stay",
            ),
            models.CheckConstraint(
                condition=_IN_HOSPITAL
                | Q(
                    hospital_name="",
                    hospital_type__isnull=True,
                    hospital_in_area__isnull=True,
                    admission_date__isnull=True,
                    legal_status__isnull=True,
                    ready_for_discharge_date__isnull=True,
                    delay_reason__isnull=True,
                ),
                name="person_hospital_stay_only_in_hospital",
            ),
            models.CheckConstraint(
                condition=Q(ready_for_discharge_date__isnull=True)
                | Q(ready_for_discharge_date__gte=F("admission_date")),
                name="person_ready_for_discharge_not_before_admission",
            ),
            models.CheckConstraint(
                condition=Q(delay_reason__isnull=True)
                | (
                    Q(ready_for_discharge_date__isnull=False)
                    & _one_of("delay_reason", values(DelayReason))
                ),
                name="person_delay_reason_needs_ready_date",
            ),
            models.CheckConstraint(
                condition=~_OUT_OF_AREA
                | (
                    Q(host_area__isnull=False, placement_start_date__isnull=False)
                    & Q(placement_chosen__isnull=False)
                    & _one_of("placement_type", values(PlacementType))
                ),
                name="person_out_of_area_has_placement",
            ),
            models.CheckConstraint(
                condition=~Q(category=Category.APPROPRIATE_OUT_OF_AREA)
                | Q(placement_chosen__isnull=False, placement_chosen=True),
                name="person_appropriate_placement_was_chosen",
            ),
            models.CheckConstraint(
                condition=~Q(urgent_reason=UrgentReason.INAPPROPRIATE_OUT_OF_AREA)
                | Q(placement_chosen__isnull=False, placement_chosen=False),
                name="person_inappropriate_placement_not_chosen",
            ),
            models.CheckConstraint(
                condition=_OUT_OF_AREA
                | Q(
                    host_area__isnull=True,
                    placement_type__isnull=True,
                    placement_start_date__isnull=True,
                    placement_chosen__isnull=True,
                    planned_return_date__isnull=True,
                ),
                name="person_placement_only_out_of_area",
            ),
            models.CheckConstraint(
                condition=Q(planned_return_date__isnull=True)
                | Q(planned_return_date__gte=F("placement_start_date")),
                name="person_return_not_before_placement",
            ),
            models.CheckConstraint(
                condition=Q(info_sharing_date__isnull=True) | Q(info_sharing_recorded=True),
                name="person_info_sharing_date_needs_basis",
            ),
            models.CheckConstraint(
                condition=Q(date_left__isnull=True, leaving_reason__isnull=True)
                | (Q(date_left__isnull=False) & _one_of("leaving_reason", values(LeavingReason))),
                name="person_leaves_with_date_and_reason",
            ),
            models.CheckConstraint(
                condition=Q(date_left__isnull=True) | Q(date_left__gte=F("date_added")),
                name="person_leaves_after_added",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="person_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.local_reference})"

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}"

    @property
    def in_hospital(self) -> bool:
        return self.urgent_reason == UrgentReason.IN_HOSPITAL

    @property
    def out_of_area(self) -> bool:
        return self.category == Category.APPROPRIATE_OUT_OF_AREA or (
            self.urgent_reason == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
        )

    def is_delayed_discharge(self, on: dt.date | None = None) -> bool:
        """Clinically ready for discharge but still in hospital past that date."""
        on = on or dt.date.today()
        return bool(
            self.in_hospital
            and self.ready_for_discharge_date
            and self.ready_for_discharge_date < on
        )

    def review_overdue(self, on: dt.date | None = None) -> bool:
        on = on or dt.date.today()
        return (
            self.date_left is None
            and self.next_review_due is not None
            and (self.next_review_due < on)
        )

    def days_in_hospital(self, on: dt.date | None = None) -> int | None:
        if not (self.in_hospital and self.admission_date):
            return None
        return ((on or dt.date.today()) - self.admission_date).days

    @property
    def age(self) -> int:
        """Age in whole years today (shown beside the date of birth to tell namesakes apart)."""
        return self.age_on(timezone.localdate())

    def age_on(self, on: dt.date) -> int:
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def register_state(self) -> dict:
        """The fields the census needs, as JSON-ready values."""
        state = {}
        for field in REGISTER_STATE_FIELDS:
            value = getattr(self, field)
            state[field] = value.isoformat() if isinstance(value, dt.date) else value
        return state


class StatusChange(models.Model):
    """One entry in a person's history. Append-only: a database trigger refuses UPDATE/DELETE."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_changes")
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    effective_date = models.DateField()
    old_category = models.CharField(max_length=30, choices=Category.choices, blank=True)
    new_category = models.CharField(max_length=30, choices=Category.choices)
    old_urgent_reason = models.CharField(max_length=30, choices=UrgentReason.choices, blank=True)
    new_urgent_reason = models.CharField(max_length=30, choices=UrgentReason.choices, blank=True)
    old_risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, blank=True)
    new_risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, blank=True)
    risk_factors = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="field: [old, new]")
    state = models.JSONField(default=dict, help_text="register state after the change")
    version = models.PositiveIntegerField(help_text="the person's version after the change")

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            # A person's history in order (the trend spells' rebuild, the person's timeline) and
            # who has entries after a date (census snapshots).
            models.Index(
                fields=["authority", "person", "effective_date", "changed_at", "id"],
                name="statuschange_latest_on_date",
            ),
            models.Index(
                fields=["authority", "effective_date"], name="statuschange_authority_date"
            ),
            # The few entries that set the review due date, in the same order: a census snapshot
            # finds each person's latest one without reading every entry's changes.
            models.Index(
                fields=["authority", "person", "effective_date", "changed_at", "id"],
                condition=Q(changes__has_key="next_review_due"),
                name="statuschange_review_set",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=values(ChangeKind)), name="statuschange_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.effective_date}"

    @property
    def category_changed(self) -> bool:
        return self.old_category != self.new_category or (
            self.old_urgent_reason != self.new_urgent_reason
        )


class TrendSpell(models.Model):
    """A span of days over which one person counts on the dashboard's trend: in hospital (and
    delayed from the day after `ready_for_discharge_date`) or out of area, from `valid_from` up to
    but not including `valid_until` (open when null).

    Derived from the history alone and kept by database triggers on `registers_statuschange`
    (registers/0013): every insert or delete of entries rebuilds the spells of the people it
    touches, whatever appended them (services, bulk upsert, locality moves, seeding) and erasure's
    delete. The service never writes it. Each entry is in force from its effective date until the
    person's next entry (ties by recording time, then id) or the day they left; only entries that
    count become spells, so a date's counts are the spells that contain it.
    """

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    # Not a row about the person for data protection: codes and dates the history keeps anyway;
    # erasure's delete of the history removes the person's spells through the trigger.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_until = models.DateField(null=True)
    in_hospital = models.BooleanField()
    ready_for_discharge_date = models.DateField(null=True)
    out_of_area = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["authority", "person"], name="trendspell_person"),
        ]

    def __str__(self) -> str:
        return f"{self.valid_from} to {self.valid_until or 'now'}"


class RegisterCountQuerySet(models.QuerySet["RegisterCount"]):
    def in_scope(self, scope: ScopeLike) -> RegisterCountQuerySet:
        """The counts of the people the scope may read, as `PersonQuerySet.in_scope` picks them."""
        return scoped_rows(self, scope, write=False)


class RegisterCount(models.Model):
    """How many people on the register (not left) are in one authority, locality, category and
    urgent reason: the register list's and the dashboard's count cards.

    Kept by statement triggers on `registers_person` (registers/0022), whatever wrote the people,
    as rows to add up: each write appends, per bucket it changed, the number of people who came
    in less those who went out (a rating or a name changes no bucket and appends nothing), so
    writers only ever insert and never wait on each other. `compact_register_counts`
    (registers/services/counts.py, every quarter of an hour) folds each bucket's rows into one. The
    service never writes it otherwise. Codes and numbers only, about no one person.
    """

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    # Not a foreign key: the person rows counted already hold a checked one.
    locality_id = models.BigIntegerField(null=True)
    category = models.CharField(max_length=30)
    urgent_reason = models.CharField(max_length=30, null=True)
    n = models.IntegerField()

    objects = RegisterCountQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["authority", "locality_id"], name="registercount_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.urgent_reason or ''} {self.n:+d}"


class Review(models.Model):
    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reviews")
    review_date = models.DateField()
    attendees = models.TextField()
    outcome = models.TextField()
    actions = models.TextField(blank=True)
    next_review_due = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-review_date", "-id"]
        indexes = [
            models.Index(fields=["authority", "person", "review_date"], name="review_person_date")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review_due__gt=F("review_date")),
                name="review_next_due_after_review",
            )
        ]

    def __str__(self) -> str:
        return f"Review on {self.review_date}"


class Transfer(models.Model):
    """A request to move a person's register entry to another authority.

    Until the receiving authority accepts, the person stays on the sending register. The row belongs
    to both authorities (row-level security admits either column), so `authority` is the sender.
    `summary` holds what the receiving lead needs to decide, because they cannot read the record.
    """

    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, related_name="transfers_in"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfers")
    status = models.CharField(
        max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    reason = models.TextField()
    summary = models.JSONField(default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    new_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="transferred_from"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["authority", "status"], name="transfer_from_status"),
            models.Index(fields=["to_authority", "status"], name="transfer_to_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "person"],
                condition=Q(status="pending"),
                name="transfer_one_pending_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(authority=F("to_authority")), name="transfer_to_another_authority"
            ),
            models.CheckConstraint(
                condition=Q(status__in=values(TransferStatus)), name="transfer_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="transfer_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(new_person__isnull=False),
                name="transfer_accepted_has_new_record",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.pk} to {self.to_authority_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == TransferStatus.PENDING


class AuditEvent(models.Model):
    """Who did what, when, to which object. Append-only (trigger-enforced)."""

    authority = models.ForeignKey(
        IntegrationAuthority, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["authority", "at"], name="audit_authority_at"),
            models.Index(
                fields=["authority", "object_type", "object_id"], name="audit_authority_object"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id} by {self.actor_label}"


class ImportStatus(models.TextChoices):
    STAGED = "staged", "Checked, waiting for confirmation"
    APPLIED = "applied", "Imported"
    REFUSED = "refused", "Refused"
    DISCARDED = "discarded", "Discarded"


class ImportBatch(models.Model):
    """One uploaded register file. Its parsed rows are kept server-side between the check and
    the lead's confirmation (never re-posted by the browser), then cleared once it is applied,
    refused or discarded; the counts and the per-row errors stay as the record of the import."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.STAGED
    )
    rows = models.JSONField(default=list, blank=True, help_text="parsed rows until decided")
    counts = models.JSONField(default=dict, blank=True, help_text="new, updated, unchanged")
    errors = models.JSONField(default=list, blank=True, help_text="[row, column, message]")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [
            models.Index(fields=["authority", "uploaded_at"], name="importbatch_authority_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=values(ImportStatus)), name="importbatch_status_known"
            ),
            models.CheckConstraint(
                condition=Q(file_format__in=["csv", "xlsx"]), name="importbatch_format_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.filename}, {self.status})"


class SentReminder(models.Model):
    """One reminder email sent to one person: the unique key makes sending idempotent, so a
    schedule that runs twice (or two workers at once) never sends the same reminder twice.

    `key` says what and when: the week of a digest (`2026-W48`), the census date of a return
    reminder, the transfer or the return (with its decision time) a notice is about. `counts` is
    what the email said (numbers only)."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=30)
    key = models.CharField(max_length=100)
    counts = models.JSONField(default=dict, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "recipient", "kind", "key"], name="sentreminder_once"
            )
        ]
        indexes = [models.Index(fields=["authority", "sent_at"], name="sentreminder_authority_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} to {self.recipient_id}"


class PersonChangeKind(models.TextChoices):
    CREATED = "created", "Added to the register"
    CHANGED = "changed", "Changed"
    LEFT = "left", "Left the register"
    TRANSFERRED_OUT = "transferred_out", "Transferred to another authority"
    TRANSFERRED_IN = "transferred_in", "Transferred in from another authority"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised after the retention period"
    ERASED = "erased", "Erased as added in error"


class PersonChange(models.Model):
    """One change to a person, in the change feed (registers/services/changes.py).

    Written by the database, in the writing transaction, by statement triggers on the person table
    (migration registers/0014): every write path emits, whatever code made it. The id is the
    change's position. Ids come from a sequence when a change is written, not when it commits, so
    the feed hands out only ids below its horizon (`dsr_change_feed_horizon()`), under which every
    writer has ended. Ids and a kind only: no names, CHI number or reference (the feed reads the
    person's current reference, so retention and erasure leave nothing here to remove).
    Append-only."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    # Not a foreign key: the row outlives an erased person, so the feed can say they were erased.
    person_id = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=PersonChangeKind.choices)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["authority", "id"], name="personchange_position")]

    def __str__(self) -> str:
        return f"{self.kind} person {self.person_id} at {self.pk}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` an API client sent with a POST, and the answer it got, so that the
    same request sent again (its answer lost) is answered the same without acting twice.

    The row is inserted when the request starts and locked until its transaction ends: a second
    request with the same key waits for the first, then finds its answer. Only successful answers
    are kept (a refused request may be corrected and sent with the same key); keys expire after
    `DSR_IDEMPOTENCY_KEY_HOURS` and are purged hourly (registers/api/idempotency.py). The stored
    answer may name a person, so the row is a tenant row like the person's."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    api_client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "api_client", "key"], name="idempotency_key_once_per_client"
            )
        ]
        indexes = [models.Index(fields=["authority", "expires_at"], name="idempotency_key_expiry")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key!r} of client {self.api_client_id}"


class WebhookEndpoint(models.Model):
    """Where an API client wants to be told of changes (registers/webhooks.py): an HTTPS address,
    registered by the authority's lead. Deliveries are signed with a secret shown once at
    registration; it is derived from the service's secret key and `secret_salt`, so the database
    alone cannot sign. `position` is the change feed position delivered up to."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    api_client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField("address", max_length=500)
    secret_salt = models.CharField(max_length=64)
    position = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_client"],
                condition=Q(removed_at__isnull=True),
                name="webhook_one_per_client",
            )
        ]
        indexes = [models.Index(fields=["authority", "removed_at"], name="webhook_authority")]

    def __str__(self) -> str:
        return f"Webhook {self.url}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, will be tried again"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed, no more attempts"


class WebhookDelivery(models.Model):
    """One notification to an endpoint: the changes after `after` up to `next` (ids only)."""

    authority = models.ForeignKey(IntegrationAuthority, on_delete=models.PROTECT, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    after = models.BigIntegerField()
    next = models.BigIntegerField()
    payload = models.JSONField()
    status = models.CharField(
        max_length=10,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["authority", "endpoint", "created_at"], name="webhook_delivery_at")
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"
