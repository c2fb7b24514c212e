"""The harness's knobs, read from the environment (`make bench` passes them through)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in {"1", "true", "yes", "on"}


@dataclass
class Config:
    scale: float = 100.0
    requests: int = 200  # per page and endpoint, and per user
    bare_repeats: int = 20  # replays of each request's SQL
    quick: bool = False
    load: bool = True
    load_seconds: int = 60
    load_users: int = 50
    load_workers: int = 3
    load_threads: int = 4
    results_dir: Path = RESULTS_DIR
    write_results: bool = True

    @classmethod
    def from_env(cls) -> Config:
        quick = _flag("BENCH_QUICK")
        config = cls.quick_mode() if quick else cls()
        env = os.environ
        config.scale = float(env.get("BENCH_SCALE") or config.scale)
        config.requests = int(env.get("BENCH_REQUESTS") or config.requests)
        config.bare_repeats = int(env.get("BENCH_BARE_REPEATS") or config.bare_repeats)
        config.load = _flag("BENCH_LOAD", config.load)
        config.load_seconds = int(env.get("BENCH_LOAD_SECONDS") or config.load_seconds)
        config.load_users = int(env.get("BENCH_LOAD_USERS") or config.load_users)
        config.load_workers = int(env.get("BENCH_WORKERS") or config.load_workers)
        config.load_threads = int(env.get("BENCH_THREADS") or config.load_threads)
        if env.get("BENCH_RESULTS_DIR"):
            config.results_dir = Path(env["BENCH_RESULTS_DIR"])
        return config

    @classmethod
    def quick_mode(cls) -> Config:
        """A few requests on a tiny data set: proves the harness end to end in seconds."""
        return cls(
            scale=0.2,
            requests=5,
            bare_repeats=2,
            quick=True,
            load_seconds=5,
            load_users=4,
            load_workers=1,
            load_threads=2,
        )
