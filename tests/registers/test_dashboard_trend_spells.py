"""The dashboard's trend reads spells the history's triggers keep (`TrendSpell`, registers/0013).

The property: whatever history is appended (back-dated entries, several on one day, leavings, bulk
inserts), whoever moves locality and whatever is erased, the trend counted from the spells equals
the trend rebuilt from the whole history, for a lead and for a practitioner who sees one locality.
The reference is the query the dashboard ran before the spells, kept here as it was.
"""

import datetime as dt
import importlib
import itertools

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registers import access, selectors
from registers.codes import ChangeKind
from registers.models import Person, StatusChange, TrendSpell
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

# The trend as the dashboard counted it before the spells: each month end rebuilt from the history
# in one query (each person's latest entry on or before the first month end, and every entry after
# it up to the last, each in force until the person's next entry).
SLOW_TREND_SQL = """
WITH relevant AS MATERIALIZED (
    SELECT person_id, effective_date, changed_at, id,
           state ->> 'category' AS category,
           state ->> 'urgent_reason' AS urgent_reason,
           (state ->> 'ready_for_discharge_date')::date AS ready,
           (state ->> 'date_left')::date AS date_left
    FROM registers_statuschange
    WHERE id IN (
        SELECT DISTINCT ON (person_id) id FROM registers_statuschange
        WHERE authority_id = %(authority)s AND effective_date <= %(first)s
        ORDER BY person_id DESC, effective_date DESC, changed_at DESC, id DESC
    )
    UNION ALL
    SELECT person_id, effective_date, changed_at, id,
           state ->> 'category' AS category,
           state ->> 'urgent_reason' AS urgent_reason,
           (state ->> 'ready_for_discharge_date')::date AS ready,
           (state ->> 'date_left')::date AS date_left
    FROM registers_statuschange
    WHERE authority_id = %(authority)s
      AND effective_date > %(first)s AND effective_date <= %(last)s
), history AS (
    SELECT *, LEAD(effective_date) OVER (
        PARTITION BY person_id ORDER BY effective_date, changed_at, id
    ) AS valid_until
    FROM relevant
    WHERE person_id IN ({visible})
)
SELECT month_end,
       count(*) FILTER (WHERE urgent_reason = 'in_hospital'),
       count(*) FILTER (WHERE urgent_reason = 'in_hospital' AND ready < month_end),
       count(*) FILTER (
           WHERE category = 'appropriate_out_of_area'
              OR urgent_reason = 'inappropriate_out_of_area'
       )
FROM history
JOIN unnest(%(ends)s::date[]) AS month_end
  ON effective_date <= month_end AND (valid_until IS NULL OR valid_until > month_end)
WHERE date_left IS NULL OR date_left > month_end
GROUP BY month_end
"""


def slow_trend(user, *, authority_id: int) -> list[tuple]:
    ends = selectors._month_ends(timezone.localdate(), 12)
    visible = access.visible_people(user).filter(authority_id=authority_id).order_by()
    visible_sql, visible_params = visible.values("pk").query.sql_with_params()
    names = {f"visible{i}": value for i, value in enumerate(visible_params)}
    sql = SLOW_TREND_SQL.format(visible=visible_sql % tuple(f"%({name})s" for name in names))
    params = {"authority": authority_id, "first": ends[0], "last": ends[-1], "ends": ends}
    with connection.cursor() as cursor:
        cursor.execute(sql, params | names)
        counts = {row[0]: row[1:] for row in cursor.fetchall()}
    return [(end, *counts.get(end, (0, 0, 0))) for end in ends]


def fast_trend(user, *, authority_id: int) -> list[tuple]:
    return [
        (p.month_end, p.in_hospital, p.delayed_discharge, p.out_of_area)
        for p in selectors.monthly_trend(user, authority_id=authority_id)
    ]


# --- Random histories ----------------------------------------------------------------------------

STATES = [
    {"category": "enhanced_monitoring", "urgent_reason": None},
    {"category": "appropriate_out_of_area", "urgent_reason": None},
    {"category": "urgent", "urgent_reason": "in_hospital"},
    {"category": "urgent", "urgent_reason": "inappropriate_out_of_area"},
    {"category": "urgent", "urgent_reason": "at_risk_of_breakdown"},
]

# Days before today: up to a year and a half back (the trend covers the last year, so entries fall
# before, inside and after its first month end), and a few days ahead; or a day on, just before or
# just after one of the month ends counted (the edges of a spell, where off-by-ones hide).
days = st.integers(min_value=-20, max_value=540) | st.tuples(
    st.integers(min_value=0, max_value=11), st.integers(min_value=-1, max_value=1)
)
entry = st.fixed_dictionaries(
    {
        "days_ago": days,
        "state": st.sampled_from(STATES),
        # Ready for discharge some days before or after the entry, or not at all.
        "ready": st.none() | st.integers(min_value=-90, max_value=90),
        # Left on the entry's date or up to two months later, or not.
        "left": st.none()
        | st.integers(min_value=0, max_value=60)
        | st.sampled_from([0, 1, 30, 31]),
        # Recorded in one of a few minutes: entries on one day tie on the minute too.
        "minute": st.integers(min_value=0, max_value=2),
    }
)
# Entries that count as the person's latest one does (a change of details, a new rating), a few
# days before or after it, recorded in one of the same few minutes: the insert trigger skips
# rebuilding the spells of someone whose new entries all follow their latest and count alike.
# Or alike but for one thing, which must be rebuilt.
continuing = st.lists(
    st.tuples(
        st.integers(min_value=-3, max_value=3),
        st.integers(min_value=0, max_value=2),
        st.sampled_from([None, None, "ready", "left", *range(len(STATES))]),
    ),
    min_size=1,
    max_size=3,
)
operation = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 4), st.lists(entry, min_size=1, max_size=4)),
    st.tuples(st.just("continue"), st.integers(0, 4), continuing),
    st.tuples(st.just("move"), st.integers(0, 4), st.just(None)),
    st.tuples(st.just("erase"), st.integers(0, 4), st.just(None)),
)


def _entry(person, kind, changed_at, effective, state, version) -> StatusChange:
    """A history entry setting `state` (not saved)."""
    return StatusChange(
        authority_id=person.authority_id,
        person=person,
        kind=kind,
        changed_at=changed_at,
        effective_date=effective,
        new_category=state["category"],
        new_urgent_reason=state["urgent_reason"] or "",
        state=state,
        version=version,
    )


def _rows(person: Person, entries: list[dict], version: int) -> list[StatusChange]:
    today = timezone.localdate()
    base = timezone.now().replace(second=0, microsecond=0)
    rows = []
    ends = selectors._month_ends(today, 12)
    for n, item in enumerate(entries):
        if isinstance(item["days_ago"], tuple):
            month, offset = item["days_ago"]
            effective = ends[month] + dt.timedelta(days=offset)
        else:
            effective = today - dt.timedelta(days=item["days_ago"])
        state = {
            **item["state"],
            "date_added": "2020-01-01",
            "locality_id": person.locality_id,
            "ready_for_discharge_date": None
            if item["ready"] is None
            else (effective + dt.timedelta(days=item["ready"])).isoformat(),
            "date_left": None
            if item["left"] is None
            else (effective + dt.timedelta(days=item["left"])).isoformat(),
        }
        kind = ChangeKind.LEFT if item["left"] is not None else ChangeKind.STATUS
        at = base + dt.timedelta(minutes=item["minute"])
        rows.append(_entry(person, kind, at, effective, state, version + n))
    return rows


@pytest.fixture
def world(authority, other_authority, nithsdale, stewartry, leith, lead, other_lead, practitioner):
    return {
        "localities": [nithsdale, stewartry],
        "leith": leith,
        "lead": lead,
        "other_lead": other_lead,
        "practitioner": practitioner,  # sees Nithsdale only
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.integers(0, 1), min_size=5, max_size=5),
    operations=st.lists(operation, min_size=1, max_size=12),
)
def test_the_trend_from_spells_equals_the_trend_rebuilt_from_history(world, people, operations):
    lead, practitioner = world["lead"], world["practitioner"]
    localities = world["localities"]
    with transaction.atomic():
        everyone = [PersonFactory(locality=localities[i]) for i in people]
        # Someone of another authority, whose history must never reach this authority's trend.
        stranger = PersonFactory(locality=world["leith"])
        versions = dict.fromkeys([p.pk for p in everyone] + [stranger.pk], 1)
        erased: set[int] = set()
        for kind, index, entries in operations:
            person = everyone[index]
            if person.pk in erased:
                continue
            if kind == "append":
                # As the runtime role in the lead's scope, as a request appends: one statement,
                # whether one entry or several (bulk upsert, locality moves).
                with access.using_scope(access.scope_for(lead)):
                    StatusChange.objects.bulk_create(_rows(person, entries, versions[person.pk]))
                with access.using_scope(access.scope_for(world["other_lead"])):
                    StatusChange.objects.bulk_create(
                        _rows(stranger, entries, versions[stranger.pk])
                    )
                versions[person.pk] += len(entries)
                versions[stranger.pk] += len(entries)
            elif kind == "continue":
                with access.using_scope(access.scope_for(lead)):
                    StatusChange.objects.bulk_create(
                        _continuing(person, entries, versions[person.pk])
                    )
                versions[person.pk] += len(entries)
            elif kind == "move":
                # Visibility follows the person's current locality.
                person.locality = (
                    localities[1] if person.locality == localities[0] else localities[0]
                )
                Person.objects.filter(pk=person.pk).update(locality=person.locality)
            else:
                with access.using_scope(access.scope_for(lead)), connection.cursor() as cursor:
                    cursor.execute("SELECT dsr_erase_register_entry(%s)", [person.pk])
                erased.add(person.pk)
        for user in (lead, practitioner):
            with access.using_scope(access.scope_for(user)):
                assert fast_trend(user, authority_id=lead_authority(world)) == slow_trend(
                    user, authority_id=lead_authority(world)
                )
        assert not TrendSpell.objects.filter(person_id__in=erased).exists()
        assert _kept_spells() == _spells_from_scratch()
        transaction.set_rollback(True)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(entry, min_size=1, max_size=4), appended=continuing)
def test_entries_that_count_as_the_latest_one_leave_the_spells_as_a_rebuild_would(
    lead, nithsdale, history, appended
):
    """The insert trigger skips the people whose new entries follow their latest and count alike:
    the spells kept equal the spells rebuilt from scratch, whether skipped or not."""
    with transaction.atomic():
        person = PersonFactory(locality=nithsdale)
        with access.using_scope(access.scope_for(lead)):
            StatusChange.objects.bulk_create(_rows(person, history, 1))
            StatusChange.objects.bulk_create(_continuing(person, appended, 1 + len(history)))
        assert _kept_spells() == _spells_from_scratch()
        transaction.set_rollback(True)


def test_each_way_an_entry_can_differ_from_the_latest_is_rebuilt(lead, nithsdale):
    """Every register status of the latest entry, every way a new entry can differ from it (or
    not), before, on and after its day: the spells kept equal a rebuild from scratch."""
    person = PersonFactory(locality=nithsdale)
    changes = [None, "ready", "left", *range(len(STATES))]
    for state, ready, change, days in itertools.product(STATES, (None, -5), changes, (-1, 0, 2)):
        latest = {"days_ago": 30, "state": state, "ready": ready, "left": None, "minute": 1}
        with transaction.atomic(), access.using_scope(access.scope_for(lead)):
            StatusChange.objects.bulk_create(_rows(person, [latest], 1))
            StatusChange.objects.bulk_create(_continuing(person, [(days, 0, change)], 2))
            assert _kept_spells() == _spells_from_scratch(), (state, ready, change, days)
            transaction.set_rollback(True)


def _continuing(
    person: Person, entries: list[tuple[int, int, str | None]], version: int
) -> list[StatusChange]:
    """Entries with the state of the person's latest entry, a few days before or after it,
    recorded in one of a few minutes (so on its day, sometimes before it); some with another
    ready-for-discharge date, date left or register status."""
    latest = (
        StatusChange.objects.filter(person=person)
        .order_by("-effective_date", "-changed_at", "-id")
        .first()
    )
    if latest is None:
        return []
    base = timezone.now().replace(second=0, microsecond=0)
    rows = []
    for n, (days, minute, change) in enumerate(entries):
        effective = latest.effective_date + dt.timedelta(days=days)
        state = dict(latest.state)
        if change == "ready":
            state["ready_for_discharge_date"] = (effective + dt.timedelta(days=5)).isoformat()
        elif change == "left":
            state["date_left"] = (effective + dt.timedelta(days=2)).isoformat()
        elif change is not None:
            state |= STATES[change]
        kind = ChangeKind.DETAILS if change is None else ChangeKind.STATUS
        at = base + dt.timedelta(minutes=minute)
        rows.append(_entry(person, kind, at, effective, state, version + n))
    return rows


SPELL_COLUMNS = [
    "person_id",
    "valid_from",
    "valid_until",
    "in_hospital",
    "ready_for_discharge_date",
    "out_of_area",
]


def _kept_spells() -> list[tuple]:
    return sorted(TrendSpell.objects.values_list(*SPELL_COLUMNS))


def _spells_from_scratch() -> list[tuple]:
    """Every person's spells rebuilt from their whole history, by the migration's definition."""
    migration = importlib.import_module("registers.migrations.0013_trend_spells")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(SPELL_COLUMNS)} FROM ("
            f"{migration.SPELLS.format(where='')}"
            ") AS s(authority_id, person_id, valid_from, valid_until, in_hospital, "
            "ready_for_discharge_date, out_of_area)"
        )
        return sorted(cursor.fetchall())


def lead_authority(world) -> int:
    return world["localities"][0].authority_id


# --- Examples ------------------------------------------------------------------------------------


def test_a_back_dated_entry_changes_every_month_end_until_the_next_entry(lead, nithsdale):
    today = timezone.localdate()
    person = PersonFactory(locality=nithsdale)
    hospital = {"category": "urgent", "urgent_reason": "in_hospital"}
    home = {"category": "enhanced_monitoring", "urgent_reason": None}
    StatusChange.objects.bulk_create(
        _rows(
            person, [{"days_ago": 10, "state": home, "ready": None, "left": None, "minute": 0}], 1
        )
    )
    assert [p[1] for p in fast_trend(lead, authority_id=person.authority_id)] == [0] * 12
    # Admitted five months ago, recorded today: every month end since counts them.
    StatusChange.objects.bulk_create(
        _rows(
            person,
            [{"days_ago": 150, "state": hospital, "ready": None, "left": None, "minute": 1}],
            2,
        )
    )
    trend = fast_trend(lead, authority_id=person.authority_id)
    assert trend == slow_trend(lead, authority_id=person.authority_id)
    counted = [end for end, hospital_count, *_ in trend if hospital_count]
    assert counted and all(
        today - dt.timedelta(days=150) <= end < today - dt.timedelta(days=10) for end in counted
    )


def test_the_trend_is_one_query_however_many_people(lead, nithsdale, django_assert_num_queries):
    hospital = {"category": "urgent", "urgent_reason": "in_hospital"}
    for size in (3, 30):
        for person in PersonFactory.create_batch(size, locality=nithsdale):
            StatusChange.objects.bulk_create(
                _rows(
                    person,
                    [{"days_ago": 100, "state": hospital, "ready": -5, "left": None, "minute": 0}],
                    1,
                )
            )
        with access.using_scope(access.scope_for(lead)), django_assert_num_queries(1):
            trend = selectors.monthly_trend(lead, authority_id=nithsdale.authority_id)
        assert trend[-1].in_hospital >= size


def test_the_migration_builds_the_spells_the_triggers_keep(nithsdale, stewartry):
    """The backfill and the triggers share one definition; rebuilt from scratch, the table is the
    same."""
    migration = importlib.import_module("registers.migrations.0013_trend_spells")
    hospital = {"category": "urgent", "urgent_reason": "in_hospital"}
    away = {"category": "appropriate_out_of_area", "urgent_reason": None}
    for n, person in enumerate(PersonFactory.create_batch(4, locality=nithsdale)):
        entries = [
            {"days_ago": 300 - 40 * k, "state": state, "ready": None, "left": None, "minute": 0}
            for k, state in zip(range(n + 2), itertools.cycle([hospital, hospital, away]))
        ]
        StatusChange.objects.bulk_create(_rows(person, entries, 1))
    kept = sorted(TrendSpell.objects.values_list(*SPELL_COLUMNS))
    assert kept
    TrendSpell.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO registers_trendspell ({migration.COLUMNS}) "
            + migration.SPELLS.format(where="")
        )
    assert sorted(TrendSpell.objects.values_list(*SPELL_COLUMNS)) == kept


def test_a_history_insert_past_the_skip_limit_rebuilds_everyone_it_touched(lead, nithsdale):
    """More new entries in one statement than the trigger compares one by one (seeding, imports):
    everyone touched is rebuilt in one pass, and the spells equal a rebuild from scratch."""
    migration = importlib.import_module(
        "registers.migrations.0019_trend_spells_large_inserts_rebuild"
    )
    people = [PersonFactory(locality=nithsdale) for _ in range(3)]
    per_person = migration.SKIP_AT_MOST // len(people) + 1
    with transaction.atomic(), access.using_scope(access.scope_for(lead)):
        rows = []
        for person in people:
            entries = [
                {
                    "days_ago": 400 - n % 390,
                    "state": STATES[n % len(STATES)],
                    "ready": None,
                    "left": None,
                    "minute": n % 3,
                }
                for n in range(per_person)
            ]
            rows += _rows(person, entries, 1)
        assert len(rows) > migration.SKIP_AT_MOST
        StatusChange.objects.bulk_create(rows)
        assert _kept_spells() == _spells_from_scratch()
        transaction.set_rollback(True)
