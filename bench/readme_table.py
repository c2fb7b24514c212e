"""The results JSON as the README's Markdown tables: `python -m bench.readme_table FILE`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def markdown(results: dict[str, Any]) -> str:
    verdicts: dict[tuple[str, str], bool | None] = {
        (row["row"], row["metric"]): row["pass"] for row in results["targets"]
    }

    def mark(row: str, metric: str) -> str:
        ok = verdicts.get((row, metric))
        return "" if ok is None else (" (pass)" if ok else " (**miss**)")

    lines = [
        "| page / endpoint | who | median ms | p95 ms | queries | bare SQL ms | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in results["pages"] + (results["api"].get("endpoints") or []):
        key = f"{page['name']} [{page['who']}]"
        items = f", {page['items_per_second']:,.0f} items/s" if page.get("items_per_second") else ""
        lines.append(
            f"| {page['name']}{items} | {page['who'].split(' (')[0]} | {_n(page['median_ms'])} | "
            f"{_n(page['p95_ms'])}{mark(key, 'p95 ms')} | {page['queries']} | "
            f"{_n(page['bare_sql_ms'], 1)} | {_n(page['overhead_ratio'], 1)}"
            f"{mark(key, 'time / bare SQL')} |"
        )
    if results["api"].get("skipped"):
        lines.append(f"\nAPI: skipped ({results['api']['skipped']}).")
    lines += ["", "| reporting | wall s | queries | pages |", "| --- | ---: | ---: | ---: |"]
    for wall in results["reporting"]:
        lines.append(
            f"| {wall['name']} | {wall['ms'] / 1000:,.1f}{mark(wall['name'], 'wall ms')} | "
            f"{wall['queries']:,} | {_n(wall.get('pages'))} |"
        )
    load = results.get("load") or {}
    if load and not load.get("skipped"):
        lines += [
            "",
            f"Load test: {load['users']} users for {load['seconds']} s: {load['requests']:,} "
            f"requests ({load['rps']:.1f}/s), median {load['median_ms']:.0f} ms, p95 "
            f"{load['p95_ms']:.0f} ms, {load['failures']} failures, {load['server_errors']} server "
            "errors.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
