#!/usr/bin/env bash
# `make bench`: a separate database, seeded once with `seed_demo --scale $BENCH_SCALE` and reused
# by later runs (a marker on the database says what it holds), then the harness (python -m bench).
# Knobs: BENCH_QUICK=1 (tiny data set, few requests, 5 s load test), BENCH_SCALE, BENCH_REQUESTS,
# BENCH_LOAD=0, BENCH_LOAD_SECONDS, BENCH_LOAD_USERS, BENCH_RESEED=1, BENCH_DB_NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
QUICK="${BENCH_QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  SCALE="${BENCH_SCALE:-0.2}"; DB="${BENCH_DB_NAME:-dsr_benchmark_quick}"
else
  SCALE="${BENCH_SCALE:-100}"; DB="${BENCH_DB_NAME:-dsr_benchmark}"
fi
export BENCH_SCALE="$SCALE" DSR_DB_NAME="$DB" DJANGO_DEBUG=false
# The bench database's roles as in production: the owner migrates, the worker role seeds and runs
# the harness (it measures pages in-process, in each user's scope), the load test's server runs
# as the runtime role.
export DATABASE_URL="postgres://dsr_app:dsr_app@127.0.0.1:5432/$DB"
export DATABASE_RUNTIME_URL="$DATABASE_URL"
export DATABASE_OWNER_URL="postgres://dsr_owner:dsr_owner@127.0.0.1:5432/$DB"
export DATABASE_WORKER_URL="postgres://dsr_worker:dsr_worker@127.0.0.1:5432/$DB"
MARK="dsr bench data set: seed_demo --scale $SCALE (history v2)"
admin() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
marker() {
  admin -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$DB'"
}

bash scripts/services.sh
current="$(marker)"
if [ "${BENCH_RESEED:-0}" = 1 ] || { [ -n "$current" ] && [ "$current" != "$MARK" ]; }; then
  echo "Dropping $DB to seed it afresh..."
  admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  bash scripts/services.sh
  current=""
fi
DATABASE_URL="$DATABASE_OWNER_URL" "$PY" manage.py migrate --noinput -v0
if [ "$current" != "$MARK" ]; then
  echo "Seeding $DB with seed_demo --scale $SCALE (resumes a seeding that was interrupted)..."
  start=$(date +%s)
  # Captured, not piped into head: a closed pipe would kill the command after it had seeded.
  # No demo returns or national builds: the benchmarks build their own, and no worker runs here.
  seeded="$(DATABASE_URL="$DATABASE_WORKER_URL" "$PY" manage.py seed_demo --scale "$SCALE" --quiet --no-returns)"
  echo "${seeded%%$'\n'*}"
  admin -d "$DB" -c "VACUUM ANALYZE"
  echo "Seeded in $(( $(date +%s) - start )) s."
  admin -c "COMMENT ON DATABASE $DB IS '$MARK'"
else
  echo "Reusing $DB ($MARK); BENCH_RESEED=1 seeds it afresh."
fi
# The seeding's (or an earlier run's) writes flushed to disk now, not by a checkpoint running
# through the measurements.
admin -c "CHECKPOINT"
# The harness builds census returns and national files in-process, as the worker does: it gets the
# worker's waits (a national build keeps a transaction open through its disclosure audit).
DSR_DB_LONG_WAITS=true DATABASE_URL="$DATABASE_WORKER_URL" "$PY" -m bench
