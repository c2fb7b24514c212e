"""Disclosure control: small counts hidden, and no hidden value recoverable from a total."""

import itertools
import random

from reporting.disclosure import PRIMARY, SECONDARY, TOTAL, protect, recoverable


def test_counts_from_one_to_four_are_suppressed_and_zero_is_shown():
    table = protect([[0, 3, 12], [4, 5, 20], [6, 0, 7]], with_row_totals=True, threshold=5)
    assert table.shown(0, 0) == 0
    assert table.shown(2, 1) == 0
    assert table.flags[(0, 1)] == PRIMARY
    assert table.flags[(1, 0)] == PRIMARY
    assert table.shown(1, 1) != 4


def test_a_row_with_one_small_cell_also_hides_its_smallest_other_cell():
    table = protect([[3, 7, 9, 0], [10, 11, 12, 13]], with_row_totals=True, threshold=5)
    assert table.flags[(0, 0)] == PRIMARY
    assert table.flags[(0, 1)] == SECONDARY  # 7 is the smallest other non-zero cell
    assert recoverable(table) == []


def test_a_column_with_one_small_cell_hides_another_so_scotland_totals_reveal_nothing():
    table = protect([[2], [40], [30]], with_row_totals=False, threshold=5)
    assert table.flags == {(0, 0): PRIMARY, (2, 0): SECONDARY}
    assert recoverable(table) == []


def test_a_row_whose_only_non_zero_cell_is_hidden_hides_its_total_instead():
    # Column 0 forces its cell 8 to be hidden; row 1 then has no other non-zero cell.
    table = protect([[3, 20], [8, 0], [9, 9]], with_row_totals=True, threshold=5)
    assert (1, 0) in table.flags
    assert table.flags.get((1, TOTAL)) == SECONDARY
    assert recoverable(table) == []


def test_no_suppressed_value_is_ever_recoverable_from_row_or_column_totals():
    rng = random.Random(20250925)
    for _ in range(300):
        rows, columns = rng.randint(2, 8), rng.randint(1, 6)
        cells = [
            [rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30]) for _ in range(columns)]
            for _ in range(rows)
        ]
        for with_totals in (True, False):
            table = protect(cells, with_row_totals=with_totals, threshold=5)
            assert recoverable(table) == []
            for r, c in itertools.product(range(rows), range(columns)):
                if 0 < cells[r][c] < 5:
                    assert table.shown(r, c) == "c"


def test_a_lone_small_count_in_a_column_hides_a_zero_rather_than_leak_through_scotland():
    table = protect([[0, 9], [3, 9]], with_row_totals=False, threshold=5)
    assert table.flags == {(1, 0): PRIMARY, (0, 0): SECONDARY}


def test_the_threshold_is_a_setting():
    assert protect([[5, 9]], with_row_totals=False, threshold=6).shown(0, 0) == "c"
    assert protect([[5, 9]], with_row_totals=False, threshold=5).shown(0, 0) == 5
