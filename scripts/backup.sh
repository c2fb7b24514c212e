#!/usr/bin/env bash
# Back up or restore the database (docs/operations.md, "Back up and restore").
#   scripts/backup.sh backup  [FILE]   pg_dump in custom format, as the backup role
#   scripts/backup.sh restore FILE [DATABASE]
#                                      pg_restore as the owner into DATABASE (default: a new
#                                      database <name>_restored), which must not exist yet
# The backup role (dsr_backup, DATABASE_BACKUP_URL) reads everything past row-level security and
# changes nothing; the owner (DATABASE_OWNER_URL) creates the new database and restores into it,
# so every table, policy, grant and the sealed scope's key come back owned as before.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://dsr_app:dsr_app@127.0.0.1:5432/dsr}"
with_role() { echo "$1" | sed -E "s#//[^@]*@#//$2:$2@#"; }
DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-$(with_role "$DATABASE_URL" dsr_owner)}"
DATABASE_BACKUP_URL="${DATABASE_BACKUP_URL:-$(with_role "$DATABASE_URL" dsr_backup)}"
db_of() { local d="${1##*/}"; echo "${d%%\?*}"; }
with_db() { echo "${1%/*}/$2"; }
DB_NAME="$(db_of "$DATABASE_OWNER_URL")"

case "${1:-}" in
  backup)
    file="${2:-var/backups/$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ).dump}"
    mkdir -p "$(dirname "$file")"
    pg_dump --format=custom --no-password --file="$file" "$DATABASE_BACKUP_URL"
    echo "$file"
    ;;
  restore)
    file="${2:?usage: scripts/backup.sh restore FILE [DATABASE]}"
    target="${3:-${DB_NAME}_restored}"
    psql --no-password -v ON_ERROR_STOP=1 -qtA "$(with_db "$DATABASE_OWNER_URL" postgres)" \
      -c "CREATE DATABASE \"$target\""
    # A database's own privileges are not in the dump: the same as the migrations give.
    psql --no-password -v ON_ERROR_STOP=1 -qtA "$(with_db "$DATABASE_OWNER_URL" "$target")" <<SQL
REVOKE ALL ON DATABASE "$target" FROM PUBLIC;
GRANT CONNECT ON DATABASE "$target" TO dsr_app, dsr_worker;
GRANT TEMPORARY ON DATABASE "$target" TO dsr_system;
DO \$\$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dsr_backup') THEN
    GRANT CONNECT ON DATABASE "$target" TO dsr_backup;
  END IF;
END \$\$;
SQL
    pg_restore --no-password --exit-on-error --single-transaction \
      --dbname="$(with_db "$DATABASE_OWNER_URL" "$target")" "$file"
    echo "$target"
    ;;
  *)
    echo "usage: scripts/backup.sh backup [FILE] | restore FILE [DATABASE]" >&2
    exit 2
    ;;
esac
