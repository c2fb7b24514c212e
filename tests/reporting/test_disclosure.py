"""Disclosure control over a whole release: small counts hidden, and no hidden value recoverable
by an attacker who runs a linear program over every published figure of the release."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.disclosure import (
    PRIMARY,
    SUPPRESSED,
    TOTAL,
    Constraint,
    Release,
    attack,
    protect_release,
)
from reporting.documents import linked_release, national_document, protect_returns
from tests.reporting.linked_tables import (
    CENSUS,
    NoSolution,
    fake_return,
    lp_ranges,
    person_row,
    random_returns,
)
from tests.reporting.reference_disclosure import reference_protect_release

T = 5


def narrowed(release, protection, ranges):
    """Primary cells the attacker pins inside 1..T-1 (the failure the method must prevent)."""
    return [
        k
        for k, kind in protection.hidden.items()
        if kind == PRIMARY and ranges[k][0] > 0 and ranges[k][1] < T
    ]


def table_by_table_hidden(release):
    """The old method: primary suppression, then secondary suppression until no equation of one
    table holds exactly one hidden cell; tables linked to each other are not considered."""
    hidden = {k for k, v in release.values.items() if 0 < v < T}
    in_table = [c for c in release.constraints if len({k[:2] for k, _ in c.terms}) == 1]
    in_table += [c for c in release.constraints if len({k[1] for k, _ in c.terms}) == 1]
    changed = True
    while changed:
        changed = False
        for c in in_table:
            cells = [k for k, _ in c.terms]
            if sum(k in hidden for k in cells) == 1:
                rest = [k for k in cells if k not in hidden]
                if rest:
                    hidden.add(
                        min(rest, key=lambda k: (release.values[k] == 0, release.values[k], k))
                    )
                    changed = True
    return hidden


def test_counts_from_one_to_four_are_suppressed_and_shown_with_one_symbol():
    release = Release(
        values={(0, 0, 0): 3, (0, 0, 1): 12, (1, 0, 0): 9, (1, 0, 1): 2},
        constraints=[
            Constraint((((0, 0, 0), 1), ((1, 0, 0), 1)), rhs=12),
            Constraint((((0, 0, 1), 1), ((1, 0, 1), 1)), rhs=14),
        ],
    )
    protection = protect_release(release, threshold=T)
    assert protection.hidden[(0, 0, 0)] == PRIMARY
    assert protection.hidden[(1, 0, 1)] == PRIMARY
    assert protection.shown((0, 0, 0)) == SUPPRESSED == protection.shown((1, 0, 1))


def test_linked_tables_attack_recovers_cells_from_tables_protected_one_by_one_but_not_now():
    # Each authority's urgent total (category table) is the sum of its urgent reasons (another
    # table), its in-hospital count the sum of delayed and not delayed (a third), and so on.
    returns = random_returns(13, [9, 14, 11])
    release = linked_release(returns)
    old = table_by_table_hidden(release)
    old_ranges = lp_ranges(release, old)
    recovered = [
        k for k in old if 0 < release.values[k] < T and old_ranges[k][0] == old_ranges[k][1]
    ]
    assert recovered, "the fixed case reproduces the linked-tables attack on the old method"

    protection = protect_release(release, threshold=T)
    ranges = lp_ranges(release, set(protection.hidden))
    assert narrowed(release, protection, ranges) == []
    for key, kind in protection.hidden.items():
        if kind == PRIMARY and key in recovered:
            assert ranges[key][1] - ranges[key][0] >= min(T, ranges[key][1])


def test_primary_labels_attack_needs_labels_that_published_files_no_longer_carry():
    returns = random_returns(21, [12, 10])
    release = linked_release(returns)
    protection = protect_returns(returns, threshold=T)
    # With labels, the attacker bounds every primary cell by 1..T-1 and narrows the others.
    labelled = {k: T - 1 for k, kind in protection.hidden.items() if kind == PRIMARY}
    with_labels = lp_ranges(release, set(protection.hidden), upper=labelled)
    without = lp_ranges(release, set(protection.hidden))
    assert any(with_labels[k] != without[k] for k in protection.hidden)
    doc = national_document(CENSUS, returns, threshold=T, all_authorities=31, protection=protection)
    text = "\n".join(
        [*doc.notes, *(" ".join(map(str, row)) for s in doc.sheets for row in s.rows)]
    ).lower()
    assert "primary" not in text and "secondary" not in text
    assert "small count" not in text and "protects another" not in text
    published = {
        v for s in doc.sheets if s.key.startswith("ia_") for row in s.rows for v in row[2:]
    }
    assert {v for v in published if isinstance(v, str)} == {SUPPRESSED}


def test_zeros_attack_assuming_every_hidden_cell_is_at_least_one_no_longer_pins_small_counts():
    # Two authorities hold one person each in hospital 10 years or more; the others none.
    rng = random.Random(5)
    groups = []
    for index in range(4):
        rows = [person_row(rng, in_hospital_share=0.0) for _ in range(12)]
        if index < 2:
            rows.append(
                person_row(rng, in_hospital_share=1.0)
                | {"admission_date": CENSUS.replace(year=2010), "ready_for_discharge_date": None}
            )
        groups.append(fake_return(index, rows))
    release = linked_release(groups)
    stays = next(t for t, table in enumerate(groups[0].tables) if table["key"] == "hospital_stay")

    def in_stays(hidden):
        return {k for k in hidden if k[1] == stays}

    old = table_by_table_hidden(release)
    assert not [k for k in in_stays(old) if release.values[k] == 0]
    old_ranges = lp_ranges(release, old, floor_one=in_stays(old))
    pinned = [k for k in in_stays(old) if release.values[k] == 1 and old_ranges[k] == (1, 1)]
    assert pinned, "the fixed case reproduces the zeros attack on the old method"

    protection = protect_release(release, threshold=T)
    hidden = set(protection.hidden)
    assert [k for k in in_stays(hidden) if release.values[k] == 0], "zeros are hidden beside them"
    with pytest.raises(NoSolution):
        lp_ranges(release, hidden, floor_one=in_stays(hidden))
    ranges = lp_ranges(release, hidden)
    assert all(ranges[k][0] == 0 for k in pinned)


def test_published_cells_equal_the_truth_and_scotland_figures_are_never_hidden():
    returns = random_returns(3, [5, 40, 17])
    protection = protect_returns(returns, threshold=T)
    doc = national_document(CENSUS, returns, threshold=T, all_authorities=31, protection=protection)
    sheets = [s for s in doc.sheets if s.key.startswith("ia_")]
    for t, sheet in enumerate(sheets):
        for a, row in enumerate(sheet.rows):
            for k, shown in enumerate(row[2:]):
                column = TOTAL if sheet.header[-1] == "Total" and k == len(row) - 3 else k
                if shown != SUPPRESSED:
                    assert shown == protection.values[(a, t, column)]
        assert SUPPRESSED not in sheet.total


def test_the_same_input_gives_the_same_suppression():
    returns = random_returns(8, [15, 22, 9])
    first = protect_returns(returns, threshold=T).hidden
    assert protect_returns(returns, threshold=T).hidden == first


def test_the_threshold_and_the_protection_width_are_settings():
    returns = random_returns(4, [25, 30])
    release = linked_release(returns)
    five = protect_release(release, threshold=5)
    six = protect_release(release, threshold=6)
    fives = [k for k, v in release.values.items() if v == 5]
    assert fives and all(k in six.hidden for k in fives)
    assert not any(five.hidden.get(k) == PRIMARY for k in fives)
    wide = protect_release(release, threshold=5, width=8)
    assert len(wide.hidden) >= len(five.hidden)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    sizes=st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=3),
)
def test_no_primary_cell_of_a_random_linked_release_can_be_narrowed_inside_one_to_four(seed, sizes):
    returns = random_returns(seed, sizes)
    release = linked_release(returns)
    protection = protect_release(release, threshold=T)
    ranges = lp_ranges(release, set(protection.hidden))
    assert narrowed(release, protection, ranges) == []
    for key, value in release.values.items():
        if 0 < value < T:
            assert key in protection.hidden


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    sizes=st.lists(st.integers(min_value=0, max_value=25), min_size=2, max_size=5),
    threshold=st.sampled_from([3, 5, 6]),
    wider=st.booleans(),
)
def test_the_audit_hides_exactly_the_cells_the_whole_release_reference_audit_hides(
    seed, sizes, threshold, wider
):
    # The audit solves only the ends of a range that seen solutions leave open; the reference
    # solves every range in full over one LP of the whole release. Same cells, same kinds.
    release = linked_release(random_returns(seed, sizes))
    width = threshold + 3 if wider else None
    fast = protect_release(release, threshold=threshold, width=width)
    reference = reference_protect_release(release, threshold=threshold, width=width)
    assert fast.hidden == reference.hidden


def test_the_audit_reports_ranges_an_independent_attacker_finds():
    returns = random_returns(11, [14, 6, 19, 9])
    release = linked_release(returns)
    hidden = set(protect_release(release, threshold=T).hidden)
    assert attack(release, hidden) == lp_ranges(release, hidden)
