"""National figures on screen, from the aggregate tables of accepted returns only.

Pure functions over returns (objects with `.tables`, `.authority` and `.census_date`): they never
see a person. The selectors read the returns in the caller's scope; these shape what the pages
show: headline counts, trends across census dates, and movement between census dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import mark_safe

from registers.codes import Category, UrgentReason

from .builders.charts import flow_bars, line_chart
from .disclosure import TOTAL, Protection
from .documents import MINIMUM_RETURNS, grid_sheet
from .snapshots import LEFT_REGISTER, NOT_ON_REGISTER
from .tables import MOVEMENT_FROM, MOVEMENT_TO, PLACES

Value = int | str

# (key, label, (table key, row key or None for the table's total)): every headline figure is
# one cell, or one row total, of a return's tables, so disclosure control covers it as published.
HEADLINES: list[tuple[str, str, tuple[str, str | None]]] = [
    ("people", "People on the register", ("category", None)),
    ("urgent", "Urgent", ("category", Category.URGENT)),
    ("in_hospital", "In hospital", ("urgent_reason", UrgentReason.IN_HOSPITAL)),
    ("delayed_discharge", "Delayed discharge", ("delayed_discharge", "delayed")),
    (
        "inappropriate_out_of_area",
        "Inappropriately out of area",
        ("urgent_reason", UrgentReason.INAPPROPRIATE_OUT_OF_AREA),
    ),
    (
        "at_risk_of_breakdown",
        "At risk of breakdown",
        ("urgent_reason", UrgentReason.AT_RISK_OF_BREAKDOWN),
    ),
]
TRENDS = [
    ("in_hospital", "In hospital"),
    ("delayed_discharge", "Delayed discharge"),
    ("inappropriate_out_of_area", "Inappropriately out of area"),
    ("at_risk_of_breakdown", "At risk of breakdown"),
]


def _table(ret: Any, key: str) -> dict[str, Any] | None:
    return next((t for t in ret.tables if t["key"] == key), None)


def _position(ret: Any, key: str, row: str | None) -> tuple[int, int] | None:
    """(table index, flat cell index or TOTAL) of a headline in a return's tables."""
    for t, table in enumerate(ret.tables):
        if table["key"] != key:
            continue
        if row is None:
            return t, TOTAL
        rows = [r for r, _ in table["rows"]]
        return t, rows.index(row) * len(table["columns"])
    return None


def headline_value(ret: Any, key: str, row: str | None) -> int:
    table = _table(ret, key)
    if table is None:
        return 0
    if row is None:
        return sum(sum(r) for r in table["cells"])
    rows = [r for r, _ in table["rows"]]
    return table["cells"][rows.index(row)][0]


def scotland_headlines(returns: list[Any]) -> dict[str, int]:
    return {key: sum(headline_value(ret, *where) for ret in returns) for key, _, where in HEADLINES}


@dataclass
class AuthorityLine:
    name: str
    code: str
    values: list[Value] | None  # None: no accepted return for this census date


def authority_headlines(
    authorities: list[Any], returns: list[Any], protection: Protection | None
) -> list[AuthorityLine]:
    """Each authority's headline counts, as a published release shows them: a cell the
    release's disclosure control suppresses is shown as the one symbol (`protection` None: the
    analyst's own unsuppressed view)."""
    index = {ret.authority_id: a for a, ret in enumerate(returns)}
    lines = []
    for authority in authorities:
        a = index.get(authority.pk)
        if a is None:
            lines.append(AuthorityLine(authority.name, authority.code, None))
            continue
        ret = returns[a]
        values: list[Value] = []
        for _, _, (key, row) in HEADLINES:
            where = _position(ret, key, row)
            if protection is not None and where is not None:
                values.append(protection.shown((a, *where)))
            else:
                values.append(headline_value(ret, key, row))
        lines.append(AuthorityLine(authority.name, authority.code, values))
    return lines


@dataclass
class TrendPoint:
    census_date: dt.date
    returns: int
    values: dict[str, int] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        """Scotland figures of fewer than two returns would be one authority's own counts."""
        return self.returns >= MINIMUM_RETURNS


def trend(dates: list[dt.date], returns: list[Any]) -> list[TrendPoint]:
    """Scotland's trend figures at each census date (oldest first), from the returns given."""
    by_date: dict[dt.date, list[Any]] = {}
    for ret in returns:
        by_date.setdefault(ret.census_date, []).append(ret)
    points = []
    for day in sorted(dates):
        included = by_date.get(day, [])
        point = TrendPoint(day, len(included))
        if point.published:
            point.values = scotland_headlines(included)
        points.append(point)
    return points


def trend_charts(points: list[TrendPoint]) -> list[dict[str, Any]]:
    """One chart per trend figure, each with the rows of the data table under it."""
    labels = [f"{p.census_date:%b %Y}" for p in points]
    charts = []
    for key, label in TRENDS:
        series = [p.values.get(key) if p.published else None for p in points]
        charts.append(
            {
                "key": key,
                "title": f"{label}: Scotland, by census date",
                "svg": mark_safe(  # noqa: S308 - built from numbers and escaped labels
                    line_chart(
                        labels,
                        [(label, series)],
                        title=f"{label}: Scotland, by census date",
                        chart_id=f"trend-{key}",
                    )
                ),
                "rows": [(p, p.values.get(key)) for p in points],
            }
        )
    return charts


def movement_sum(returns: list[Any]) -> dict[str, Any] | None:
    """The movement table summed over the returns that have it (None when none has)."""
    tables = [t for t in (_table(ret, "category_movement") for ret in returns) if t]
    if not tables:
        return None
    total = dict(tables[0], cells=[list(r) for r in tables[0]["cells"]])
    for table in tables[1:]:
        for i, row in enumerate(table["cells"]):
            for j, value in enumerate(row):
                total["cells"][i][j] += value
    return total


def movement_view(table: dict[str, Any] | None, *, area: str, chart_id: str) -> dict[str, Any]:
    """The movement table as a sheet, and a chart of who came into and went out of each place."""
    if table is None:
        return {"sheet": None, "chart": None, "flows": []}
    rows = {r: i for i, (r, _) in enumerate(MOVEMENT_FROM)}
    columns = {c: j for j, (c, _) in enumerate(MOVEMENT_TO)}
    cells = table["cells"]
    flows = []
    for key, label in PLACES:
        came_in = sum(cells[rows[o]][columns[key]] for o, _ in MOVEMENT_FROM if o != key)
        went_out = sum(cells[rows[key]][columns[d]] for d, _ in MOVEMENT_TO if d != key)
        flows.append((label, came_in, went_out))
    joined = sum(cells[rows[NOT_ON_REGISTER]])
    left = sum(row[columns[LEFT_REGISTER]] for row in cells)
    title = f"{area}: movement since the previous census date"
    return {
        "sheet": grid_sheet(table, prefix=f"{area}: "),
        "chart": mark_safe(flow_bars(flows, title=title, chart_id=chart_id)),  # noqa: S308
        "flows": flows,
        "joined": joined,
        "left": left,
        "title": title,
    }


def headline_labels() -> list[str]:
    return [label for _, label, _ in HEADLINES]
