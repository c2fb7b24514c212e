"""Make a reference build's harness time the national PDF on its own, as this harness does.

Harnesses up to e50741e timed the national CSV and PDF in one step ("national return files (CSV
and PDF)"). bench/against.sh runs this on the reference checkout's bench/reporting.py before its
benchmark: the step is split into a CSV step and a PDF step, the combined line is kept as their
sum, and nothing but the measuring changes. A harness that already has the line is left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

COMBINED = """    def national_files() -> tuple[ReportJob, ReportJob]:
        csv = _job(JobKind.NATIONAL_CSV, authority=None, census_date=census_date)
        pdf = _job(JobKind.NATIONAL_PDF, authority=None, census_date=census_date)
        return csv, pdf

    wall, (_csv, pdf) = _measure("national return files (CSV and PDF)", national_files)
"""
SPLIT = """    csv_wall, _csv = _measure(
        "national CSV", lambda: _job(JobKind.NATIONAL_CSV, authority=None, census_date=census_date)
    )
    pdf_wall, pdf = _measure(
        "national PDF", lambda: _job(JobKind.NATIONAL_PDF, authority=None, census_date=census_date)
    )
    wall = Wall(
        "national return files (CSV and PDF)",
        csv_wall.ms + pdf_wall.ms,
        csv_wall.queries + pdf_wall.queries,
    )
"""
TOTAL_END = """            results[-2].queries + wall.queries,
        )
    )
"""


def patch(source: str) -> str:
    if '"national PDF' in source:
        return source
    if COMBINED not in source or not source.endswith(TOTAL_END):
        raise SystemExit("unexpected harness: time the national PDF on its own by hand")
    source = source.replace(COMBINED, SPLIT)
    return (
        source
        + '    pdf_wall.detail["pages"] = wall.detail["pages"]\n'
        + ("    results += [csv_wall, pdf_wall]\n")
    )


def main() -> None:
    path = Path(sys.argv[1])
    path.write_text(patch(path.read_text()))


if __name__ == "__main__":
    main()
