"""National figures on screen, read from built national releases only.

Pure functions over a stored release (`documents.national_release`: every published figure of a
national file, suppression marks included) and over one return's own tables (the lead's movement
chart). They never see a person, never run disclosure control and never add up returns: what the
national figures page shows is what a national file published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import mark_safe

from registers.codes import Category, UrgentReason

from .builders.charts import flow_bars, line_chart
from .documents import flat_columns, grid_sheet
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


def _release_table(release: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((t for t in release["tables"] if t["key"] == key), None)


def _headline(table: dict[str, Any] | None, row: str | None) -> tuple[int | None, int | None]:
    """(Scotland value, index into each authority's published row) of a headline figure: a row
    key picks that row's first cell; None the table's total (an authority's Total column)."""
    if table is None:
        return None, None
    cells = table["scotland"]
    if row is None:
        if not table["additive"]:
            return None, None
        return sum(sum(r) for r in cells), len(flat_columns(table))
    rows = [r for r, _ in table["rows"]]
    if row not in rows:
        return None, None
    i = rows.index(row)
    return cells[i][0], i * len(table["columns"])


def release_headlines(release: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a stored national release, read from its published cells only:
    Scotland's in full, each included authority's as published (a suppressed cell stays `c`).
    Computed when the release is built and stored with it, so the trends across census dates read
    a few numbers per date."""
    scotland: dict[str, int | None] = {}
    positions = []
    for key, _, (table_key, row) in HEADLINES:
        table = _release_table(release, table_key)
        value, index = _headline(table, row)
        scotland[key] = value
        positions.append((table, index))
    authorities = []
    for a, ret in enumerate(release["returns"]):
        values: list[Value | None] = []
        for table, index in positions:
            if table is None or index is None or table["by_authority"] is None:
                values.append(None)
            else:
                values.append(table["by_authority"][a][index])
        authorities.append({"code": ret["code"], "name": ret["name"], "values": values})
    return {
        "returns": len(release["returns"]),
        "accepted": sum(1 for r in release["returns"] if r["status"] == "accepted"),
        "scotland": scotland,
        "authorities": authorities,
    }


@dataclass
class TrendPoint:
    census_date: dt.date
    returns: int  # returns in the release (0: no national release for the date)
    values: dict[str, int | None] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return self.returns > 0


def trend(dates: list[dt.date], headlines: dict[dt.date, dict[str, Any]]) -> list[TrendPoint]:
    """Scotland's trend figures at each census date (oldest first), from each date's latest
    national release (`headlines`: the stored headline figures by date)."""
    points = []
    for day in sorted(dates):
        found = headlines.get(day)
        if found is None:
            points.append(TrendPoint(day, 0))
        else:
            points.append(TrendPoint(day, found["returns"], dict(found["scotland"])))
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


def release_movement(release: dict[str, Any]) -> dict[str, Any] | None:
    """Scotland's movement table as the release publishes it (None when the release has none)."""
    table = _release_table(release, "category_movement")
    return None if table is None else dict(table, cells=table["scotland"])


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
