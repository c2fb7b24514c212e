"""The census as it was rebuilt in Python before the database did it (reporting/snapshots.py): the
reference the tests hold the database's rebuilding to. Kept as it was."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import QuerySet

from registers.models import REGISTER_STATE_FIELDS, Person, StatusChange
from registers.validation import chi_mismatches
from reporting.census import previous_census_date

ADULT_AGE = 18


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def on_register(state: dict[str, Any], day: dt.date) -> bool:
    added, left = _date(state.get("date_added")), _date(state.get("date_left"))
    return added is not None and added <= day and (left is None or left > day)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass
class _History:
    at_census: dict[str, Any] | None = None
    at_previous: dict[str, Any] | None = None
    next_review_due: dt.date | None = None


class _Person(NamedTuple):
    pk: int
    local_reference: str
    sex: str
    date_of_birth: dt.date
    chi_number: str | None


@dataclass
class Reconstruction:
    rows: list[dict[str, Any]] = field(default_factory=list)
    movement: dict[str, Any] = field(default_factory=dict)


def latest_changes(authority_id: int, on: dt.date) -> QuerySet[StatusChange]:
    """Each person's latest history entry effective on or before `on` (ties broken by when it
    was recorded, then id). The database picks them (DISTINCT ON over the index
    `statuschange_latest_on_date`, read backwards), so only one row per person leaves it."""
    latest = (
        StatusChange.objects.filter(authority_id=authority_id, effective_date__lte=on)
        .order_by("-person_id", "-effective_date", "-changed_at", "-id")
        .distinct("person_id")
        .values("id")
    )
    return StatusChange.objects.filter(authority_id=authority_id, pk__in=latest).order_by()


def _histories(authority_id: int, census_date: dt.date, previous: dt.date) -> dict[int, _History]:
    histories: dict[int, _History] = {}
    at_census = latest_changes(authority_id, census_date).values_list("person_id", "state")
    for person_id, state in at_census.iterator(chunk_size=2000):
        histories[person_id] = _History(at_census=state)
    at_previous = latest_changes(authority_id, previous).values_list("person_id", "state")
    for person_id, state in at_previous.iterator(chunk_size=2000):
        histories[person_id].at_previous = state
    # The review due date in force: the latest entry on or before the census date that set it.
    due = (
        StatusChange.objects.filter(
            authority_id=authority_id,
            effective_date__lte=census_date,
            changes__has_key="next_review_due",
        )
        .order_by("-person_id", "-effective_date", "-changed_at", "-id")
        .distinct("person_id")
        .values_list("person_id", "changes__next_review_due")
    )
    for person_id, change in due.iterator(chunk_size=2000):
        histories[person_id].next_review_due = _date(change[1])
    return histories


def reconstruct(authority_id: int, census_date: dt.date) -> Reconstruction:
    """Snapshot rows (everyone on the register, adults and those in transition) and the
    quarter's movement (adults only), as at the end of `census_date`."""
    previous = previous_census_date(census_date)
    histories = _histories(authority_id, census_date, previous)
    # Plain values, not model instances: an authority's whole register passes through here.
    people = [
        _Person(*values)
        for values in Person.objects.filter(authority_id=authority_id)
        .order_by("pk")
        .values_list("pk", "local_reference", "sex", "date_of_birth", "chi_number")
    ]
    # Anyone not placed by the history either has entries only after the census date (not yet on
    # the register then) or has no history at all (read from the current record).
    unplaced = [p.pk for p in people if p.pk not in histories]
    later = set(
        StatusChange.objects.filter(authority_id=authority_id, person_id__in=unplaced)
        .values_list("person_id", flat=True)
        .distinct()
    )
    for record in Person.objects.filter(pk__in=set(unplaced) - later).only(
        "pk", "next_review_due", *_state_fields()
    ):
        current = record.register_state()
        histories[record.pk] = _History(current, current, record.next_review_due)
    result = Reconstruction()
    added = moved = 0
    left: dict[str, int] = {}
    transitions: dict[str, dict[str, int]] = {}
    for person in people:
        history = histories.get(person.pk)
        if history is None:  # on the register only after the census date
            continue
        state = history.at_census
        adult = age_on(person.date_of_birth, census_date) >= ADULT_AGE
        if adult:
            date_added, date_left = _date(state["date_added"]), _date(state.get("date_left"))
            if previous < date_added <= census_date:
                added += 1
            if date_left and previous < date_left <= census_date:
                reason = state.get("leaving_reason") or "other"
                left[reason] = left.get(reason, 0) + 1
        before = history.at_previous
        if adult:
            origin = movement_state(before, previous)
            destination = movement_state(state, census_date, since=previous)
            if (origin, destination) != (NOT_ON_REGISTER, NOT_ON_REGISTER):
                row = transitions.setdefault(origin, {})
                row[destination] = row.get(destination, 0) + 1
        if not on_register(state, census_date):
            continue
        was = (before["category"], before.get("urgent_reason")) if before else None
        now = (state["category"], state.get("urgent_reason"))
        if adult and was and on_register(before, previous) and was != now:
            moved += 1
        result.rows.append(_row(person, state, history.next_review_due, census_date))
    result.movement = {
        "added": added,
        "left": left,
        "moved_between_categories": moved,
        "transitions": transitions,
    }
    return result


# Where someone stood, for movement between census dates: the category, with urgent split by its
# reason (the Coming Home question is where people in hospital and out of area went), or off the
# register. Adults on the census date only, as in the return's tables.
NOT_ON_REGISTER = "not_on_register"
LEFT_REGISTER = "left_register"


def movement_state(
    state: dict[str, Any] | None, day: dt.date, *, since: dt.date | None = None
) -> str:
    """A person's place on `day` for the movement table: their urgent reason when urgent, their
    category otherwise, or off the register; with `since` (the previous census date), someone
    who left after it and by `day` is `left_register`."""
    if state is not None and on_register(state, day):
        return state.get("urgent_reason") or state["category"]
    left = _date(state.get("date_left")) if state else None
    if since is not None and left is not None and since < left <= day:
        return LEFT_REGISTER
    return NOT_ON_REGISTER


def _state_fields() -> list[str]:
    return [name for name in REGISTER_STATE_FIELDS if name != "locality_id"] + ["locality"]


def _row(
    person: _Person, state: dict[str, Any], next_review_due: dt.date | None, census_date: dt.date
) -> dict[str, Any]:
    return {
        "person_id": person.pk,
        "local_reference": person.local_reference,
        "locality_id": state.get("locality_id"),
        "sex": person.sex,
        "date_of_birth": person.date_of_birth,
        "age": age_on(person.date_of_birth, census_date),
        "category": state["category"],
        "urgent_reason": state.get("urgent_reason") or "",
        "risk_rating": state.get("risk_rating") or "",
        "hospital_type": state.get("hospital_type") or "",
        "legal_status": state.get("legal_status") or "",
        "admission_date": _date(state.get("admission_date")),
        "ready_for_discharge_date": _date(state.get("ready_for_discharge_date")),
        "delay_reason": state.get("delay_reason") or "",
        "host_area": state.get("host_area") or "",
        "placement_type": state.get("placement_type") or "",
        "placement_chosen": state.get("placement_chosen"),
        "date_added": _date(state["date_added"]),
        "next_review_due": next_review_due,
        # A CHI number that disagrees with the date of birth or sex (confirmed when entered).
        "chi_mismatch": bool(
            chi_mismatches(person.chi_number, date_of_birth=person.date_of_birth, sex=person.sex)
        ),
    }
