#!/usr/bin/env bash
# Start PostgreSQL and Redis when they are not running, and create the application's role and
# database. Safe to run again. The role is an ordinary one (no superuser, no BYPASSRLS) so that
# row-level security binds it.
set -euo pipefail

DB_NAME="${DSR_DB_NAME:-dsr}"
DB_ROLE="${DSR_DB_ROLE:-dsr}"
PG_HOST=127.0.0.1
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

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
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

psql_admin() { psql -h "$PG_HOST" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD '$DB_ROLE'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
fi
