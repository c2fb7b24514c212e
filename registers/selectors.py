"""Reads of the register. Every function takes the acting user first and starts from the scope."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from .codes import Category, TransferStatus, UrgentReason
from .models import Locality, Person, Review, StatusChange, Transfer

if TYPE_CHECKING:
    from accounts.models import User


def visible_people(user: User, *, include_left: bool = False) -> QuerySet[Person]:
    people = Person.objects.visible_to(user).select_related("locality", "authority")
    return people if include_left else people.on_register()


def category_counts(user: User, *, authority_id: int | None = None) -> dict[str, int]:
    """People on the register by category, and by urgent reason under `urgent:<reason>`."""
    people = Person.objects.visible_to(user).on_register()
    if authority_id is not None:
        people = people.filter(authority_id=authority_id)
    rows = people.order_by().values("category", "urgent_reason").annotate(n=Count("id"))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["category"]] = counts.get(row["category"], 0) + row["n"]
        if row["urgent_reason"]:
            counts[f"urgent:{row['urgent_reason']}"] = row["n"]
    return counts


def register_people(user: User, *, authority_id: int | None) -> QuerySet[Person]:
    """The register list for one of the user's authorities (the one chosen in the session)."""
    people = visible_people(user)
    if authority_id is None:
        return people.none()
    return people.filter(authority_id=authority_id)


def reviews_due(user: User, *, authority_id: int | None, within_days: int) -> QuerySet[Person]:
    """People whose next review is overdue or falls due within `within_days`, soonest first."""
    until = timezone.localdate() + dt.timedelta(days=within_days)
    return (
        register_people(user, authority_id=authority_id)
        .filter(next_review_due__lte=until)
        .order_by("next_review_due", "family_name", "id")
    )


def changes_since(user: User, person: Person, version: int) -> list[StatusChange]:
    """What others changed after the version a form was opened at (to explain a refusal)."""
    return list(
        StatusChange.objects.filter(person__in=Person.objects.visible_to(user))
        .filter(person=person, version__gt=version)
        .select_related("changed_by")
        .order_by("version")
    )


def transfers_in(user: User, *, authority_id: int | None) -> QuerySet[Transfer]:
    """Transfers waiting for this authority's lead to decide."""
    from .access import scope_for

    if authority_id is None or authority_id not in scope_for(user).lead_authorities:
        return Transfer.objects.none()
    return Transfer.objects.filter(
        to_authority_id=authority_id, status=TransferStatus.PENDING
    ).select_related("authority", "requested_by")


def transfers_out(user: User, *, authority_id: int | None) -> QuerySet[Transfer]:
    """Transfers of people the user can see, sent from this authority, newest first."""
    return Transfer.objects.filter(
        authority_id=authority_id, person__in=Person.objects.visible_to(user)
    ).select_related("to_authority", "person", "requested_by", "decided_by")


def transfer_for_decision(user: User, pk: int) -> Transfer:
    """A pending transfer into an authority the user leads, or 404."""
    from django.http import Http404

    transfer = transfers_in_any(user).filter(pk=pk).first()
    if transfer is None:
        raise Http404("No such transfer waiting for you.")
    return transfer


def transfers_in_any(user: User) -> QuerySet[Transfer]:
    from .access import scope_for

    return Transfer.objects.filter(
        to_authority_id__in=scope_for(user).lead_authorities, status=TransferStatus.PENDING
    ).select_related("authority", "to_authority", "requested_by")


@dataclass(frozen=True)
class TrendPoint:
    month_end: dt.date
    in_hospital: int
    delayed_discharge: int
    out_of_area: int


def _month_ends(today: dt.date, months: int) -> list[dt.date]:
    ends = []
    year, month = today.year, today.month
    for _ in range(months):
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        ends.append(min(last, today))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


def _counts_on(state: dict[str, Any], on: dt.date) -> tuple[int, int, int]:
    if state.get("date_left") and state["date_left"] <= on.isoformat():
        return 0, 0, 0
    in_hospital = state.get("urgent_reason") == UrgentReason.IN_HOSPITAL
    ready = state.get("ready_for_discharge_date")
    delayed = in_hospital and bool(ready) and ready < on.isoformat()
    away = state.get("category") == Category.APPROPRIATE_OUT_OF_AREA or (
        state.get("urgent_reason") == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
    )
    return int(in_hospital), int(delayed), int(away)


def monthly_trend(user: User, *, authority_id: int, months: int = 12) -> list[TrendPoint]:
    """People in hospital, delayed discharges and out-of-area placements at each month end,
    rebuilt from the history (each person's state as of their last change on or before the date).
    One query: the authority's history, read once in date order."""
    ends = _month_ends(timezone.localdate(), months)
    rows = (
        StatusChange.objects.filter(
            authority_id=authority_id,
            effective_date__lte=ends[-1],
            person__in=Person.objects.visible_to(user).filter(authority_id=authority_id),
        )
        .order_by("person_id", "effective_date", "changed_at", "id")
        .values_list("person_id", "effective_date", "state")
    )
    totals = [[0, 0, 0] for _ in ends]
    current_person, history = None, []

    def flush() -> None:
        for i, end in enumerate(ends):
            state = None
            for effective, snapshot in history:
                if effective > end:
                    break
                state = snapshot
            if state is not None:
                for k, n in enumerate(_counts_on(state, end)):
                    totals[i][k] += n

    for person_id, effective, state in rows.iterator(chunk_size=2000):
        if person_id != current_person:
            flush()
            current_person, history = person_id, []
        history.append((effective, state))
    flush()
    return [TrendPoint(end, *counts) for end, counts in zip(ends, totals, strict=True)]


def long_stay_days() -> int:
    return settings.DSR_LONG_HOSPITAL_STAY_DAYS


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
