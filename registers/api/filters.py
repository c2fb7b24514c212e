"""The API's list filters: the register page's, plus `updated_since` for incremental sync. Each
value is parsed strictly (a bad one is a 400 naming the parameter, never ignored) and typed in the
schema as it is parsed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from registers.codes import Category, RiskRating, UrgentReason
from registers.models import Person

# PostgreSQL reads a time zone offset of at most 15:59 (Python allows up to 23:59).
MAX_OFFSET = dt.timedelta(hours=15, minutes=59)


class StrictBooleanField(forms.Field):
    """`true` or `false` (any case; 1 and 0 too). Anything else is an error, not 'no filter'."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        word = str(value).strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        pass  # optional; to_python already refused anything but true or false


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SyncTimeField(IsoDateTimeField):
    """An ISO 8601 time whose offset PostgreSQL can read, handed on in UTC."""

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise forms.ValidationError(
                "The time zone offset must be at most 15:59 either way.", code="invalid"
            )
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:  # within a day of year 1 or 9999
            raise forms.ValidationError("Out of range.", code="invalid") from exc


@extend_schema_field(OpenApiTypes.DATETIME)
class SyncTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SyncTimeField


class PersonApiFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices)
    urgent_reason = django_filters.ChoiceFilter(choices=UrgentReason.choices)
    locality = IdFilter(field_name="locality_id", help_text="A locality id.")
    risk_rating = django_filters.MultipleChoiceFilter(
        choices=RiskRating.choices, help_text="Repeat for several ratings."
    )
    review_overdue = StrictBooleanFilter(
        method="overdue", help_text="true: next review due before today."
    )
    on_register = StrictBooleanFilter(
        method="current",
        help_text="true: only people on the register; false: only people who have left. "
        "Omit for both (what a sync needs).",
    )
    updated_since = SyncTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only people changed at or after this time (ISO 8601, with an offset of at "
        "most 15:59 either way). The time a change was made, not committed: a write still "
        "running when you read commits later with an earlier time, so overlap your syncs "
        "(docs/api.md, Sync) or use the change feed, /changes/.",
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
