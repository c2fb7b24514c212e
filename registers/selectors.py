"""Reads of the register. Every function takes the acting user first and starts from the scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, QuerySet

from .models import Locality, Person, Review, StatusChange

if TYPE_CHECKING:
    from accounts.models import User


def visible_people(user: User, *, include_left: bool = False) -> QuerySet[Person]:
    people = Person.objects.visible_to(user).select_related("locality", "authority")
    return people if include_left else people.on_register()


def category_counts(user: User) -> dict[str, int]:
    rows = (
        Person.objects.visible_to(user)
        .on_register()
        .order_by()
        .values("category")
        .annotate(n=Count("id"))
    )
    return {row["category"]: row["n"] for row in rows}


def person_detail(user: User, pk: int) -> Person:
    """One person with their history and reviews, in a fixed number of queries."""
    from .access import person_for_read

    queryset = Person.objects.select_related(
        "locality", "authority", "created_by"
    ).prefetch_related(
        Prefetch(
            "status_changes",
            queryset=StatusChange.objects.select_related("changed_by").order_by(
                "-effective_date", "-changed_at", "-id"
            ),
        ),
        Prefetch("reviews", queryset=Review.objects.select_related("recorded_by")),
    )
    return person_for_read(user, pk, queryset)


def localities_for(user: User, *, write: bool = False) -> QuerySet[Locality]:
    from .access import scope_for

    scope = scope_for(user)
    ids = scope.write_localities if write else scope.read_localities
    return Locality.objects.filter(
        authority_id__in=scope.lead_authorities
    ) | Locality.objects.filter(pk__in=ids)
