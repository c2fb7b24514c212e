"""The disclosure method as first written, kept as a reference for the tests only: one LP over
the whole release (every cell a column, published ones fixed), every primary cell's range solved
for in full, and the surviving primary cells certified again after every added suppression. The
product's audit (reporting.disclosure) must choose exactly the same cells."""

from __future__ import annotations

import math

import highspy
import numpy as np

from reporting.disclosure import (
    _EPS,
    _TRIALS,
    _ZERO_MISSING,
    PRIMARY,
    SECONDARY,
    TOTAL,
    Key,
    Protection,
    Release,
)


class _Model:
    """The release as one LP: every cell a column; published cells fixed at their value."""

    def __init__(self, release: Release, keys: list[Key]) -> None:
        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        self.values = np.array([release.values[k] for k in keys], dtype=float)
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
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

    def _solve(self, key: Key, sense: highspy.ObjSense) -> float:
        i = self.index[key]
        self.h.changeColCost(i, 1.0)
        self.h.changeObjectiveSense(sense)
        self.h.run()
        status = self.h.getModelStatus()
        value = self.h.getInfo().objective_function_value
        self.h.changeColCost(i, 0.0)  # (this resets the solver's answer: read it first)
        if status == highspy.HighsModelStatus.kUnbounded:
            return math.inf if sense == highspy.ObjSense.kMaximize else -math.inf
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the solver answered {status} for {key}")
        return value

    def extreme_sum(self, keys: list[Key], *, maximise: bool) -> dict[Key, float]:
        """One solution maximising (or minimising) the sum of `keys`."""
        indices = [self.index[k] for k in keys]
        for i in indices:
            self.h.changeColCost(i, 1.0)
        self.h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.h.run()
        status = self.h.getModelStatus()
        solution = list(self.h.getSolution().col_value)
        for i in indices:
            self.h.changeColCost(i, 0.0)
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the solver answered {status}")
        return {k: solution[self.index[k]] for k in keys}

    def maximum(self, key: Key) -> float:
        return self._solve(key, highspy.ObjSense.kMaximize)

    def minimum(self, key: Key) -> float:
        return self._solve(key, highspy.ObjSense.kMinimize)


def _floor(x: float) -> float:
    return x if math.isinf(x) else math.floor(x + _EPS)


def _ceil(x: float) -> float:
    return x if math.isinf(x) else math.ceil(x - _EPS)


class _ReferenceAuditor:
    """Decides secondary suppressions with exact LPs over the whole release (one model:
    published cells are fixed columns, hidden cells free ones between 0 and their Scotland
    figure, which no cell can exceed and which keeps every LP bounded)."""

    def __init__(self, release: Release, threshold: int, width: int) -> None:
        self.release = release
        self.threshold = threshold
        self.width = width
        self.keys = sorted(release.values)
        self.hidden: dict[Key, str] = {}
        self.by_cell: dict[Key, list[int]] = {}
        for n, constraint in enumerate(release.constraints):
            for k, _ in constraint.terms:
                self.by_cell.setdefault(k, []).append(n)
        self.scotland: dict[Key, int] = {}
        self.column_cells: dict[Key, list[Key]] = {}
        for constraint in release.constraints:
            if constraint.equal and all(c == 1 for _, c in constraint.terms):
                cells = [k for k, _ in constraint.terms]
                for k in cells:
                    self.scotland[k] = constraint.rhs
                    self.column_cells[k] = cells
        self.model = _Model(release, self.keys)
        self.hidden_in: dict[int, set[Key]] = {}

    def hide(self, key: Key, kind: str) -> None:
        self.hidden[key] = kind
        self.hidden_in.setdefault(key[0], set()).add(key)
        self.model.set_bounds(key, 0.0, self._cap(key))

    def unhide(self, key: Key) -> None:
        del self.hidden[key]
        self.hidden_in[key[0]].discard(key)
        self.model.publish(key)

    def _cap(self, key: Key) -> float:
        return float(self.scotland.get(key, highspy.kHighsInf))

    # What the solver says --------------------------------------------------------------------

    def _width_needed(self, key: Key) -> int:
        # A Scotland figure below the width caps every range under it.
        return min(self.width, self.scotland.get(key, self.width))

    def _passes(self, key: Key, low: float, high: float) -> bool:
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

    def certify(self, keys: list[Key]) -> list[Key]:
        """Primary cells shown to pass by two feasible solutions that move them all at once (the
        true figures are a third)."""
        high = self.model.extreme_sum(keys, maximise=True)
        low = self.model.extreme_sum(keys, maximise=False)
        values = self.release.values
        return [
            k
            for k in keys
            if self._passes(
                k,
                _ceil(min(low[k], values[k])),
                _floor(max(high[k], values[k])),
            )
        ]

    def shortfall(self, key: Key) -> float:
        """How far the primary cell is from passing (0 when it passes): its range must reach 0 or
        the threshold and be `width` wide (or as wide as its Scotland figure)."""
        low = _ceil(self.model.minimum(key))
        high = _floor(self.model.maximum(key))
        if self._passes(key, low, high):
            return 0.0
        missing = 0.0 if (low <= 0 or high >= self.threshold) else low
        missing += max(0.0, self._width_needed(key) - (high - low))
        if not missing and not self._zero_beside(key, high):
            return _ZERO_MISSING
        return missing + (0.0 if self._zero_beside(key, high) else _ZERO_MISSING)

    # Choosing secondary cells ----------------------------------------------------------------

    def _near(self, key: Key, authorities: frozenset[int] | None = None) -> list[list[Key]]:
        """Published cells (of `authorities`, or any) by distance from `key` through
        constraints and hidden cells."""
        seen_cells = {key}
        seen_constraints: set[int] = set()
        frontier = [key]
        levels: list[list[Key]] = []
        while frontier:
            level: list[Key] = []
            hidden_next: list[Key] = []
            for cell in frontier:
                for n in self.by_cell.get(cell, []):
                    if n in seen_constraints:
                        continue
                    seen_constraints.add(n)
                    for k, _ in self.release.constraints[n].terms:
                        if k in seen_cells:
                            continue
                        seen_cells.add(k)
                        if k in self.hidden:
                            hidden_next.append(k)
                        elif authorities is None or k[0] in authorities:
                            level.append(k)
            if level:
                levels.append(sorted(level))
            frontier = hidden_next
        return levels

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
        levels = self._near(key)
        if not levels:
            return False
        candidates = self._ranked(levels[0], gap)
        if gap == _ZERO_MISSING:  # only a hidden zero beside it is missing
            values = self.release.values
            candidates = [
                k for k in self.column_cells[key] if values[k] == 0 and k not in self.hidden
            ]
        best: tuple[float, int, Key] | None = None
        for order, candidate in enumerate(candidates[:_TRIALS]):
            self.hide(candidate, SECONDARY)
            after = self.shortfall(key)
            self.unhide(candidate)
            if best is None or (after, order) < (best[0], best[1]):
                best = (after, order, candidate)
            if after == 0:
                break
        assert best is not None
        self.hide(best[2], SECONDARY)
        return True

    def protect(self, primaries: list[Key]) -> None:
        """Widen failing primary cells until all pass. Each added cell can help many others, so
        the survivors are certified again in one batch after every addition."""
        unresolved = list(primaries)
        while unresolved:
            passed = set(self.certify(unresolved))
            unresolved = [k for k in unresolved if k not in passed]
            while unresolved:
                key = unresolved[0]
                gap = self.shortfall(key)
                if gap == 0 or not self.widen(key, gap):
                    # passed, or everything it is linked to is hidden: as safe as it can be
                    unresolved.pop(0)
                    continue
                break


def _subtraction_pass(release: Release, auditor: _ReferenceAuditor) -> None:
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


def reference_protect_release(
    release: Release, *, threshold: int, width: int | None = None
) -> Protection:
    """The suppressed cells the method chooses, found the slow way."""
    width = threshold if width is None else width
    for constraint in release.constraints:
        if not constraint.holds(release.values):
            raise ValueError(f"a stated fact does not hold for these figures: {constraint}")
    auditor = _ReferenceAuditor(release, threshold, width)
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
