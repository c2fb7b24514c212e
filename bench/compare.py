"""Two benchmark runs side by side, judged against the goals of the third speed round.

`python -m bench.compare BEFORE.json AFTER.json [--out FILE]` reads two results files of
`make bench` (the reference build and this one, measured on the same machine one run after the
other by bench/against.sh) and writes a Markdown page: every goal with both values and its
verdict, then every page, endpoint and reporting step side by side. Absolute times vary about
twofold between machines, so each goal is a ratio: to the same build's bare SQL, or to the
reference build's figure from the same machine.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Results = dict[str, Any]
DEFAULT_OUT = Path(__file__).resolve().parent / "COMPARISON.md"


def _entry(results: Results, name: str, who: str = "") -> dict[str, Any] | None:
    rows = results["pages"] + (results["api"].get("endpoints") or [])
    for row in rows:
        if row["name"].startswith(name) and row["who"].startswith(who):
            return row
    return None


def _wall(results: Results, name: str) -> dict[str, Any] | None:
    return next((w for w in results["reporting"] if w["name"].startswith(name)), None)


def _field(getter: Callable[[Results], dict[str, Any] | None], key: str):
    def read(results: Results) -> float | None:
        row = getter(results)
        return None if row is None or row.get(key) is None else float(row[key])

    return read


def _load(key: str):
    def read(results: Results) -> float | None:
        loaded = results.get("load") or {}
        if loaded.get("skipped") or key not in loaded:
            return None
        return float(loaded[key])

    return read


def _load_errors(results: Results) -> float | None:
    loaded = results.get("load") or {}
    if loaded.get("skipped") or "failures" not in loaded:
        return None
    return float(loaded["failures"] + loaded["server_errors"])


@dataclass(frozen=True)
class Goal:
    what: str
    unit: str
    read: Callable[[Results], float | None]
    # "after/before <=" or ">=" (against the reference build), or "after <=" (a figure the run
    # judges on its own, such as time / bare SQL).
    kind: str
    limit: float

    def judge(self, before: Results, after: Results) -> dict[str, Any]:
        old, new = self.read(before), self.read(after)
        ratio = None if not old or new is None else new / old
        if self.kind == "after <=":
            ok, goal = (None if new is None else new <= self.limit), f"<= {self.limit:g}"
        elif self.kind == "after/before <=":
            ok, goal = (None if ratio is None else ratio <= self.limit), f"<= {self.limit:g}x"
        else:
            ok, goal = (None if ratio is None else ratio >= self.limit), f">= {self.limit:g}x"
        return {
            "what": self.what,
            "unit": self.unit,
            "before": old,
            "after": new,
            "ratio": ratio,
            "goal": goal,
            "pass": ok,
        }


def _page(name: str, who: str = ""):
    return lambda results: _entry(results, name, who)


GOALS = [
    Goal(
        "lead's dashboard",
        "p95 ms",
        _field(_page("dashboard", "lead"), "p95_ms"),
        "after/before <=",
        0.2,
    ),
    Goal(
        "person page, lead",
        "time / bare SQL",
        _field(_page("person page", "lead"), "overhead_ratio"),
        "after <=",
        3,
    ),
    Goal(
        "person page, practitioner",
        "time / bare SQL",
        _field(_page("person page", "practitioner"), "overhead_ratio"),
        "after <=",
        3,
    ),
    Goal(
        "API retrieve",
        "time / bare SQL",
        _field(_page("API: retrieve"), "overhead_ratio"),
        "after <=",
        3,
    ),
    Goal(
        "API update with If-Match",
        "time / bare SQL",
        _field(_page("API: update with If-Match"), "overhead_ratio"),
        "after <=",
        3,
    ),
    Goal(
        "API bulk upsert of 500",
        "items/s",
        _field(_page("API: bulk upsert of 500"), "items_per_second"),
        "after/before >=",
        4,
    ),
    Goal(
        "API bulk upsert of 500",
        "time / bare SQL",
        _field(_page("API: bulk upsert of 500"), "overhead_ratio"),
        "after <=",
        5,
    ),
    Goal(
        "census snapshot, largest authority",
        "wall ms",
        _field(lambda r: _wall(r, "census snapshot"), "ms"),
        "after/before <=",
        0.35,
    ),
    Goal(
        "national return, all authorities (total)",
        "wall ms",
        _field(lambda r: _wall(r, "national return, all"), "ms"),
        "after/before <=",
        0.4,
    ),
    Goal(
        "national PDF",
        "wall ms",
        _field(lambda r: _wall(r, "national PDF"), "ms"),
        "after/before <=",
        0.4,
    ),
    Goal("load test, 50 users", "requests/s", _load("rps"), "after/before >=", 2),
    Goal("load test, 50 users", "p95 ms", _load("p95_ms"), "after/before <=", 0.5),
    Goal("load test, 50 users", "errors", _load_errors, "after <=", 0),
]


def judge(before: Results, after: Results) -> list[dict[str, Any]]:
    return [goal.judge(before, after) for goal in GOALS]


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return {True: "pass", False: "**MISS**", None: "-"}[ok]


def _run_line(label: str, results: Results) -> str:
    meta, data = results["meta"], results["dataset"]
    return (
        f"- {label}: commit `{meta.get('commit') or '?'}`, started {meta.get('started_at')}, "
        f"{meta.get('seconds', '?')} s; {data['people']:,} people, "
        f"{data['history_entries']:,} history entries; load average before "
        f"{meta.get('load_average_before')}, after {meta.get('load_average_after')}."
    )


def render(before: Results, after: Results, *, sources: tuple[str, str]) -> str:
    lines = [
        "# This build against the reference build, same machine, one run after the other",
        "",
        "Generated by `bench/against.sh` (`python -m bench.compare`); do not edit by hand. The "
        "results files are beside this page.",
        "",
        _run_line(f"Before (`{sources[0]}`)", before),
        _run_line(f"After (`{sources[1]}`)", after),
        "",
        "| goal | metric | before | after | after / before | goal | result |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in judge(before, after):
        lines.append(
            f"| {row['what']} | {row['unit']} | {_num(row['before'])} | {_num(row['after'])} | "
            f"{_num(row['ratio'], 2)} | {row['goal']} | {_verdict(row['pass'])} |"
        )
    lines += [
        "",
        "| page / endpoint | who | p95 ms before | p95 ms after | ratio to bare SQL "
        "before | after |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in after["pages"] + (after["api"].get("endpoints") or []):
        old = _entry(before, row["name"], row["who"].split(" (")[0])
        lines.append(
            f"| {row['name']} | {row['who']} | {_num(old and old['p95_ms'])} | "
            f"{_num(row['p95_ms'])} | {_num(old and old['overhead_ratio'])} | "
            f"{_num(row['overhead_ratio'])} |"
        )
    lines += [
        "",
        "| reporting | wall ms before | after | queries before | after |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for wall in after["reporting"]:
        old = _wall(before, wall["name"].split(" (")[0])
        lines.append(
            f"| {wall['name']} | {_num(old and old['ms'])} | {_num(wall['ms'])} | "
            f"{_num(old and old['queries'], 0)} | {_num(wall['queries'], 0)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    before, after = (json.loads(p.read_text()) for p in (args.before, args.after))
    page = render(before, after, sources=(args.before.name, args.after.name))
    args.out.write_text(page)
    print(page)
    return 0 if all(row["pass"] for row in judge(before, after)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
