"""What goes into each file, as plain sheets the CSV, XLSX and PDF builders all render.

A sheet: a title, a header row, body rows (a label then values; a value is a count or "c"), and an
optional total row. Authority documents hold the authority's own unsuppressed figures (they never
leave it); national documents are built only from submitted or accepted returns, with disclosure
control applied to every figure below Scotland level before any sheet exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .disclosure import PRIMARY, SUPPRESSED, TOTAL, protect

Value = int | str
MINIMUM_RETURNS = 2


@dataclass
class Sheet:
    key: str
    title: str
    header: list[str]
    rows: list[list[Value]]
    total: list[Value] | None = None


@dataclass
class Document:
    title: str
    census_date: dt.date
    area: str
    sheets: list[Sheet]
    notes: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)  # "where: primary|secondary"
    personal: bool = False  # holds figures small enough to identify people

    @property
    def marking(self) -> str:
        return "OFFICIAL-SENSITIVE" if self.personal else "OFFICIAL"


DEFINITIONS = [
    "Census date: the last Thursday of March, June, September and December; the register is "
    "counted as it stood at the end of that day.",
    "Counted: adults (18 and over on the census date) added on or before the census date who had "
    "not left by the end of it. People aged 16-17 in transition are not counted.",
    "Delayed discharge: in hospital, clinically ready for discharge before the census date.",
    "Length of stay and time delayed are whole months from the admission or ready-for-discharge "
    "date to the census date.",
    "Movement in the quarter: people added or leaving after the previous census date up to this "
    "one; 'moved between categories' counts people on the register on both dates whose category "
    "or urgent reason differs.",
]


def grid_sheet(table: dict[str, Any], *, prefix: str = "") -> Sheet:
    """One table as it stands for a single area (unsuppressed)."""
    columns = [label for _, label in table["columns"]]
    with_totals = table["additive"] and len(columns) > 1
    header = ["", *columns]
    if with_totals:
        header.append("Total")
    rows: list[list[Value]] = []
    for (_, label), cells in zip(table["rows"], table["cells"], strict=True):
        rows.append([label, *cells, *([sum(cells)] if with_totals else [])])
    total = None
    if table["additive"]:
        sums = [sum(col) for col in zip(*table["cells"], strict=True)] if table["cells"] else []
        total = ["Total", *sums, *([sum(sums)] if with_totals else [])]
    return Sheet(
        key=table["key"], title=prefix + table["title"], header=header, rows=rows, total=total
    )


def authority_document(ret: Any, *, authority_name: str) -> Document:
    return Document(
        title=f"{authority_name}: quarterly return",
        census_date=ret.census_date,
        area=authority_name,
        sheets=[grid_sheet(t) for t in ret.tables],
        notes=[
            *DEFINITIONS,
            "These are the authority's own unsuppressed figures: they hold small numbers and "
            "stay within the authority. The national return applies disclosure control.",
            "People in transition (under 18 on the census date), not counted: "
            f"{ret.in_transition}.",
        ],
        personal=True,
    )


def sum_tables(returns: list[Any]) -> list[dict[str, Any]]:
    """Scotland's tables: every return's cells added up (same shape in every return)."""
    totals = [dict(t, cells=[list(r) for r in t["cells"]]) for t in returns[0].tables]
    for ret in returns[1:]:
        for total, table in zip(totals, ret.tables, strict=True):
            for i, row in enumerate(table["cells"]):
                for j, value in enumerate(row):
                    total["cells"][i][j] += value
    return totals


def _flat_columns(table: dict[str, Any]) -> list[str]:
    if len(table["columns"]) == 1:
        return [label for _, label in table["rows"]]
    return [f"{r}: {c}" for _, r in table["rows"] for _, c in table["columns"]]


def by_authority_sheet(
    index: int, returns: list[Any], names: list[tuple[str, str]], threshold: int
) -> tuple[Sheet, list[str]]:
    """One table with a row per authority, suppressed; and the log of suppressed cells."""
    table = returns[0].tables[index]
    matrix = [[v for row in ret.tables[index]["cells"] for v in row] for ret in returns]
    protected = protect(matrix, with_row_totals=table["additive"], threshold=threshold)
    columns = _flat_columns(table)
    header = ["Code", "Integration Authority", *columns]
    if table["additive"]:
        header.append("Total")
    rows: list[list[Value]] = []
    log: list[str] = []
    for r, (code, name) in enumerate(names):
        shown = [protected.shown(r, c) for c in range(len(columns))]
        if table["additive"]:
            shown.append(protected.shown(r, TOTAL))
        rows.append([code, name, *shown])
    for (r, c), why in sorted(protected.flags.items()):
        column = "Total" if c == TOTAL else columns[c]
        kind = "primary (small count)" if why == PRIMARY else "secondary (protects another cell)"
        log.append(f"{table['title']} - {names[r][1]} - {column}: {kind}")
    sums = [sum(col) for col in zip(*matrix, strict=True)] if matrix else [0] * len(columns)
    total = ["", "Scotland", *sums, *([sum(sums)] if table["additive"] else [])]
    sheet = Sheet(
        key=f"ia_{table['key']}",
        title=f"By authority: {table['title']}",
        header=header,
        rows=rows,
        total=total,
    )
    return sheet, log


def national_document(
    census_date: dt.date, returns: list[Any], *, threshold: int, all_authorities: int
) -> Document:
    """Scotland totals and per-authority tables from submitted or accepted returns.

    With one return, Scotland's totals would be that authority's own unsuppressed figures, so at
    least two are needed before anything is published.
    """
    if len(returns) < MINIMUM_RETURNS:
        raise ValidationError(
            "At least two authorities' returns must be submitted before national figures can be "
            "published without disclosing one authority's small counts."
        )
    names = [(ret.authority.code, ret.authority.name) for ret in returns]
    sheets = [
        Sheet(
            key="submissions",
            title="Returns included",
            header=["Code", "Integration Authority", "Status"],
            rows=[
                [c, n, ret.get_status_display()] for (c, n), ret in zip(names, returns, strict=True)
            ],
        )
    ]
    suppressed: list[str] = []
    sheets += [grid_sheet(t, prefix="Scotland: ") for t in sum_tables(returns)]
    for index in range(len(returns[0].tables)):
        sheet, log = by_authority_sheet(index, returns, names, threshold)
        sheets.append(sheet)
        suppressed += log
    notes = [
        *DEFINITIONS,
        f"Returns included: {len(returns)} of {all_authorities} Integration Authorities "
        "(submitted or accepted). Scotland figures are the sum of the returns included.",
        f"Disclosure control: below Scotland level, counts from 1 to {threshold - 1} are shown as "
        f"'{SUPPRESSED}'; zero is shown. Secondary suppression: every published total covers "
        "either no suppressed cell or at least two, so no suppressed value can be found by "
        "subtraction. Scotland totals are always published.",
        f"Cells suppressed: {len(suppressed)} (listed below, without their values).",
    ]
    return Document(
        title="Dynamic Support Register: national return",
        census_date=census_date,
        area="Scotland",
        sheets=sheets,
        notes=notes,
        suppressed=suppressed,
    )
