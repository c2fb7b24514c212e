"""Rebuild who was on an authority's register at the end of a census date, from the history.

Every `StatusChange` stores the register state after it and its effective date; a person's state
on a date is that of their latest change effective on or before it (ties broken by when it was
recorded, then id). People whose record predates the history (no change at all) are read from
their current record.

The database does the rebuilding: one statement finds each person's latest entry on or before the
census date and the previous one in one pass over the authority's history, works out their
snapshot row and their movement between the two dates, inserts the rows and returns the movement
counted by kind. Python only checks CHI numbers (`registers.validation` is their one definition)
for the few people whose CHI number could disagree with their date of birth or sex.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection

from registers.validation import chi_mismatches

from .census import previous_census_date

if TYPE_CHECKING:
    from .models import CensusSnapshot

ADULT_AGE = 18

# Where someone stood, for movement between census dates: the category, with urgent split by its
# reason (the Coming Home question is where people in hospital and out of area went), or off the
# register. Adults on the census date only, as in the return's tables.
NOT_ON_REGISTER = "not_on_register"
LEFT_REGISTER = "left_register"


@dataclass
class Reconstruction:
    rows: list[dict[str, Any]] = field(default_factory=list)
    movement: dict[str, Any] = field(default_factory=dict)


# Each person of the authority on the census date (and the previous one), one row each, as the
# CTE `person`: their state from their latest entry on or before each date, or, with no history at
# all, from their current record on both; people whose history starts after the census date are
# left out. Then what the snapshot row and the movement need of them.
PEOPLE_SQL = """
WITH latest AS (
    -- For each person, their latest entry on or before the census date, their latest on or
    -- before the previous one, and the latest that set the review due date (the one in force on
    -- the census date). Latest: by effective date, then when it was recorded, then id, the order
    -- of the index statuschange_latest_on_date (and of the partial statuschange_review_set, which
    -- holds the few entries that set it), so each is read from an index alone, in order.
    SELECT at_census.person_id, at_census.id AS at_census, at_previous.id AS at_previous,
           review_set.id AS review_set
    FROM (
        SELECT DISTINCT ON (person_id) person_id, id FROM registers_statuschange
        WHERE authority_id = %(authority)s AND effective_date <= %(census)s
        ORDER BY person_id DESC, effective_date DESC, changed_at DESC, id DESC
    ) AS at_census
    LEFT JOIN (
        SELECT DISTINCT ON (person_id) person_id, id FROM registers_statuschange
        WHERE authority_id = %(authority)s AND effective_date <= %(previous)s
        ORDER BY person_id DESC, effective_date DESC, changed_at DESC, id DESC
    ) AS at_previous ON at_previous.person_id = at_census.person_id
    LEFT JOIN (
        SELECT DISTINCT ON (person_id) person_id, id FROM registers_statuschange
        WHERE authority_id = %(authority)s AND effective_date <= %(census)s
          AND changes ? 'next_review_due'
        ORDER BY person_id DESC, effective_date DESC, changed_at DESC, id DESC
    ) AS review_set ON review_set.person_id = at_census.person_id
), later_only AS (
    -- People with entries after the census date: with none on or before it, they joined later.
    SELECT DISTINCT person_id FROM registers_statuschange
    WHERE authority_id = %(authority)s AND effective_date > %(census)s
), placed AS MATERIALIZED (
    SELECT p.id AS person_id, p.local_reference, p.sex, p.date_of_birth, p.next_review_due,
           CASE WHEN l.at_census IS NULL THEN to_jsonb(p) END AS record,
           l.at_census AS census_entry,
           l.at_previous AS previous_entry, l.review_set AS review_entry,
           coalesce(l.at_previous = l.at_census, false) AS same
    FROM registers_person AS p
    LEFT JOIN latest AS l ON l.person_id = p.id
    WHERE p.authority_id = %(authority)s
      AND (l.at_census IS NOT NULL OR p.id NOT IN (SELECT person_id FROM later_only))
    -- In the order of the entries' ids, so the lookups below read the history's pages in order.
    ORDER BY l.at_census
), state AS (
    -- Each entry read by its id, a subquery a row: by the primary key whatever the estimates (the
    -- ids are plain values here, so row-level security lets the index serve the lookup). Someone
    -- with no history at all is read from their current record on both dates. Each state is
    -- read once into columns (every ->> would read the whole value again).
    SELECT placed.person_id, placed.local_reference, placed.sex, placed.date_of_birth,
           CASE WHEN census_entry IS NULL THEN placed.next_review_due
                ELSE (SELECT (changes -> 'next_review_due' ->> 1)::date
                      FROM registers_statuschange WHERE id = review_entry) END
               AS next_review_due,
           census_entry IS NULL OR previous_entry IS NOT NULL AS has_before,
           s.*,
           -- Where the entry in force on the previous census date is the same one, its
           -- state is not read twice.
           CASE WHEN same THEN s.category ELSE b.category END AS before_category,
           CASE WHEN same THEN s.urgent_reason ELSE b.urgent_reason END AS before_urgent_reason,
           CASE WHEN same THEN s.date_added ELSE b.date_added END AS before_added,
           CASE WHEN same THEN s.date_left ELSE b.date_left END AS before_left,
           (extract(year FROM %(census)s::date) - extract(year FROM placed.date_of_birth)
            - CASE WHEN (extract(month FROM %(census)s::date), extract(day FROM %(census)s::date))
                        < (extract(month FROM placed.date_of_birth),
                           extract(day FROM placed.date_of_birth))
                   THEN 1 ELSE 0 END)::int AS age
    FROM placed
    LEFT JOIN LATERAL jsonb_to_record(
        CASE WHEN census_entry IS NULL THEN record
             ELSE (SELECT state FROM registers_statuschange WHERE id = census_entry) END
    ) AS s(
        locality_id bigint, category text, urgent_reason text, risk_rating text,
        hospital_type text, legal_status text, admission_date date,
        ready_for_discharge_date date, delay_reason text, host_area text, placement_type text,
        placement_chosen boolean, date_added date, date_left date, leaving_reason text
    ) ON true
    LEFT JOIN LATERAL jsonb_to_record(
        CASE WHEN census_entry IS NULL THEN record
             WHEN same THEN NULL
             ELSE (SELECT state FROM registers_statuschange WHERE id = previous_entry) END
    ) AS b(category text, urgent_reason text, date_added date, date_left date) ON true
), person AS MATERIALIZED (
    SELECT state.*,
           age >= {adult_age} AS adult,
           coalesce(date_added <= %(census)s AND (date_left IS NULL OR date_left > %(census)s),
                    false) AS on_census,
           coalesce(has_before AND before_added <= %(previous)s
                    AND (before_left IS NULL OR before_left > %(previous)s), false) AS on_previous,
           coalesce(date_left > %(previous)s AND date_left <= %(census)s, false) AS left_since
    FROM state
)
"""

ROW_COLUMNS = (
    "person_id",
    "local_reference",
    "locality_id",
    "sex",
    "date_of_birth",
    "age",
    "category",
    "urgent_reason",
    "risk_rating",
    "hospital_type",
    "legal_status",
    "admission_date",
    "ready_for_discharge_date",
    "delay_reason",
    "host_area",
    "placement_type",
    "placement_chosen",
    "date_added",
    "next_review_due",
    "chi_mismatch",
)

# Everyone on the register on the census date, as snapshot rows (columns as ROW_COLUMNS).
ROWS_SQL = """
SELECT person_id, local_reference, locality_id, sex, date_of_birth, age, category,
       coalesce(urgent_reason, ''), coalesce(risk_rating, ''), coalesce(hospital_type, ''),
       coalesce(legal_status, ''), admission_date, ready_for_discharge_date,
       coalesce(delay_reason, ''), coalesce(host_area, ''), coalesce(placement_type, ''),
       placement_chosen, date_added, next_review_due, person_id = ANY(%(mismatched)s::bigint[])
FROM person
WHERE on_census
ORDER BY person_id
"""

# Adults' movement, counted by kind: where they stood on the previous census date (origin) and
# this one (destination), whether they were added or left in the quarter, and whether they moved
# between categories while on the register on both dates.
MOVEMENT_SQL = """
SELECT CASE WHEN on_previous
            THEN coalesce(nullif(before_urgent_reason, ''), before_category)
            ELSE '{not_on}' END AS origin,
       CASE WHEN on_census THEN coalesce(nullif(urgent_reason, ''), category)
            WHEN left_since THEN '{left}'
            ELSE '{not_on}' END AS destination,
       coalesce(date_added > %(previous)s AND date_added <= %(census)s, false) AS added,
       CASE WHEN left_since THEN coalesce(nullif(leaving_reason, ''), 'other') END AS left_reason,
       on_census AND on_previous
           AND (before_category, before_urgent_reason) IS DISTINCT FROM (category, urgent_reason)
           AS moved,
       count(*)
FROM person
WHERE adult
GROUP BY 1, 2, 3, 4, 5
"""


def _sql(part: str) -> str:
    fixed = {"adult_age": ADULT_AGE, "not_on": NOT_ON_REGISTER, "left": LEFT_REGISTER}
    return (PEOPLE_SQL + part).format(**fixed)


def _params(authority_id: int, census_date: dt.date) -> dict[str, Any]:
    return {
        "authority": authority_id,
        "census": census_date,
        "previous": previous_census_date(census_date),
        "mismatched": chi_mismatched(authority_id),
    }


def chi_mismatched(authority_id: int) -> list[int]:
    """People whose CHI number disagrees with their date of birth or sex. The database picks
    those whose number could (ten digits, and the date or the sex digit differs); the service's
    own check decides."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, chi_number, date_of_birth, sex FROM registers_person "
            "WHERE authority_id = %s AND chi_number ~ '^[0-9]{10}$' "
            "AND (substr(chi_number, 1, 6) <> to_char(date_of_birth, 'DDMMYY') "
            "OR (sex IN ('male', 'female') "
            "AND (substr(chi_number, 9, 1) IN ('1', '3', '5', '7', '9')) <> (sex = 'male')))",
            [authority_id],
        )
        return [
            pk
            for pk, chi, born, sex in cursor.fetchall()
            if chi_mismatches(chi, date_of_birth=born, sex=sex)
        ]


def _movement(groups: list[tuple]) -> dict[str, Any]:
    added = moved = 0
    left: dict[str, int] = {}
    transitions: dict[str, dict[str, int]] = {}
    for origin, destination, was_added, left_reason, was_moved, n in groups:
        added += n if was_added else 0
        moved += n if was_moved else 0
        if left_reason:
            left[left_reason] = left.get(left_reason, 0) + n
        if (origin, destination) != (NOT_ON_REGISTER, NOT_ON_REGISTER):
            row = transitions.setdefault(origin, {})
            row[destination] = row.get(destination, 0) + n
    return {
        "added": added,
        "left": left,
        "moved_between_categories": moved,
        "transitions": transitions,
    }


def reconstruct(authority_id: int, census_date: dt.date) -> Reconstruction:
    """Snapshot rows (everyone on the register, adults and those in transition) and the
    quarter's movement (adults only), as at the end of `census_date`, read without storing."""
    params = _params(authority_id, census_date)
    with connection.cursor() as cursor:
        cursor.execute(_sql(ROWS_SQL), params)
        rows = [dict(zip(ROW_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
        cursor.execute(_sql(MOVEMENT_SQL), params)
        movement = _movement(cursor.fetchall())
    return Reconstruction(rows=rows, movement=movement)


def store_rows(snapshot: CensusSnapshot) -> tuple[int, dict[str, Any]]:
    """Insert the snapshot's rows (the snapshot holds none) and return how many and the movement,
    in one statement: the people are worked out once for both."""
    params = _params(snapshot.authority_id, snapshot.census_date) | {"snapshot": snapshot.pk}
    columns = ", ".join(("authority_id", "snapshot_id", *ROW_COLUMNS))
    sql = _sql(
        f"""
, inserted AS (
    INSERT INTO reporting_snapshotrow ({columns})
    SELECT %(authority)s, %(snapshot)s, rows.* FROM ({ROWS_SQL}) AS rows
    RETURNING 1
)
SELECT movement.*, NULL FROM ({MOVEMENT_SQL}) AS movement
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, count(*) FROM inserted
"""  # noqa: S608 - fixed names and parts
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results = cursor.fetchall()
    stored = next(row[-1] for row in results if row[-1] is not None)
    return stored, _movement([row[:-1] for row in results if row[-1] is None])
