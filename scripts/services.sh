#!/usr/bin/env bash
# Start PostgreSQL and Redis when they are not running, and create the database roles and the
# database. Safe to run again. The roles (docs/security.md, "Database roles"):
#   owner   (DATABASE_OWNER_URL)  owns the schema, runs migrations and set-up; CREATEDB for tests
#   runtime (DATABASE_URL)        web and API requests: table privileges only
#   worker  (DATABASE_WORKER_URL) Celery worker and beat, management commands; may become
#                                 dsr_system (no login), the cross-tenant role
# None is a superuser or has BYPASSRLS, so row-level security binds them all. The runtime and
# worker role names are fixed (the migrations grant to them); the passwords come from the URLs.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://dsr_app:dsr_app@127.0.0.1:5432/dsr}"
PG_HOST=127.0.0.1
REDIS_DIR="${REDIS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/var/redis}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# user, password and database name of a postgres:// URL
url_user() { local u="${1#*://}"; u="${u%%@*}"; echo "${u%%:*}"; }
url_password() { local u="${1#*://}"; u="${u%%@*}"; [[ "$u" == *:* ]] && echo "${u#*:}" || echo ""; }
url_db() { local d="${1##*/}"; echo "${d%%\?*}"; }
with_role() { echo "$1" | sed -E "s#//[^@]*@#//$2:$2@#"; }

DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-$(with_role "$DATABASE_URL" dsr_owner)}"
DATABASE_WORKER_URL="${DATABASE_WORKER_URL:-$(with_role "$DATABASE_URL" dsr_worker)}"
DB_NAME="$(url_db "$DATABASE_OWNER_URL")"
OWNER="$(url_user "$DATABASE_OWNER_URL")"

# One set-up at a time on this machine: `make run` and `make test` started together in two
# shells would otherwise install packages and create and alter the same roles at once ("tuple
# concurrently updated"). The lock goes with this script's process.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/dsr-services.lock"
  flock 9
fi

apt_install() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "Installing PostgreSQL..."; apt_install postgresql
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing Redis..."; apt_install redis-server
fi

if ! pg_isready -q -h "$PG_HOST" -p 5432; then
  echo "Starting PostgreSQL..."
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis..."
  # An append-only file (as in docker-compose.yml), so queued report builds survive a restart.
  mkdir -p "$REDIS_DIR"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$REDIS_DIR" --appendonly yes --save "" >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -h "$PG_HOST" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
ensure_role() {  # name, attributes, password (empty: no login)
  local exists
  exists="$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$1'")"
  if [ "$exists" != "1" ]; then
    psql_admin -c "CREATE ROLE $1"
  fi
  psql_admin -c "ALTER ROLE $1 $2 NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS"
  if [ -n "$3" ]; then
    psql_admin -c "ALTER ROLE $1 PASSWORD '$3'"
  fi
}
ensure_role "$OWNER" "LOGIN CREATEDB INHERIT" "$(url_password "$DATABASE_OWNER_URL")"
ensure_role dsr_app "LOGIN NOCREATEDB NOINHERIT" "$(url_password "$(with_role "$DATABASE_URL" dsr_app)")"
ensure_role dsr_worker "LOGIN NOCREATEDB NOINHERIT" "$(url_password "$DATABASE_WORKER_URL")"
ensure_role dsr_system "NOLOGIN NOCREATEDB NOINHERIT" ""
# Backups (scripts/backup.sh): reads everything and nothing else. It must pass row-level security
# (FORCE binds even the owner, so pg_dump as the owner is refused), so it alone has BYPASSRLS;
# no process of the service holds its password (DATABASE_BACKUP_URL).
DATABASE_BACKUP_URL="${DATABASE_BACKUP_URL:-$(with_role "$DATABASE_URL" dsr_backup)}"
ensure_role dsr_backup "LOGIN NOCREATEDB INHERIT" "$(url_password "$DATABASE_BACKUP_URL")"
psql_admin -c "ALTER ROLE dsr_backup BYPASSRLS" >/dev/null
psql_admin -c "GRANT pg_read_all_data TO dsr_backup" >/dev/null
# The worker may become the cross-tenant role (SET ROLE, audited); the owner may act as any of
# them (the test suite logs in as the owner and acts as the runtime role). Never the reverse.
psql_admin -c "GRANT dsr_system TO dsr_worker" >/dev/null
psql_admin -c "GRANT dsr_app, dsr_worker, dsr_system TO $OWNER" >/dev/null

owner_of() {
  psql_admin -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$1'"
}

# The test suite (logged in as the owner) creates and drops test_<name>; one left by a run before
# the database roles belongs to another role and cannot be dropped by the owner. CI starts from
# nothing of its own, so there it goes; elsewhere someone may be using it, so say what to do.
test_owner="$(owner_of "test_$DB_NAME")"
if [ -n "$test_owner" ] && [ "$test_owner" != "$OWNER" ]; then
  if [ "${CI:-}" = "true" ]; then
    psql_admin -c "DROP DATABASE test_$DB_NAME WITH (FORCE)"
  else
    echo "Note: test_$DB_NAME belongs to $test_owner, so the tests cannot recreate it; drop it" >&2
    echo "(dropdb -h $PG_HOST -U postgres test_$DB_NAME) or choose another DATABASE_URL." >&2
  fi
fi

owner_of_db="$(owner_of "$DB_NAME")"
if [ -z "$owner_of_db" ]; then
  psql_admin -c "CREATE DATABASE $DB_NAME OWNER $OWNER"
elif [ "$owner_of_db" != "$OWNER" ]; then
  echo "Database $DB_NAME belongs to $owner_of_db, not to the owner role $OWNER: it was made" >&2
  echo "before the database roles. Drop it (dropdb -h $PG_HOST -U postgres $DB_NAME) or choose" >&2
  echo "another name in DATABASE_URL." >&2
  # Only migrating (make run, make migrate) needs it; the test suite makes its own database.
  [ "${1:-}" = "--require-database" ] && exit 1
fi
