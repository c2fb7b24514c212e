"""The API's list filters: the register page's, plus `updated_since` for incremental sync."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from registers.codes import Category, RiskRating, UrgentReason
from registers.models import Person


class PersonApiFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices)
    urgent_reason = django_filters.ChoiceFilter(choices=UrgentReason.choices)
    locality = django_filters.NumberFilter(field_name="locality_id", help_text="A locality id.")
    risk_rating = django_filters.MultipleChoiceFilter(
        choices=RiskRating.choices, help_text="Repeat for several ratings."
    )
    review_overdue = django_filters.BooleanFilter(
        method="overdue", help_text="true: next review due before today."
    )
    on_register = django_filters.BooleanFilter(
        method="current",
        help_text="true: only people on the register; false: only people who have left. "
        "Omit for both (what a sync needs).",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only people changed at or after this time (ISO 8601). The time a change was "
        "made, not committed: a write still running when you read commits later with an earlier "
        "time, so overlap your syncs (docs/api.md, Sync) or use the change feed, /changes/.",
    )

    class Meta:
        model = Person
        fields: list[str] = []

    def overdue(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        today = timezone.localdate()
        if value is None:
            return qs
        if value:
            return qs.filter(next_review_due__lt=today, date_left__isnull=True)
        return qs.exclude(next_review_due__lt=today, date_left__isnull=True)

    def current(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(date_left__isnull=value)
