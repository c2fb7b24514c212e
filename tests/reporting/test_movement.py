"""Movement between census dates: from where each person stood at the previous census to where
they stand at this one, computed from the register's history by the census code."""

import datetime as dt

import pytest

from registers import services as registers
from reporting.tables import MOVEMENT_FROM, MOVEMENT_TO
from tests.reporting.conftest import build_return
from tests.reporting.test_snapshots import add, snapshot_of

pytestmark = pytest.mark.django_db


def matrix(ret):
    table = next(t for t in ret.tables if t["key"] == "category_movement")
    return {
        (r, c): table["cells"][i][j]
        for i, (r, _) in enumerate(table["rows"])
        for j, (c, _) in enumerate(table["columns"])
        if table["cells"][i][j]
    }


def test_movement_counts_who_came_home_from_hospital_who_joined_and_who_left(
    lead, nithsdale, authority, census
):
    came_home = add(
        lead,
        nithsdale,
        "DG-1",
        category="urgent",
        urgent_reason="in_hospital",
        risk_rating="",
        hospital_name="Midpark",
        hospital_type="ld_inpatient",
        legal_status="informal",
        hospital_in_area=True,
        admission_date=dt.date(2024, 11, 1),
    )
    registers.record_status_change(
        lead,
        came_home,
        version=came_home.version,
        category="enhanced_monitoring",
        risk_rating="amber",
        reason="Discharged home with a new provider",
        effective_date=dt.date(2025, 8, 4),
    )
    add(lead, nithsdale, "DG-2")  # stayed in enhanced monitoring
    add(lead, nithsdale, "DG-3", date_added=dt.date(2025, 7, 20))  # joined in the quarter
    leaver = add(lead, nithsdale, "DG-4")
    registers.remove_from_register(
        lead, leaver, version=leaver.version, date_left=dt.date(2025, 9, 1), leaving_reason="died"
    )
    add(lead, nithsdale, "DG-5", date_of_birth=dt.date(2010, 1, 1))  # in transition: not counted

    ret = build_return(authority)

    assert matrix(ret) == {
        ("in_hospital", "enhanced_monitoring"): 1,
        ("enhanced_monitoring", "enhanced_monitoring"): 1,
        ("not_on_register", "enhanced_monitoring"): 1,
        ("enhanced_monitoring", "left_register"): 1,
    }


def test_movement_agrees_with_the_quarters_added_left_and_moved_counts(
    lead, nithsdale, authority, census
):
    add(lead, nithsdale, "DG-1", date_added=dt.date(2025, 7, 2))
    gone = add(lead, nithsdale, "DG-2", date_added=dt.date(2025, 7, 3))
    registers.remove_from_register(
        lead, gone, version=gone.version, date_left=dt.date(2025, 8, 1), leaving_reason="declined"
    )
    moved = add(lead, nithsdale, "DG-3")
    registers.record_status_change(
        lead,
        moved,
        version=moved.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Provider gave notice",
        effective_date=dt.date(2025, 9, 1),
    )
    snapshot = snapshot_of(authority, census)
    cells = {}
    for origin, row in snapshot.movement["transitions"].items():
        for destination, n in row.items():
            cells[(origin, destination)] = n
    joined = sum(n for (o, _), n in cells.items() if o == "not_on_register")
    left = sum(n for (_, d), n in cells.items() if d == "left_register")
    between = sum(
        n
        for (o, d), n in cells.items()
        if o != d and "not_on_register" not in (o, d) and d != "left_register"
    )
    assert joined == snapshot.movement["added"] == 2
    assert left == sum(snapshot.movement["left"].values()) == 1
    assert between == snapshot.movement["moved_between_categories"] == 1


def test_movement_table_is_labelled_in_words_not_codes(lead, nithsdale, authority, census):
    add(lead, nithsdale, "DG-1")
    ret = build_return(authority)
    table = next(t for t in ret.tables if t["key"] == "category_movement")
    assert [label for _, label in table["rows"]] == [label for _, label in MOVEMENT_FROM]
    assert [label for _, label in table["columns"]] == [label for _, label in MOVEMENT_TO]
    assert "Urgent: in hospital" in [label for _, label in table["rows"]]
    assert "Left the register" in [label for _, label in table["columns"]]
