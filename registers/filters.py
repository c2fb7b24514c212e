"""The register list's filters, search and sort (django-filter), shared by the page and its htmx
partial. The queryset handed in is already scoped; filters only narrow it."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Trim, Upper
from django.utils import timezone

from .audit import AuditAction
from .codes import Category, RiskRating, UrgentReason
from .models import Person
from .widgets import DATE_HINT, DayMonthYearField

YES = [("yes", "Yes")]
HOSPITAL_CHOICES = [("in_hospital", "In hospital"), ("delayed", "Delayed discharge")]
SORTS = {
    "name": ("family_name", "given_name", "id"),
    "-name": ("-family_name", "-given_name", "-id"),
    "review": ("next_review_due", "family_name", "id"),
    "added": ("-date_added", "family_name", "id"),
    "updated": ("-updated_at", "id"),
    "reference": ("local_reference", "id"),
}
SORT_CHOICES = [
    ("name", "Name (A to Z)"),
    ("-name", "Name (Z to A)"),
    ("review", "Next review due"),
    ("added", "Most recently added"),
    ("updated", "Most recently updated"),
    ("reference", "Local reference"),
]


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Name, local reference or CHI number", method="search", max_length=100
    )
    category = django_filters.ChoiceFilter(choices=Category.choices, empty_label="Any category")
    urgent_reason = django_filters.ChoiceFilter(
        label="Urgent reason", choices=UrgentReason.choices, empty_label="Any urgent reason"
    )
    locality = django_filters.NumberFilter(field_name="locality_id", label="Locality")
    risk_rating = django_filters.MultipleChoiceFilter(
        label="Risk of breakdown",
        choices=[(c.value, c.value.title()) for c in RiskRating],
        widget=forms.CheckboxSelectMultiple,
        distinct=False,  # a column of the person: no join, so no duplicates to remove
    )
    review_overdue = django_filters.ChoiceFilter(
        label="Review overdue", choices=YES, method="overdue", empty_label="Any"
    )
    hospital = django_filters.ChoiceFilter(
        label="Hospital", choices=HOSPITAL_CHOICES, method="in_hospital", empty_label="Any"
    )
    out_of_area = django_filters.ChoiceFilter(
        label="Out of area", choices=YES, method="away", empty_label="Any"
    )
    key_worker = django_filters.ChoiceFilter(
        label="Key worker",
        choices=[("me", "My caseload (I am the key worker)")],
        method="my_caseload",
        empty_label="Anyone",
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by", choices=SORT_CHOICES, method="sort_by", empty_label=None
    )

    def get_form_class(self) -> type[forms.Form]:
        # Every filter here is the same on every request (no choices read from the database), so
        # the form class django-filter builds from them is built once: each form still copies
        # its fields. About a third of a millisecond a list.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        condition = Q()
        for word in value.split():
            digits = word.replace(" ", "")
            condition &= (
                # Upper-cased by PostgreSQL on both sides, as `icontains` would.
                Q(search_names__contains=Upper(Value(word)))
                | Q(local_reference__iexact=word)
                | (Q(chi_number=digits) if digits.isdigit() else Q(pk__in=[]))
            )
        return qs.filter(condition)

    def overdue(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(next_review_due__lt=timezone.localdate())

    def in_hospital(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        qs = qs.filter(urgent_reason=UrgentReason.IN_HOSPITAL)
        if value == "delayed":
            qs = qs.filter(ready_for_discharge_date__lt=timezone.localdate())
        return qs

    def away(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(
            Q(category=Category.APPROPRIATE_OUT_OF_AREA)
            | Q(urgent_reason=UrgentReason.INAPPROPRIATE_OUT_OF_AREA)
        )

    def my_caseload(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # The key worker is recorded as a free-text name (often someone outside the service), so
        # "mine" means: that name, ignoring case and spaces at either end, is the signed-in user's
        # full name. A user with no name recorded has no caseload (never everyone without a name).
        user = getattr(self.request, "user", None)
        name_of_user = " ".join(user.get_full_name().split()) if user else ""
        if not name_of_user:
            return qs.none()
        return qs.annotate(key_worker_trimmed=Trim("key_worker_name")).filter(
            key_worker_trimmed__iexact=name_of_user
        )

    def sort_by(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.order_by(*SORTS.get(value, SORTS["name"]))


AUDIT_ACTION_GROUPS = [
    ("person.", "People: any change or read"),
    (AuditAction.PERSON_VIEWED, "People: record viewed"),
    ("transfer.", "Transfers"),
    ("staff.", "Staff, roles and grants"),
    ("login", "Sign-in and sign-out"),
    ("mfa.", "Second sign-in step set up or removed"),
    ("report.", "Files built and downloaded"),
    ("return.", "Census returns"),
    (AuditAction.SYSTEM_SCOPE, "System scope used"),
    (AuditAction.ACCESS_REFUSED, "Access refused (outside the user's scope)"),
    (AuditAction.PEOPLE_SEARCHED, "Register searched"),
]


class DayMonthYearFilter(django_filters.DateFilter):
    """A date filter typed as day, month and year, like every other date in the service."""

    field_class = DayMonthYearField


class AuditEventFilter(django_filters.FilterSet):
    """Filters for a lead's audit log; the queryset handed in is already their authority's."""

    actor = django_filters.CharFilter(
        label="Who (email address)",
        field_name="actor_label",
        lookup_expr="icontains",
        max_length=200,
    )
    action = django_filters.ChoiceFilter(
        label="What", choices=AUDIT_ACTION_GROUPS, method="by_action", empty_label="Anything"
    )
    person = django_filters.CharFilter(
        label="Person (local reference)", method="by_person", max_length=50
    )
    date_from = DayMonthYearFilter(
        field_name="at",
        lookup_expr="date__gte",
        label="From (date)",
        help_text=DATE_HINT,
    )
    date_to = DayMonthYearFilter(
        field_name="at",
        lookup_expr="date__lte",
        label="To (date)",
        help_text=DATE_HINT,
    )

    def by_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        if value == "login":
            return queryset.filter(Q(action__startswith="login") | Q(action=AuditAction.LOGOUT))
        return queryset.filter(action=value)

    def by_person(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        ids = (
            Person.objects.filter(
                authority_id=self.authority_id, local_reference__iexact=value.strip()
            )
            .annotate(as_text=Cast("pk", CharField()))
            .values("as_text")
        )
        return queryset.filter(object_type="person", object_id__in=ids)

    def __init__(self, *args, authority_id: int, **kwargs) -> None:
        self.authority_id = authority_id
        super().__init__(*args, **kwargs)
