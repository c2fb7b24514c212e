-- The three database roles (docs/security.md, "Database roles"), run once by the postgres image
-- on an empty data directory. Passwords come from the postgres container's environment.
\getenv owner_password DSR_DB_OWNER_PASSWORD
\getenv app_password DSR_DB_APP_PASSWORD
\getenv worker_password DSR_DB_WORKER_PASSWORD

-- Owns the schema and runs migrations; only the one-off `migrate` service holds it.
CREATE ROLE dsr_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS INHERIT PASSWORD :'owner_password';
-- Web and API requests: table privileges only (granted by the migrations).
CREATE ROLE dsr_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT PASSWORD :'app_password';
-- Celery worker and beat, management commands; may become dsr_system (SET ROLE, audited).
CREATE ROLE dsr_worker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT PASSWORD :'worker_password';
-- The cross-tenant role: no login; the `system_all` policies name it.
CREATE ROLE dsr_system NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
-- Backups only (scripts/backup.sh): reads everything, past row-level security, changes nothing.
\getenv backup_password DSR_DB_BACKUP_PASSWORD
CREATE ROLE dsr_backup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS INHERIT PASSWORD :'backup_password';
GRANT pg_read_all_data TO dsr_backup;
GRANT dsr_system TO dsr_worker;
GRANT dsr_app, dsr_worker, dsr_system TO dsr_owner;
CREATE DATABASE dsr OWNER dsr_owner;
