#!/usr/bin/env bash
# `make bench-against [REV=e50741e]`: the benchmark of a reference build and of this checkout on
# this machine, one run after the other, then bench/COMPARISON.md judging the goals of the speed
# round (bench/compare.py). The reference build is checked out in var/bench-against/<rev> with its
# own virtualenv and its own benchmark database (dsr_benchmark_<rev>, seeded once and reused).
# Knobs as for make bench (BENCH_SCALE, BENCH_REQUESTS, BENCH_LOAD_SECONDS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REV="${REV:-${1:-e50741e}}"
SCALE="${BENCH_SCALE:-100}"
PY="${PY:-.venv/bin/python}"
OLD="$ROOT/var/bench-against/$REV"
OLD_DB="dsr_benchmark_$REV"
OUT="$ROOT/bench/comparison"
MARK="dsr bench data set: seed_demo --scale $SCALE (history v2)"
admin() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

bash scripts/services.sh
if [ ! -d "$OLD" ]; then
  mkdir -p "$(dirname "$OLD")"
  git worktree add --detach "$OLD" "$REV"
fi
if [ ! -x "$OLD/.venv/bin/python" ]; then
  echo "Installing the reference build's own packages..."
  python3 -m venv "$OLD/.venv"
  "$OLD/.venv/bin/python" -m pip install -q --upgrade pip
  (cd "$OLD" && .venv/bin/python -m pip install -q -e '.[dev]')
fi
# Harnesses up to e50741e timed the national CSV and PDF together: time the PDF on its own too, as
# this one does (a change to its measuring only; the reference build's own code is untouched).
"$PY" bench/against_patch.py "$OLD/bench/reporting.py"

# Builds up to e50741e piped the seeding into `head` under pipefail, which killed it after it had
# seeded: seed the reference database here, as that build's one database role, and mark it, so
# its own bench/run.sh reuses it.
if [ "$(admin -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$OLD_DB'")" != "$MARK" ]; then
  echo "Seeding $OLD_DB for $REV (scale $SCALE)..."
  admin -c "DROP DATABASE IF EXISTS $OLD_DB WITH (FORCE)"
  (
    cd "$OLD"
    export DSR_DB_NAME="$OLD_DB" DATABASE_URL="postgres://dsr:dsr@127.0.0.1:5432/$OLD_DB"
    bash scripts/services.sh
    .venv/bin/python manage.py migrate --noinput -v0
    .venv/bin/python manage.py seed_demo --scale "$SCALE" --quiet >/dev/null
  )
  admin -d "$OLD_DB" -c "VACUUM ANALYZE"
  admin -c "COMMENT ON DATABASE $OLD_DB IS '$MARK'"
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.json
echo "Benchmark of $REV..."
# As this checkout's bench/run.sh does before it measures (that build's does not).
admin -c "CHECKPOINT"
(cd "$OLD" && env -u PY BENCH_DB_NAME="$OLD_DB" BENCH_RESULTS_DIR="$OUT" bash bench/run.sh)
before="$(ls "$OUT"/bench-*.json)"
# Builds up to e50741e record the results folder as this machine's absolute path: keep it relative.
"$PY" - "$before" <<'PY'
import json, sys
path = sys.argv[1]
results = json.loads(open(path).read())
results["meta"]["config"]["results_dir"] = "bench/comparison"
open(path, "w").write(json.dumps(results, indent=2) + "\n")
PY
echo "Benchmark of this checkout..."
BENCH_RESULTS_DIR="$OUT" bash bench/run.sh
after="$(ls "$OUT"/bench-*.json | grep -vxF "$before")"
"$PY" -m bench.compare "$before" "$after" --out bench/COMPARISON.md
