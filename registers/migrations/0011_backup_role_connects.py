"""The backup role (scripts/backup.sh, created by scripts/services.sh and the Docker init script)
may connect to the database, where it exists; it needs nothing else (pg_read_all_data)."""

from django.db import migrations

GRANT = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dsr_backup') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO dsr_backup', current_database());
    END IF;
END $$;
"""
REVOKE = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dsr_backup') THEN
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM dsr_backup', current_database());
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("registers", "0010_sealed_scope")]

    operations = [migrations.RunSQL(GRANT, REVOKE)]
