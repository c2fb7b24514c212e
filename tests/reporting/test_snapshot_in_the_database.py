"""The census snapshot is rebuilt by the database (reporting/snapshots.py) exactly as it was rebuilt
in Python (tests/reporting/python_census.py, kept as the reference).

The property: on random histories (entries back-dated across both census dates, several on one
day, people added and leaving in the quarter, people with no history or with history only after
the census date, ages either side of 18 on the census date, CHI numbers that disagree with the
date of birth or sex), every snapshot row and every movement count is the same, both read
(`reconstruct`) and stored (`take_snapshot`).
"""

import datetime as dt
import itertools

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registers import access
from registers.codes import ChangeKind
from registers.models import StatusChange
from registers.validation import make_chi
from reporting import services, snapshots
from reporting.census import previous_census_date
from reporting.models import SnapshotRow
from tests.factories import PersonFactory
from tests.reporting import python_census

pytestmark = pytest.mark.django_db

CENSUS = dt.date(2025, 9, 25)
PREVIOUS = previous_census_date(CENSUS)
# Days around the two census dates, where the counts turn.
EDGES = [PREVIOUS, CENSUS]
_serials = itertools.count(500)

# Half the days fall on, or a day either side of, one of the two census dates.
day = st.sampled_from(
    [edge + dt.timedelta(days=d) for edge in EDGES for d in (-1, 0, 1)]
) | st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 1, 31))
optional_day = st.none() | day
STATES = [
    {"category": "enhanced_monitoring", "urgent_reason": None},
    {"category": "enhanced_monitoring", "urgent_reason": ""},
    {"category": "appropriate_out_of_area", "urgent_reason": None},
    {"category": "urgent", "urgent_reason": "in_hospital"},
    {"category": "urgent", "urgent_reason": "inappropriate_out_of_area"},
    {"category": "urgent", "urgent_reason": "at_risk_of_breakdown"},
]
entry = st.fixed_dictionaries(
    {
        "effective": day,
        "minute": st.integers(0, 2),
        "state": st.sampled_from(STATES),
        "date_added": day,
        "date_left": optional_day,
        "leaving_reason": st.sampled_from([None, "", "died", "moved_away"]),
        "locality": st.integers(0, 1),
        "risk_rating": st.sampled_from([None, "", "red", "amber"]),
        "ready": optional_day,
        "placement_chosen": st.sampled_from([None, True, False]),
        "host_area": st.sampled_from([None, "", "S12000036"]),
        # Sets the review due date ([old, new]; the new one may be cleared), or not.
        "review": st.none() | st.tuples(optional_day),
    }
)
person = st.fixed_dictionaries(
    {
        # Either side of 18 on the census date (and a 29 February birthday), or well past it.
        "born": st.sampled_from(
            [
                dt.date(2007, 9, 25),
                dt.date(2007, 9, 26),
                dt.date(2007, 9, 24),
                dt.date(2007, 6, 26),
                dt.date(2008, 2, 29),
                dt.date(1990, 5, 17),
            ]
        ),
        "sex": st.sampled_from(["female", "male", "not_known"]),
        # The CHI number: none, the person's own, or one for another birthday or sex.
        "chi": st.sampled_from(["none", "own", "other_birthday", "other_sex"]),
        "locality": st.integers(0, 1),
        "entries": st.lists(entry, max_size=5),
    }
)


def _chi(born: dt.date, sex: str, kind: str) -> str | None:
    if kind == "none":
        return None
    if kind == "other_birthday":
        born = born - dt.timedelta(days=3)
    if kind == "other_sex":
        sex = "female" if sex == "male" else "male"
    while True:
        chi = make_chi(born, sex, next(_serials))
        if chi:
            return chi


def _iso(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _history(record, localities, entries, version=1):
    base = timezone.now().replace(second=0, microsecond=0)
    rows = []
    for n, item in enumerate(entries):
        state = {
            **item["state"],
            "locality_id": localities[item["locality"]].pk,
            "risk_rating": item["risk_rating"],
            "date_added": _iso(item["date_added"]),
            "date_left": _iso(item["date_left"]),
            "leaving_reason": item["leaving_reason"],
            "ready_for_discharge_date": _iso(item["ready"]),
            "placement_chosen": item["placement_chosen"],
            "host_area": item["host_area"],
            "hospital_type": "ld_inpatient" if item["state"]["urgent_reason"] else None,
            "admission_date": _iso(item["ready"]),
        }
        changes = (
            {} if item["review"] is None else {"next_review_due": [None, _iso(item["review"][0])]}
        )
        rows.append(
            StatusChange(
                authority_id=record.authority_id,
                person=record,
                kind=ChangeKind.STATUS,
                changed_at=base + dt.timedelta(minutes=item["minute"]),
                effective_date=item["effective"],
                new_category=state["category"],
                state=state,
                changes=changes,
                version=version + n,
            )
        )
    return rows


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person, min_size=1, max_size=6))
def test_the_snapshot_rebuilt_in_the_database_equals_the_one_rebuilt_in_python(
    authority, nithsdale, stewartry, people
):
    localities = [nithsdale, stewartry]
    with transaction.atomic():
        for spec in people:
            record = PersonFactory(
                locality=localities[spec["locality"]],
                date_of_birth=spec["born"],
                sex=spec["sex"],
                chi_number=_chi(spec["born"], spec["sex"], spec["chi"]),
            )
            StatusChange.objects.bulk_create(_history(record, localities, spec["entries"]))
        with access.using_scope(services.task_scope(authority.pk)):
            expected = python_census.reconstruct(authority.pk, CENSUS)
            read = snapshots.reconstruct(authority.pk, CENSUS)
            assert read.rows == expected.rows
            assert read.movement == expected.movement
            snapshot = services.take_snapshot(None, authority_id=authority.pk, census_date=CENSUS)
            stored = list(
                SnapshotRow.objects.filter(snapshot=snapshot)
                .order_by("person_id")
                .values(*snapshots.ROW_COLUMNS)
            )
        assert stored == expected.rows
        assert (snapshot.people, snapshot.movement) == (len(expected.rows), expected.movement)
        transaction.set_rollback(True)


def test_the_snapshot_is_one_statement_however_many_people(
    authority, nithsdale, django_assert_max_num_queries
):
    for size in (3, 30):
        for record in PersonFactory.create_batch(size, locality=nithsdale):
            StatusChange.objects.bulk_create(
                _history(
                    record,
                    [nithsdale, nithsdale],
                    [
                        {
                            "effective": dt.date(2025, 5, 1),
                            "minute": 0,
                            "state": STATES[3],
                            "date_added": dt.date(2025, 5, 1),
                            "date_left": None,
                            "leaving_reason": None,
                            "locality": 0,
                            "risk_rating": None,
                            "ready": None,
                            "placement_chosen": None,
                            "host_area": None,
                            "review": (dt.date(2025, 12, 1),),
                        }
                    ],
                )
            )
        with (
            access.using_scope(services.task_scope(authority.pk)),
            django_assert_max_num_queries(12),
        ):
            snapshot = services.take_snapshot(None, authority_id=authority.pk, census_date=CENSUS)
        assert snapshot.people == SnapshotRow.objects.filter(snapshot=snapshot).count()
