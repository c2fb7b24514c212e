"""Row-level security for census snapshots, returns and report jobs, and immutable returns.

The SQL is written out here in full and never changes once it has run: a later change to the
policies is a new migration. The policy is the register's (registers 0002): a row is visible and
writable only within the authorities of `dsr.authorities`, or in the system scope.
"""

from django.db import migrations

# Person-level tables (snapshots and their rows) and report jobs: the authority's own scope (and
# the system scope) only.
TENANT_TABLES = "".join(
    f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON {table} FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON {table} FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
    for table in (
        "reporting_censussnapshot",
        "reporting_snapshotrow",
        "reporting_authorityreturn",
        "reporting_reportjob",
    )
)
TENANT_TABLES_REVERSE = "".join(
    f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP POLICY IF EXISTS tenant_read ON {table};
DROP POLICY IF EXISTS tenant_write ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""
    for table in (
        "reporting_censussnapshot",
        "reporting_snapshotrow",
        "reporting_authorityreturn",
        "reporting_reportjob",
    )
)

# Aggregate returns: the national analyst reads them, never writes. National jobs carry no
# authority: the national scope reads and writes those rows only.
NATIONAL = """
CREATE POLICY national_read ON reporting_authorityreturn FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'national');
CREATE POLICY national_jobs ON reporting_reportjob FOR ALL
    USING (authority_id IS NULL AND (SELECT current_setting('dsr.scope', true)) = 'national')
    WITH CHECK (authority_id IS NULL AND (SELECT current_setting('dsr.scope', true)) = 'national');
"""
NATIONAL_REVERSE = """
DROP POLICY IF EXISTS national_jobs ON reporting_reportjob;
DROP POLICY IF EXISTS national_read ON reporting_authorityreturn;
"""

# A submitted or accepted return is immutable: its tables cannot change and it cannot be deleted;
# only the national decision (status, decided_*, comment) moves it on.
RETURN_IMMUTABLE = """
CREATE FUNCTION reporting_return_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('submitted', 'accepted') THEN
        IF TG_OP = 'DELETE'
           OR NEW.tables IS DISTINCT FROM OLD.tables
           OR NEW.warnings IS DISTINCT FROM OLD.warnings
           OR NEW.built_at IS DISTINCT FROM OLD.built_at
           OR NEW.authority_id IS DISTINCT FROM OLD.authority_id
           OR NEW.census_date IS DISTINCT FROM OLD.census_date
           OR (OLD.status = 'accepted' AND NEW.status IS DISTINCT FROM OLD.status)
        THEN
            RAISE EXCEPTION 'a submitted return cannot be changed'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER reporting_return_immutable BEFORE UPDATE OR DELETE ON reporting_authorityreturn
    FOR EACH ROW EXECUTE FUNCTION reporting_return_immutable();
"""
RETURN_IMMUTABLE_REVERSE = """
DROP TRIGGER IF EXISTS reporting_return_immutable ON reporting_authorityreturn;
DROP FUNCTION IF EXISTS reporting_return_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("registers", "0002_row_level_security"),
    ]

    operations = [
        migrations.RunSQL(TENANT_TABLES, TENANT_TABLES_REVERSE),
        migrations.RunSQL(NATIONAL, NATIONAL_REVERSE),
        migrations.RunSQL(RETURN_IMMUTABLE, RETURN_IMMUTABLE_REVERSE),
    ]
