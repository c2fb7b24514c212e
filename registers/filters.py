"""The register list's filters, search and sort (django-filter), shared by the page and its htmx
partial. The queryset handed in is already scoped; filters only narrow it."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from .codes import Category, RiskRating, UrgentReason

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
    sort = django_filters.ChoiceFilter(
        label="Sort by", choices=SORT_CHOICES, method="sort_by", empty_label=None
    )

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        condition = Q()
        for word in value.split():
            digits = word.replace(" ", "")
            condition &= (
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
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

    def sort_by(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.order_by(*SORTS.get(value, SORTS["name"]))
