"""Statistical disclosure control for figures below Scotland level (domain.md).

A table here is a matrix of counts: one row per area (authority), one column per published cell,
optionally a total per row, and column totals (the Scotland row) that are always published. Each
published total is an equation over its cells; a suppressed value can be recovered by subtraction
exactly when one of those equations holds a single suppressed value. So primary suppression (counts
1 to threshold-1) is followed by secondary suppression until every equation holds none or two and
more: the smallest non-zero cells are added first, then (in a row with no other non-zero cell) the
row total, and only when nothing else is left a zero cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY = "primary"
SECONDARY = "secondary"
SUPPRESSED = "c"

Key = tuple[int, int]  # (row, column); column -1 is the row total
TOTAL = -1


@dataclass
class ProtectedTable:
    cells: list[list[int]]
    row_totals: list[int] | None
    flags: dict[Key, str] = field(default_factory=dict)

    def shown(self, row: int, column: int) -> int | str:
        """The value as published: the count, or "c" when suppressed."""
        if (row, column) in self.flags:
            return SUPPRESSED
        if column == TOTAL:
            return self.row_totals[row]
        return self.cells[row][column]

    def is_suppressed(self, row: int, column: int) -> bool:
        return (row, column) in self.flags

    def equations(self) -> list[list[Key]]:
        return _equations(len(self.cells), _width(self.cells), self.row_totals is not None)


def _width(cells: list[list[int]]) -> int:
    return len(cells[0]) if cells else 0


def _equations(rows: int, columns: int, with_totals: bool) -> list[list[Key]]:
    eqs: list[list[Key]] = []
    if with_totals:
        # Each row total is published (unless suppressed): cells + total form one equation.
        eqs += [[(r, c) for c in range(columns)] + [(r, TOTAL)] for r in range(rows)]
        eqs.append([(r, TOTAL) for r in range(rows)])  # the Scotland total of totals
    eqs += [[(r, c) for r in range(rows)] for c in range(columns)]  # Scotland row
    return eqs


def protect(cells: list[list[int]], *, with_row_totals: bool, threshold: int) -> ProtectedTable:
    """Apply primary and secondary suppression; values are never changed, only flagged."""
    totals = [sum(row) for row in cells] if with_row_totals else None
    table = ProtectedTable(cells=cells, row_totals=totals)

    def value(key: Key) -> int:
        return totals[key[0]] if key[1] == TOTAL else cells[key[0]][key[1]]

    keys = [(r, c) for r in range(len(cells)) for c in range(_width(cells))]
    keys += [(r, TOTAL) for r in range(len(cells))] if totals is not None else []
    for key in keys:
        if 0 < value(key) < threshold:
            table.flags[key] = PRIMARY

    changed = True
    while changed:
        changed = False
        for equation in table.equations():
            hidden = [k for k in equation if k in table.flags]
            if len(hidden) != 1:
                continue
            open_cells = [k for k in equation if k not in table.flags]
            inner = [k for k in open_cells if k[1] != TOTAL and value(k) > 0]
            row_total = [k for k in open_cells if k[1] == TOTAL and value(k) > 0]
            zeros = [k for k in open_cells if value(k) == 0]
            for candidates in (inner, row_total, zeros):
                if candidates:
                    chosen = min(candidates, key=lambda k: (value(k), k))
                    table.flags[chosen] = SECONDARY
                    changed = True
                    break
    return table


def recoverable(table: ProtectedTable) -> list[Key]:
    """Suppressed values that subtraction from a published total would reveal (should be none)."""
    found = []
    for equation in table.equations():
        hidden = [k for k in equation if k in table.flags]
        if len(hidden) == 1:
            found.append(hidden[0])
    return found
