"""Run every benchmark section against the current database, print the table, write the JSON.

`python -m bench` runs it on the database in DATABASE_URL (make bench points that at the bench
database, seeded with `seed_demo --scale 100`); tests call `run()` on a tiny data set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from django.db import connection

from registers import access
from registers.models import IntegrationAuthority, Person, Review, StatusChange

from . import api, load, pages, reporting, results_table
from .config import Config

# (section, name prefix, metric, limit): the targets of the 150,000-person data set.
PAGE_P95_MS = 150
API_LIST_P95_MS = 100
NATIONAL_MS = 60_000
AUTHORITY_PDF_MS = 5_000
LIST_OVERHEAD = 5.0
LIST_PAGES = ("register list", "API: list")


def dataset() -> dict[str, Any]:
    with access.system_scope("bench: data set size"):
        people = Person.objects.count()
        status = StatusChange.objects.filter(kind="status").count()
        return {
            "authorities": IntegrationAuthority.objects.count(),
            "people": people,
            "on_register": Person.objects.on_register().count(),
            "history_entries": StatusChange.objects.count(),
            "status_changes": status,
            "status_changes_per_person": round(status / people, 2) if people else 0,
            "reviews": Review.objects.count(),
        }


def _portable(path: Path) -> str:
    """A path as results may record it: relative to the repository, never the machine's own."""
    root = Path(__file__).resolve().parent.parent
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return path.name


def _meta(config: Config) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "database": connection.settings_dict["NAME"],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "config": {
            k: (_portable(v) if isinstance(v, Path) else v) for k, v in config.__dict__.items()
        },
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(row: str, metric: str, value: float | None, target: str, ok: bool | None) -> None:
        rows.append({"row": row, "metric": metric, "value": value, "target": target, "pass": ok})

    for page in results["pages"] + (results["api"].get("endpoints") or []):
        label = f"{page['name']} [{page['who']}]"
        if page["name"].startswith(("register list", "person page")):
            add(label, "p95 ms", page["p95_ms"], f"< {PAGE_P95_MS}", page["p95_ms"] < PAGE_P95_MS)
        if page["name"].startswith("API: list"):
            add(
                label,
                "p95 ms",
                page["p95_ms"],
                f"< {API_LIST_P95_MS}",
                page["p95_ms"] < API_LIST_P95_MS,
            )
        if page["name"].startswith(LIST_PAGES):
            ratio = page["overhead_ratio"]
            add(
                label,
                "time / bare SQL",
                ratio,
                f"< {LIST_OVERHEAD:g}x",
                None if ratio is None else ratio < LIST_OVERHEAD,
            )
    for wall in results["reporting"]:
        if wall["name"].startswith("national return, all"):
            add(wall["name"], "wall ms", wall["ms"], f"< {NATIONAL_MS}", wall["ms"] < NATIONAL_MS)
        if wall["name"].startswith("authority quarterly summary PDF"):
            add(
                wall["name"],
                "wall ms",
                wall["ms"],
                f"< {AUTHORITY_PDF_MS}",
                wall["ms"] < AUTHORITY_PDF_MS,
            )
    loaded = results.get("load") or {}
    if loaded and not loaded.get("skipped"):
        errors = loaded["failures"] + loaded["server_errors"]
        add(f"load test, {loaded['users']} users", "errors", errors, "= 0", errors == 0)
    return rows


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(results: dict[str, Any]) -> str:
    lines = []
    data = results["dataset"]
    lines.append(
        f"Data set: {data['people']:,} people in {data['authorities']} authorities, "
        f"{data['history_entries']:,} history entries ({data['status_changes_per_person']} status "
        f"changes a person), {data['reviews']:,} reviews. Load average before: "
        f"{results['meta']['load_average_before']}, after: {results['meta']['load_average_after']}"
    )
    lines.append("")
    header = (
        "page / endpoint",
        "who",
        "n",
        "median ms",
        "p95 ms",
        "queries",
        "bare SQL ms",
        "ratio",
    )
    table = [header]
    for page in results["pages"] + (results["api"].get("endpoints") or []):
        extra = (
            f" ({page['items_per_second']:,.0f} items/s)" if page.get("items_per_second") else ""
        )
        table.append(
            (
                page["name"] + extra,
                page["who"],
                _fmt(page["requests"]),
                _fmt(page["median_ms"]),
                _fmt(page["p95_ms"]),
                _fmt(page["queries"]),
                _fmt(page["bare_sql_ms"], 2),
                _fmt(page["overhead_ratio"]),
            )
        )
    lines += _columns(table)
    lines.append("")
    table = [("reporting", "wall ms", "queries", "pages")]
    for wall in results["reporting"]:
        table.append(
            (wall["name"], _fmt(wall["ms"]), _fmt(wall["queries"]), _fmt(wall.get("pages")))
        )
    lines += _columns(table)
    loaded = results.get("load") or {}
    lines.append("")
    if loaded.get("skipped"):
        lines.append(f"Load test skipped: {loaded['skipped']}")
    elif loaded:
        lines.append(
            f"Load test: {loaded['users']} users for {loaded['seconds']} s: "
            f"{loaded['requests']:,} requests, {loaded['rps']:.1f} requests/s, median "
            f"{loaded['median_ms']:.0f} ms, p95 {loaded['p95_ms']:.0f} ms, "
            f"{loaded['failures']} failures, {loaded['server_errors']} server errors"
        )
        if loaded.get("ceiling_rps"):
            lines.append(
                f"Ceiling (the cheapest signed-in page, same run): {loaded['ceiling_rps']:.1f} "
                f"requests/s, p95 {loaded['ceiling_p95_ms']:.0f} ms; the mix ran at "
                f"{loaded['share_of_ceiling']:.0%} of it"
            )
        table = [("request", "n", "rps", "median ms", "p95 ms", "failures")]
        for row in loaded["by_name"]:
            table.append(
                (
                    row["name"],
                    _fmt(row["requests"]),
                    _fmt(row["rps"]),
                    _fmt(row["median_ms"], 0),
                    _fmt(row["p95_ms"], 0),
                    _fmt(row["failures"]),
                )
            )
        lines += _columns(table)
    lines.append("")
    table = [("target", "metric", "value", "target", "result")]
    for row in results["targets"]:
        verdict = {True: "pass", False: "MISS", None: "-"}[row["pass"]]
        table.append((row["row"], row["metric"], _fmt(row["value"]), row["target"], verdict))
    lines += _columns(table)
    return "\n".join(lines)


def _columns(rows: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def run(config: Config, *, log=print) -> dict[str, Any]:
    """Every section in turn; returns the results (also written as JSON when configured)."""
    started = time.monotonic()
    results: dict[str, Any] = {"meta": _meta(config), "dataset": dataset()}
    authority = pages.largest_authority()
    results["meta"]["largest_authority"] = authority.name
    log(f"Pages ({config.requests} requests each) for {authority.name}...")
    results["pages"] = [t.as_dict() for t in pages.run(config, authority, log=log)]
    log("API...")
    results["api"] = api.run(config, authority)
    log("Census, returns and PDFs...")
    results["reporting"] = [w.as_dict() for w in reporting.run(authority)]
    if config.load:
        log(f"Load test: {config.load_users} users for {config.load_seconds} s...")
        results["load"] = load.run(config).as_dict()
    else:
        results["load"] = {"skipped": "BENCH_LOAD=0"}
    results["meta"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = targets(results)
    if config.write_results:
        config.results_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        kind = "quick" if config.quick else f"scale{config.scale:g}"
        path = config.results_dir / f"bench-{kind}-{stamp}.json"
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        results["meta"]["written_to"] = str(path)
    return results


def main() -> None:
    config = Config.from_env()
    results = run(config)
    print()
    print(render(results))
    if path := results["meta"].get("written_to"):
        print(f"\nResults written to {path} ({results['meta']['seconds']} s).")
        if not config.quick:
            table = results_table.write(results, source=Path(path).name)
            print(f"Tables written to {table}.")
