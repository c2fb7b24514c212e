"""Statistical disclosure control over a whole national release, audited by linear programming.

Every table of one census release is one linked system. An attacker of the published files knows
every published cell of every table (the Scotland rows and totals included), that counts are not
negative, and every fact the release states: each authority's row total is the sum of its cells,
each Scotland figure is the sum over authorities, and one authority's tables agree with each other
(its urgent total in one table is the sum of its urgent reasons in another, and so on; see
`reporting.tables.TABLE_LINKS`). Each of these is a linear constraint over the cells below Scotland
level, which are the unknowns.

The method:
1. *Primary* suppression: every cell below Scotland level holding 1 to threshold-1.
2. A quick pass of *secondary* suppression: a constraint holding exactly one hidden cell would give
   it away by subtraction, so another of its cells is hidden (the smallest non-zero one first).
3. The *audit*: for each primary cell, the smallest and largest values it can take consistently with
   everything published, found with the HiGHS linear-programming solver. The audit assumes the
   attacker also knows which hidden cells are non-zero (as they could if zeros were always shown),
   so every non-zero hidden cell is at least 1 in it. A primary cell passes when its range reaches
   the threshold or beyond and is at least `width` wide. Where the published Scotland figures make
   that impossible (a Scotland total below the threshold, say) the cell must reach the widest range
   any suppression could give it, and then either reach the threshold or, for an attacker who
   knows only that counts are not negative, reach 0. A failing primary cell gets another secondary
   suppression (trying the nearest, then the smallest sufficient cells first, keeping the one that
   widens it most) until it passes. Suppressing more only ever widens ranges, so a cell that passed
   stays passed.

The same input gives the same output: cells are visited in a fixed order and ties are broken by
the cell's position.

How the audit is solved (the method above does not depend on it). One LP model of the whole
release is kept and changed in place, and each solve goes on from the last basis (primal simplex:
a solve changes only the objective or one cell's bounds). Every solution is a feasible point, and
stays feasible as more cells are hidden, so the lowest and highest value seen of each cell bound
its range from inside. Passing is monotone in the range, so a primary cell whose seen range
passes needs no LP of its own; an end seen at 0, or at the cell's Scotland figure, is exact; only
the ends still open are solved for. The primary cells are taken in order, each widened until it
passes: as ranges only widen, that chooses the same cells as checking every survivor again after
each addition (`tests/reporting/reference_disclosure.py` keeps that first form, solving every
range in full, and a test compares the two).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np

PRIMARY = "primary"
SECONDARY = "secondary"
SUPPRESSED = "c"
TOTAL = -1

Key = tuple[int, int, int]  # (authority index, table index, column index; TOTAL for the row total)

_EPS = 1e-6
_TRIALS = 2  # candidate cells tried by the solver before one is chosen
_ZERO_MISSING = 0.5  # the shortfall of a cell whose range is wide but has no hidden zero beside it


@dataclass(frozen=True)
class Constraint:
    """sum(coefficient * cell) == rhs, or <= rhs when `equal` is False. `rhs` is published."""

    terms: tuple[tuple[Key, int], ...]
    rhs: int = 0
    equal: bool = True

    def holds(self, values: dict[Key, int]) -> bool:
        total = sum(c * values[k] for k, c in self.terms)
        return total == self.rhs if self.equal else total <= self.rhs


@dataclass
class Release:
    """The cells below Scotland level (published unless suppressed) and what links them."""

    values: dict[Key, int]
    constraints: list[Constraint] = field(default_factory=list)


@dataclass
class Protection:
    """Which cells are hidden, and why (for the internal audit report only)."""

    values: dict[Key, int]
    hidden: dict[Key, str]
    threshold: int
    width: int

    def shown(self, key: Key) -> int | str:
        return SUPPRESSED if key in self.hidden else self.values[key]

    def is_suppressed(self, key: Key) -> bool:
        return key in self.hidden


def _solver_options(h: highspy.Highs) -> None:
    # Solves follow each other on one model, changing only the objective or a cell's bounds: the
    # primal simplex goes on from the last basis in a few iterations (the default dual simplex
    # takes several times longer here).
    h.setOptionValue("simplex_strategy", 4)


class _Model:
    """The release as one LP: every cell a column; published cells fixed at their value."""

    def __init__(self, release: Release, keys: list[Key]) -> None:
        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        self.values = np.array([release.values[k] for k in keys], dtype=float)
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        _solver_options(self.h)
        inf = highspy.kHighsInf
        n = len(keys)
        self.h.addCols(
            n,
            np.zeros(n),
            self.values.copy(),
            self.values.copy(),
            0,
            np.array([], dtype=np.int32),
            np.array([], dtype=np.int32),
            np.array([], dtype=float),
        )
        for constraint in release.constraints:
            idx = np.array([self.index[k] for k, _ in constraint.terms], dtype=np.int32)
            coef = np.array([c for _, c in constraint.terms], dtype=float)
            lower = float(constraint.rhs) if constraint.equal else -inf
            self.h.addRow(lower, float(constraint.rhs), len(idx), idx, coef)
        self.lower = self.values.copy()
        self.upper = self.values.copy()

    def set_bounds(self, key: Key, lower: float, upper: float) -> None:
        i = self.index[key]
        self.lower[i], self.upper[i] = lower, upper
        self.h.changeColBounds(i, lower, upper)

    def publish(self, key: Key) -> None:
        v = self.values[self.index[key]]
        self.set_bounds(key, v, v)

    def _run(
        self, indices: list[int], maximise: bool
    ) -> tuple[highspy.HighsModelStatus, float, np.ndarray]:
        for i in indices:
            self.h.changeColCost(i, 1.0)
        self.h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.h.run()
        status = self.h.getModelStatus()
        value = self.h.getInfo().objective_function_value
        solution = np.array(self.h.getSolution().col_value)
        for i in indices:
            self.h.changeColCost(i, 0.0)  # (this resets the solver's answer: read it first)
        return status, value, solution

    def extreme(self, key: Key, *, maximise: bool) -> tuple[float, np.ndarray | None]:
        """The largest (or smallest) value of `key`, and a solution reaching it (None when
        unbounded)."""
        status, value, solution = self._run([self.index[key]], maximise)
        if status == highspy.HighsModelStatus.kUnbounded:
            return (math.inf if maximise else -math.inf), None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the solver answered {status} for {key}")
        return value, solution

    def extreme_sum(self, keys: list[Key], *, maximise: bool) -> np.ndarray:
        """One solution maximising (or minimising) the sum of `keys`, every column's value."""
        status, _, solution = self._run([self.index[k] for k in keys], maximise)
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the solver answered {status}")
        return solution


class _Linked:
    """The release's constraints with the published cells substituted as constants (for the
    audit report's attack): each constraint keeps its hidden cells and what is left of its
    right-hand side. A constraint with no hidden cell is a check the figures already pass, not
    part of any linear program."""

    def __init__(self, release: Release) -> None:
        self.values = release.values
        self.equal = [c.equal for c in release.constraints]
        self.coefficients: list[dict[Key, int]] = []
        self.rest: list[int] = []  # the right-hand side less the published cells' part
        self.hidden: list[set[Key]] = []
        self.by_cell: dict[Key, list[tuple[int, int]]] = {}
        for n, constraint in enumerate(release.constraints):
            coefficients: dict[Key, int] = {}
            for k, c in constraint.terms:
                coefficients[k] = coefficients.get(k, 0) + c
            self.coefficients.append(coefficients)
            self.rest.append(
                constraint.rhs - sum(c * self.values[k] for k, c in coefficients.items())
            )
            self.hidden.append(set())
            for k, c in coefficients.items():
                self.by_cell.setdefault(k, []).append((n, c))

    def hide(self, key: Key) -> None:
        for n, c in self.by_cell.get(key, ()):
            self.rest[n] += c * self.values[key]
            self.hidden[n].add(key)

    def component(self, key: Key) -> tuple[list[Key], list[int]]:
        """The hidden cells linked to hidden `key` through constraints, and those constraints: the
        only part of the release its range depends on (the rest is fixed or moves independently)."""
        cells = {key}
        rows: set[int] = set()
        stack = [key]
        while stack:
            cell = stack.pop()
            for n, _ in self.by_cell.get(cell, ()):
                if n in rows:
                    continue
                rows.add(n)
                for k in self.hidden[n]:
                    if k not in cells:
                        cells.add(k)
                        stack.append(k)
        return sorted(cells), sorted(rows)


class _ComponentLP:
    """One connected component of hidden cells as an LP of its own: its hidden cells are the
    columns, the constraints that hold them the rows (a cell's range depends on nothing else)."""

    def __init__(
        self,
        linked: _Linked,
        cells: list[Key],
        rows: list[int],
        lower: list[float],
        upper: list[float],
    ) -> None:
        self.cells = cells
        self.index = {k: i for i, k in enumerate(cells)}
        self.lower = np.array(lower, dtype=float)
        inf = highspy.kHighsInf
        starts, columns, coefficients, row_lower, row_upper = [0], [], [], [], []
        for n in rows:
            for k in sorted(linked.hidden[n]):
                columns.append(self.index[k])
                coefficients.append(float(linked.coefficients[n][k]))
            starts.append(len(columns))
            row_lower.append(float(linked.rest[n]) if linked.equal[n] else -inf)
            row_upper.append(float(linked.rest[n]))
        lp = highspy.HighsLp()
        lp.num_col_ = len(cells)
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(len(cells))
        lp.col_lower_ = np.array(lower, dtype=float)
        lp.col_upper_ = np.array(upper, dtype=float)
        lp.row_lower_ = np.array(row_lower, dtype=float)
        lp.row_upper_ = np.array(row_upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = len(cells)
        lp.a_matrix_.num_row_ = len(rows)
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(columns, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(coefficients, dtype=float)
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        _solver_options(self.h)
        self.h.passModel(lp)

    def _solve(self, i: int, *, maximise: bool) -> tuple[float, np.ndarray | None]:
        self.h.changeColCost(i, 1.0)
        self.h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.h.run()
        status = self.h.getModelStatus()
        value = self.h.getInfo().objective_function_value
        solution = np.array(self.h.getSolution().col_value)
        self.h.changeColCost(i, 0.0)  # (this resets the solver's answer: read it first)
        unbounded = [highspy.HighsModelStatus.kUnbounded]
        if maximise:  # a minimum was found first, so the model is feasible
            unbounded.append(highspy.HighsModelStatus.kUnboundedOrInfeasible)
        if status in unbounded:
            return (math.inf if maximise else -math.inf), None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"disclosure audit: the solver answered {status} for {self.cells[i]}"
            )
        return value, solution

    def ranges(self) -> dict[Key, tuple[float, float]]:
        """Every cell's smallest and largest value (rounded inwards to whole counts). A cell
        seen at its lower bound in a solution found for another cell needs no LP for its
        smallest value."""
        lowest = np.full(len(self.cells), math.inf)
        low, point = self._solve(0, maximise=False)  # (first: it tells whether it is feasible)
        lowest[0] = low
        highs = []
        for i in range(len(self.cells)):
            high, at_high = self._solve(i, maximise=True)
            highs.append(_floor(high))
            if at_high is not None:
                np.minimum(lowest, at_high, out=lowest)
        np.minimum(lowest, point, out=lowest)
        found = {}
        for i, k in enumerate(self.cells):
            if _ceil(lowest[i]) > _ceil(self.lower[i]):
                low, point = self._solve(i, maximise=False)
                np.minimum(lowest, point, out=lowest)
                lowest[i] = min(lowest[i], low)
            found[k] = (_ceil(lowest[i]), highs[i])
        return found


def _floor(x: float) -> float:
    return x if math.isinf(x) else math.floor(x + _EPS)


def _ceil(x: float) -> float:
    return x if math.isinf(x) else math.ceil(x - _EPS)


class _Auditor:
    """Decides secondary suppressions with exact LPs over the whole release (one model:
    published cells are fixed columns, hidden cells free ones between 0 and their Scotland
    figure, which no cell can exceed and which keeps every LP bounded). The model is kept and
    changed in place, so each solve starts from the last basis.

    Every solution found is a feasible point, and it stays feasible as more cells are hidden:
    the lowest and highest value seen of each cell bound its range from inside, so a cell whose
    seen values already pass needs no LP, and a cell seen at 0 (or at its Scotland figure) needs
    no LP for that end of its range."""

    def __init__(self, release: Release, threshold: int, width: int) -> None:
        self.release = release
        self.threshold = threshold
        self.width = width
        self.keys = sorted(release.values)
        self.position = {k: i for i, k in enumerate(self.keys)}
        self.hidden: dict[Key, str] = {}
        self.by_cell: dict[Key, list[int]] = {}
        for n, constraint in enumerate(release.constraints):
            for k, _ in constraint.terms:
                self.by_cell.setdefault(k, []).append(n)
        self.cells_of = [frozenset(k for k, _ in c.terms) for c in release.constraints]
        self.scotland: dict[Key, int] = {}
        self.column_cells: dict[Key, list[Key]] = {}
        for constraint in release.constraints:
            if constraint.equal and all(c == 1 for _, c in constraint.terms):
                cells = [k for k, _ in constraint.terms]
                for k in cells:
                    self.scotland[k] = constraint.rhs
                    self.column_cells[k] = cells
        self.model = _Model(release, self.keys)
        self.seen_low = self.model.values.copy()  # each cell's lowest value in a feasible point
        self.seen_high = self.model.values.copy()
        self.version = 0  # changes with every hidden or published cell
        self.exact: dict[Key, tuple[int, float, float]] = {}  # (version, low, high)
        self.trial: list[np.ndarray] | None = None  # a trial's solutions, kept apart
        self.certified = -1  # the version last certified

    def hide(self, key: Key, kind: str) -> None:
        self.hidden[key] = kind
        self.version += 1
        self.model.set_bounds(key, 0.0, self._cap(key))

    def unhide(self, key: Key) -> None:
        del self.hidden[key]
        self.version += 1
        self.model.publish(key)

    def _cap(self, key: Key) -> float:
        return float(self.scotland.get(key, highspy.kHighsInf))

    # What the solver says --------------------------------------------------------------------

    def _width_needed(self, key: Key) -> int:
        # A Scotland figure below the width caps every range under it.
        return min(self.width, self.scotland.get(key, self.width))

    def _passes(self, key: Key, low: float, high: float) -> bool:
        # Monotone: a lower `low` or a higher `high` never turns a pass into a fail, so a range
        # seen from inside (between feasible points) that passes proves the exact range passes.
        reaches = low <= 0 or high >= self.threshold
        return reaches and high - low >= self._width_needed(key) and self._zero_beside(key, high)

    def _zero_beside(self, key: Key, high: float) -> bool:
        """A cell kept safe only by reaching 0 needs a hidden zero among the cells it adds up
        with (when there is one), or a reader who assumes hidden cells are never 0 would pin it."""
        if high >= self.threshold:
            return True
        column = self.column_cells.get(key, [])
        zeros = [k for k in column if self.release.values[k] == 0]
        return not zeros or any(k in self.hidden for k in zeros)

    def _see(self, point: np.ndarray) -> None:
        if self.trial is not None:
            self.trial.append(point)  # feasible only while the trial cell is hidden
        else:
            np.minimum(self.seen_low, point, out=self.seen_low)
            np.maximum(self.seen_high, point, out=self.seen_high)

    def _seen(self, key: Key) -> tuple[float, float]:
        i = self.position[key]
        return _ceil(self.seen_low[i]), _floor(self.seen_high[i])

    def _extreme(self, key: Key, *, maximise: bool) -> float:
        value, point = self.model.extreme(key, maximise=maximise)
        if point is not None:
            self._see(point)
        return _floor(value) if maximise else _ceil(value)

    def certify(self, keys: list[Key]) -> None:
        """Two feasible points that move all `keys` at once (the true figures are a third):
        many primary cells are seen to pass from them without an LP of their own."""
        for maximise in (True, False):
            self._see(self.model.extreme_sum(keys, maximise=maximise))

    def shortfall(self, key: Key) -> float:
        """How far the primary cell is from passing (0 when it passes): its range must reach 0 or
        the threshold and be `width` wide (or as wide as its Scotland figure). An end of the range
        is solved for only when the values seen so far do not settle it."""
        low, high = self._seen(key)
        if self._passes(key, low, high):
            return 0.0
        cached = self.exact.get(key)
        if cached is not None and cached[0] == self.version:
            _, low, high = cached
        else:
            if low > 0:  # (seen at 0, its smallest value is 0)
                low = self._extreme(key, maximise=False)
                if self._passes(key, low, high):
                    return 0.0
            if high < self._cap(key):  # (nor can it exceed its Scotland figure)
                high = self._extreme(key, maximise=True)
            self.exact[key] = (self.version, low, high)
        if self._passes(key, low, high):
            return 0.0
        missing = 0.0 if (low <= 0 or high >= self.threshold) else low
        missing += max(0.0, self._width_needed(key) - (high - low))
        if not missing and not self._zero_beside(key, high):
            return _ZERO_MISSING
        return missing + (0.0 if self._zero_beside(key, high) else _ZERO_MISSING)

    # Choosing secondary cells ----------------------------------------------------------------

    def _nearest(self, key: Key) -> list[Key]:
        """The published cells nearest to `key` through constraints and hidden cells."""
        hidden = self.hidden.keys()
        seen_cells = {key}
        seen_constraints: set[int] = set()
        frontier = {key}
        while frontier:
            fresh: set[Key] = set()
            for cell in frontier:
                for n in self.by_cell.get(cell, ()):
                    if n not in seen_constraints:
                        seen_constraints.add(n)
                        fresh |= self.cells_of[n]
            fresh -= seen_cells
            seen_cells |= fresh
            frontier = fresh & hidden
            level = fresh - frontier
            if level:
                return sorted(level)
        return []

    def _ranked(self, candidates: list[Key], gap: float) -> list[Key]:
        values = self.release.values

        def rank(k: Key) -> tuple:
            v = values[k]
            if v == 0:
                return (2, 0, k[2] == TOTAL, k)
            if v - 1 >= gap:
                return (0, v, k[2] == TOTAL, k)  # the smallest cell that can give enough
            return (1, -v, k[2] == TOTAL, k)

        return sorted(candidates, key=rank)

    def widen(self, key: Key, gap: float) -> bool:
        """Hide one more cell for a failing primary cell: of the nearest published cells, the one
        that leaves it the smallest shortfall (after trying a few, smallest sufficient first).
        False when there is nothing left to hide."""
        nearest = self._nearest(key)
        if not nearest:
            return False
        candidates = self._ranked(nearest, gap)
        if gap == _ZERO_MISSING:  # only a hidden zero beside it is missing
            values = self.release.values
            candidates = [
                k for k in self.column_cells[key] if values[k] == 0 and k not in self.hidden
            ]
        best: tuple[float, int, Key, tuple] | None = None
        for order, candidate in enumerate(candidates[:_TRIALS]):
            self.hide(candidate, SECONDARY)
            self.trial = []
            after = self.shortfall(key)
            exact = self.exact.get(key)
            found = (self.trial, exact if exact and exact[0] == self.version else None)
            self.trial = None
            self.unhide(candidate)
            if best is None or (after, order) < (best[0], best[1]):
                best = (after, order, candidate, found)
            if after == 0:
                break
        assert best is not None
        self.hide(best[2], SECONDARY)
        # What the chosen trial found holds now that its cell is hidden for good.
        points, exact = best[3]
        for point in points:
            self._see(point)
        if exact is not None:
            self.exact[key] = (self.version, exact[1], exact[2])
        return True

    def protect(self, primaries: list[Key]) -> None:
        """Widen failing primary cells, in order, until each passes (or everything it is linked
        to is hidden: as safe as it can be). Suppressing more only widens ranges, so a cell that
        passed stays passed and is not looked at again."""
        for n, key in enumerate(primaries):
            # Two LPs moving every cell still in doubt at once show many to pass (once after
            # each change to what is hidden, when a cell is in doubt).
            if not self._passes(key, *self._seen(key)) and self.certified != self.version:
                self.certify([k for k in primaries[n:] if not self._passes(k, *self._seen(k))])
                self.certified = self.version
            while True:
                gap = self.shortfall(key)
                if gap == 0 or not self.widen(key, gap):
                    break


def _subtraction_pass(release: Release, auditor: _Auditor) -> None:
    """No constraint may hold exactly one hidden cell (it would be found by subtraction)."""
    values = release.values
    changed = True
    while changed:
        changed = False
        for constraint in release.constraints:
            if not constraint.equal:
                continue
            cells = [k for k, _ in constraint.terms]
            hidden = [k for k in cells if k in auditor.hidden]
            if len(hidden) != 1:
                continue
            open_cells = [k for k in cells if k not in auditor.hidden]
            if not open_cells:
                continue
            chosen = min(open_cells, key=lambda k: (values[k] == 0, k[2] == TOTAL, values[k], k))
            auditor.hide(chosen, SECONDARY)
            changed = True


def protect_release(release: Release, *, threshold: int, width: int | None = None) -> Protection:
    """Choose the suppressed cells of a release; values are never changed, only hidden."""
    width = threshold if width is None else width
    for constraint in release.constraints:
        if not constraint.holds(release.values):
            raise ValueError(f"a stated fact does not hold for these figures: {constraint}")
    auditor = _Auditor(release, threshold, width)
    primaries = [k for k in auditor.keys if 0 < release.values[k] < threshold]
    for key in primaries:
        auditor.hide(key, PRIMARY)
    _subtraction_pass(release, auditor)
    auditor.protect(primaries)
    return Protection(
        values=release.values,
        hidden=dict(sorted(auditor.hidden.items())),
        threshold=threshold,
        width=width,
    )


def attack(
    release: Release, hidden: Iterable[Key], *, lower: dict[Key, float] | None = None
) -> dict[Key, tuple[float, float]]:
    """The range of each hidden cell an attacker of the published figures can prove.

    `lower` gives extra lower bounds the attacker assumes (for example 1 for every hidden cell
    when zeros are always shown). Used by the audit report and the tests.
    """
    hidden = sorted(set(hidden))
    linked = _Linked(release)
    for k in hidden:
        linked.hide(k)
    ranges: dict[Key, tuple[float, float]] = {}
    for key in hidden:
        if key in ranges:
            continue
        cells, rows = linked.component(key)
        bounds = [(lower or {}).get(k, 0.0) for k in cells]
        model = _ComponentLP(linked, cells, rows, bounds, [highspy.kHighsInf] * len(cells))
        ranges |= model.ranges()
    return {k: ranges[k] for k in hidden}
