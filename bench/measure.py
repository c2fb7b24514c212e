"""Timing, query capture and the bare-SQL replay that every benchmark section shares."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection
from django.test.utils import CaptureQueriesContext


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 200 samples is the 190th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds taken by `fn`, and what it returned."""
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def capture(fn: Callable[[], Any]) -> tuple[list[str], Any]:
    """The SQL `fn` ran on the default connection (parameters inlined), and its result.

    Transaction control (BEGIN, COMMIT) is left out: it is not a query, and the replay must stay
    inside its own transaction to be rolled back."""
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    statements = [q["sql"] for q in ctx.captured_queries]
    return [s for s in statements if s.strip().upper() not in TRANSACTION_CONTROL], result


def _connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    keep = {k: params[k] for k in ("dbname", "user", "password", "host", "port") if params.get(k)}
    # No server-side prepared statements: the application's client-side cursors have none either.
    return psycopg.connect(**keep, prepare_threshold=None)


@dataclass
class BareSql:
    """The same statements a request ran, executed with psycopg directly (same transaction-local
    row-level-security settings, since those are statements too), then rolled back."""

    median_ms: float | None
    error: str = ""
    samples: list[float] = field(default_factory=list)


def bare_sql(statements: list[str], *, repeats: int) -> BareSql:
    if not statements:
        return BareSql(None, "no SQL")
    samples: list[float] = []
    try:
        with _connect() as conn:
            for _ in range(repeats):
                start = time.perf_counter()
                with conn.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql.encode())
                        if cursor.description is not None:
                            cursor.fetchall()
                samples.append((time.perf_counter() - start) * 1000)
                conn.rollback()
    except psycopg.Error as exc:
        return BareSql(None, f"replay failed: {exc.__class__.__name__}: {exc}".splitlines()[0])
    return BareSql(statistics.median(samples), samples=samples)


@dataclass
class Timing:
    """Latency of one page or endpoint over many requests, with its SQL."""

    name: str
    who: str
    samples: list[float]
    queries: int
    bare: BareSql
    items: int = 0  # items handled per request, for items per second

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def ratio(self) -> float | None:
        if not self.bare.median_ms:
            return None
        return self.median / self.bare.median_ms

    def as_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "who": self.who,
            "requests": len(self.samples),
            "median_ms": round(self.median, 2),
            "p95_ms": round(self.p95, 2),
            "max_ms": round(max(self.samples), 2) if self.samples else 0.0,
            "queries": self.queries,
            "bare_sql_ms": round(self.bare.median_ms, 3) if self.bare.median_ms else None,
            "overhead_ratio": round(self.ratio, 2) if self.ratio else None,
        }
        if self.bare.error:
            data["bare_sql_error"] = self.bare.error
        if self.items:
            data["items_per_request"] = self.items
            data["items_per_second"] = round(self.items * 1000 / self.median, 1)
        return data
