"""What goes into each file, as plain sheets the CSV, XLSX and PDF builders all render.

A sheet: a title, a header row, body rows (a label then values; a value is a count or "c"), and an
optional total row. Authority documents hold the authority's own unsuppressed figures (they never
leave it); national documents are built only from submitted or accepted returns, with disclosure
control applied to every figure below Scotland level before any sheet exists.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .disclosure import (
    PRIMARY,
    SUPPRESSED,
    TOTAL,
    Constraint,
    Key,
    Protection,
    Release,
    attack,
    protect_release,
)
from .tables import SCOTLAND_ONLY_TABLES, TABLE_LINKS, row_label, selected_cells

Value = int | str
MINIMUM_RETURNS = 2


@dataclass
class Sheet:
    key: str
    title: str
    header: list[str]
    rows: list[list[Value]]
    total: list[Value] | None = None

    @property
    def per_authority(self) -> bool:
        """A row per authority (the national file's tables below Scotland level)."""
        return self.key.startswith("ia_")

    @property
    def label_columns(self) -> int:
        """How many leading columns name the row (code and name for a row per authority)."""
        return 2 if self.per_authority or self.key == "submissions" else 1

    @property
    def all_rows(self) -> list[list[Value]]:
        """The body rows and the total row."""
        return [*self.rows, *([self.total] if self.total else [])]

    def parts(self, columns: int, fits: Callable[[Sheet], bool] | None = None) -> list[Sheet]:
        """The sheet cut into parts of at most `columns` value columns, each repeating the row
        labels, so that a wide table fits a page without losing a column. With `fits` (whether a
        part fits the page), a part also takes no more columns than fit, at least one."""
        labels = self.label_columns
        values = len(self.header) - labels
        if values <= columns and (fits is None or fits(self)):
            return [self]
        parts = []
        start = labels
        while start < len(self.header):
            end = min(start + columns, len(self.header))
            part = self._part(start, end, values)
            while fits is not None and end - start > 1 and not fits(part):
                end -= 1
                part = self._part(start, end, values)
            parts.append(part)
            start = end
        return parts

    def _part(self, start: int, end: int, values: int) -> Sheet:
        labels = self.label_columns

        def cut(row: list[Value]) -> list[Value]:
            return [*row[:labels], *row[start:end]]

        return Sheet(
            key=self.key,
            title=f"{self.title} (columns {start - labels + 1} to {end - labels} of {values})",
            header=cut(self.header),
            rows=[cut(row) for row in self.rows],
            total=cut(self.total) if self.total else None,
        )


@dataclass
class Document:
    title: str
    census_date: dt.date
    area: str
    sheets: list[Sheet]
    notes: list[str] = field(default_factory=list)
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
    "Movement between census dates: each adult counted on either census date, by where they "
    "stood at the previous census date (or not on the register) and where they stand at this "
    "one (or left the register); urgent is split by its reason.",
]


def grid_sheet(table: dict[str, Any], *, prefix: str = "") -> Sheet:
    """One table as it stands for a single area (unsuppressed)."""
    columns = [label for _, label in table["columns"]]
    with_totals = table["additive"] and len(columns) > 1
    header = ["", *columns]
    if with_totals:
        header.append("Total")
    rows: list[list[Value]] = []
    for (key, label), cells in zip(table["rows"], table["cells"], strict=True):
        rows.append([row_label(key, label), *cells, *([sum(cells)] if with_totals else [])])
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


def align_tables(returns: list[Any]) -> list[Any]:
    """Keep, in each return (in memory, never saved), the tables every return has: a return
    built before a table was added to the return lacks it, and a release is one shape."""
    if not returns:
        return returns
    common = set.intersection(*({t["key"] for t in ret.tables} for ret in returns))
    for ret in returns:
        if len(common) != len(ret.tables):
            ret.tables = [t for t in ret.tables if t["key"] in common]
    return returns


def sum_tables(returns: list[Any]) -> list[dict[str, Any]]:
    """Scotland's tables: every return's cells added up (same shape in every return)."""
    totals = [dict(t, cells=[list(r) for r in t["cells"]]) for t in returns[0].tables]
    for ret in returns[1:]:
        for total, table in zip(totals, ret.tables, strict=True):
            for i, row in enumerate(table["cells"]):
                for j, value in enumerate(row):
                    total["cells"][i][j] += value
    return totals


def flat_columns(table: dict[str, Any]) -> list[str]:
    if len(table["columns"]) == 1:
        return [row_label(key, label) for key, label in table["rows"]]
    return [f"{row_label(key, r)}: {c}" for key, r in table["rows"] for _, c in table["columns"]]


def _flat(table: dict[str, Any]) -> list[int]:
    return [v for row in table["cells"] for v in row]


def linked_release(returns: list[Any]) -> Release:
    """Every cell below Scotland level of a national release, and every fact linking them.

    Cells are keyed (return index, table index, column); TOTAL is an authority's row total. The
    facts: each published row total is the sum of its row, each Scotland figure (always published)
    is the sum over authorities, and one authority's tables agree with each other (TABLE_LINKS).
    An inequality that the figures meet exactly is stated as an equation: an attacker who guessed
    it would be right, so the audit assumes they know it.
    """
    values: dict[Key, int] = {}
    constraints: list[Constraint] = []
    shape = returns[0].tables
    for a, ret in enumerate(returns):
        for t, table in enumerate(ret.tables):
            if table["key"] in SCOTLAND_ONLY_TABLES:
                continue  # published for Scotland only: no cell below Scotland level
            flat = _flat(table)
            for k, v in enumerate(flat):
                values[(a, t, k)] = v
            if table["additive"]:
                values[(a, t, TOTAL)] = sum(flat)
                terms = [((a, t, k), 1) for k in range(len(flat))] + [((a, t, TOTAL), -1)]
                constraints.append(Constraint(tuple(terms)))
    for t, table in enumerate(shape):
        if table["key"] in SCOTLAND_ONLY_TABLES:
            continue
        columns = list(range(len(_flat(table)))) + ([TOTAL] if table["additive"] else [])
        for k in columns:
            terms = tuple(((a, t, k), 1) for a in range(len(returns)))
            constraints.append(Constraint(terms, rhs=sum(values[key] for key, _ in terms)))
    position = {table["key"]: t for t, table in enumerate(shape)}
    for a, ret in enumerate(returns):
        for left, relation, right in TABLE_LINKS:
            if left[0] not in position or right[0] not in position:
                continue
            lt, rt = position[left[0]], position[right[0]]
            terms = [((a, lt, k), 1) for k in selected_cells(ret.tables[lt], *left[1:])]
            terms += [((a, rt, k), -1) for k in selected_cells(ret.tables[rt], *right[1:])]
            gap = sum(c * values[key] for key, c in terms)
            if gap > 0 or (relation == "=" and gap != 0):
                continue  # not true of these figures (older data): not a fact an attacker has
            constraints.append(Constraint(tuple(terms), equal=gap == 0))
    return Release(values=values, constraints=constraints)


def protect_returns(returns: list[Any], *, threshold: int, width: int | None = None) -> Protection:
    return protect_release(linked_release(returns), threshold=threshold, width=width)


def check_enough_returns(returns: list[Any]) -> None:
    if len(returns) < MINIMUM_RETURNS:
        raise ValidationError(
            "At least two authorities' returns must be submitted before national figures can be "
            "published without disclosing one authority's small counts."
        )


def disclosure_notes(threshold: int, width: int) -> list[str]:
    return [
        f"Disclosure control: below Scotland level, a cell is shown as '{SUPPRESSED}' when it is "
        f"suppressed. Counts from 1 to {threshold - 1} are suppressed, and so are further cells, "
        "zeros included, chosen so that no suppressed count can be worked out, or narrowed to "
        f"fewer than {width} possible values, from the published figures of this release taken "
        "together. A suppressed cell may hold any count, zero included. Scotland figures are "
        "always published.",
    ]


def national_release(
    census_date: dt.date,
    returns: list[Any],
    *,
    threshold: int,
    all_authorities: int,
    width: int | None = None,
    protection: Protection | None = None,
) -> dict[str, Any]:
    """Every published figure of a national release, in a structured form (JSON-ready).

    The national CSV, XLSX and PDF are rendered from this (`release_document`), and the national
    build stores it on its job, so the figures on screen are the published ones by construction:
    below Scotland level, a suppressed cell is the one symbol here already.
    """
    check_enough_returns(returns)
    width = threshold if width is None else width
    protection = protection or protect_returns(returns, threshold=threshold, width=width)
    tables = []
    for index, table in enumerate(sum_tables(returns)):
        by_authority = None
        if table["key"] not in SCOTLAND_ONLY_TABLES:
            count = len(_flat(table))
            by_authority = [
                [protection.shown((a, index, k)) for k in range(count)]
                + ([protection.shown((a, index, TOTAL))] if table["additive"] else [])
                for a in range(len(returns))
            ]
        tables.append(
            {
                "key": table["key"],
                "title": table["title"],
                "rows": [list(r) for r in table["rows"]],
                "columns": [list(c) for c in table["columns"]],
                "additive": table["additive"],
                "scotland": table["cells"],
                "by_authority": by_authority,
            }
        )
    return {
        "census_date": census_date.isoformat(),
        "threshold": threshold,
        "width": width,
        "all_authorities": all_authorities,
        "returns": [
            {
                "code": ret.authority.code,
                "name": ret.authority.name,
                "status": ret.status,
                "status_label": ret.get_status_display(),
            }
            for ret in returns
        ],
        "tables": tables,
    }


def release_by_authority_sheet(table: dict[str, Any], names: list[tuple[str, str]]) -> Sheet:
    """One table with a row per authority, as published (suppressed cells shown as one symbol)."""
    columns = flat_columns(table)
    header = ["Code", "Integration Authority", *columns]
    if table["additive"]:
        header.append("Total")
    rows: list[list[Value]] = [
        [code, name, *shown]
        for (code, name), shown in zip(names, table["by_authority"], strict=True)
    ]
    sums = _flat({"cells": table["scotland"]})
    total = ["", "Scotland", *sums, *([sum(sums)] if table["additive"] else [])]
    return Sheet(
        key=f"ia_{table['key']}",
        title=f"By authority: {table['title']}",
        header=header,
        rows=rows,
        total=total,
    )


def release_document(release: dict[str, Any]) -> Document:
    """The published national document, rendered from the stored release only."""
    names = [(r["code"], r["name"]) for r in release["returns"]]
    sheets = [
        Sheet(
            key="submissions",
            title="Returns included",
            header=["Code", "Integration Authority", "Status"],
            rows=[[r["code"], r["name"], r["status_label"]] for r in release["returns"]],
        )
    ]
    sheets += [
        grid_sheet(dict(t, cells=t["scotland"]), prefix="Scotland: ") for t in release["tables"]
    ]
    sheets += [
        release_by_authority_sheet(t, names)
        for t in release["tables"]
        if t["by_authority"] is not None
    ]
    notes = [
        *DEFINITIONS,
        f"Returns included: {len(names)} of {release['all_authorities']} Integration Authorities "
        "(submitted or accepted). Scotland figures are the sum of the returns included.",
        *disclosure_notes(release["threshold"], release["width"]),
    ]
    return Document(
        title="Dynamic Support Register: national return",
        census_date=dt.date.fromisoformat(release["census_date"]),
        area="Scotland",
        sheets=sheets,
        notes=notes,
    )


def national_document(
    census_date: dt.date,
    returns: list[Any],
    *,
    threshold: int,
    all_authorities: int,
    width: int | None = None,
    protection: Protection | None = None,
) -> Document:
    """Scotland totals and per-authority tables from submitted or accepted returns.

    With one return, Scotland's totals would be that authority's own unsuppressed figures, so at
    least two are needed before anything is published. The published document says which cells
    are suppressed (one symbol) and never why. Rendered from the release (`national_release`).
    """
    return release_document(
        national_release(
            census_date,
            returns,
            threshold=threshold,
            all_authorities=all_authorities,
            width=width,
            protection=protection,
        )
    )


def disclosure_audit_document(
    census_date: dt.date, returns: list[Any], *, protection: Protection
) -> Document:
    """The analyst's internal report: each suppressed cell, why, and the range an attacker of the
    release can prove for it. Never part of a published file."""
    check_enough_returns(returns)
    threshold, width = protection.threshold, protection.width
    rows: list[list[Value]] = []
    ranges = attack(linked_release(returns), protection.hidden)
    for (a, t, k), kind in protection.hidden.items():
        table = returns[0].tables[t]
        column = "Total" if k == TOTAL else flat_columns(table)[k]
        low, high = ranges[(a, t, k)]
        rows.append(
            [
                returns[a].authority.code,
                returns[a].authority.name,
                table["title"],
                column,
                kind,
                int(low),
                "no limit" if math.isinf(high) else int(high),
            ]
        )
    primaries = sum(1 for kind in protection.hidden.values() if kind == PRIMARY)
    return Document(
        title="Dynamic Support Register: disclosure audit (internal, not for publication)",
        census_date=census_date,
        area="Scotland",
        sheets=[
            Sheet(
                key="ia_audit",
                title="Suppressed cells and the range an attacker can prove",
                header=[
                    "Code",
                    "Integration Authority",
                    "Table",
                    "Column",
                    "Suppression",
                    "Smallest possible",
                    "Largest possible",
                ],
                rows=rows,
            )
        ],
        notes=[
            "INTERNAL: for the national analyst only. This report names why each cell is "
            "suppressed and must never be published or attached to a published file.",
            f"Threshold {threshold}; protection width {width}. Returns included: {len(returns)}.",
            f"Cells suppressed: {len(protection.hidden)} ({primaries} primary, "
            f"{len(protection.hidden) - primaries} secondary).",
            "Ranges are what a linear program proves from every published figure of the release, "
            "knowing only that counts are not negative.",
        ],
        personal=True,
    )
