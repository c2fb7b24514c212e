"""`make bench`'s own script, bench/run.sh, end to end in quick mode against a database that does
not exist yet: it creates, migrates and seeds it, marks it, runs the harness and exits 0; a second
run reuses the marked database. This is the path a fresh machine takes, which a harness test on the
test database does not cover (a broken pipe once killed the seeding there after it had seeded)."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _admin(sql: str) -> str:
    return subprocess.run(
        [
            shutil.which("psql") or "/usr/bin/psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qtAc",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def fresh_database():
    name = f"dsr_bench_script_{uuid.uuid4().hex[:8]}"
    assert _admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == ""
    yield name
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _bench(database: str, results: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env |= {
        "PY": sys.executable,
        "BENCH_QUICK": "1",
        "BENCH_DB_NAME": database,
        "BENCH_RESULTS_DIR": str(results),
        "BENCH_LOAD_SECONDS": "2",
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": f"bench-script-{database}",
        **extra,
    }
    return subprocess.run(
        ["/bin/bash", "bench/run.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_bench_script_seeds_a_fresh_database_runs_the_harness_and_reuses_it_on_rerun(
    fresh_database, tmp_path
):
    first = _bench(fresh_database, tmp_path)

    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert f"Seeding {fresh_database}" in first.stdout
    assert "Seeded in" in first.stdout
    marker = _admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        f"WHERE datname = '{fresh_database}'"
    )
    assert marker.startswith("dsr bench data set: seed_demo --scale 0.2")
    (written,) = tmp_path.glob("bench-quick-*.json")
    results = json.loads(written.read_text())
    assert results["dataset"]["people"] > 0
    assert results["load"]["requests"] > 0 and results["load"]["failures"] == 0
    text = written.read_text()
    assert str(ROOT) not in text and str(tmp_path) not in text, "results record no machine paths"

    again = _bench(fresh_database, tmp_path, BENCH_LOAD="0", BENCH_REQUESTS="1")

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"Reusing {fresh_database}" in again.stdout
    assert "Seeding" not in again.stdout
    assert len(list(tmp_path.glob("bench-quick-*.json"))) == 2
