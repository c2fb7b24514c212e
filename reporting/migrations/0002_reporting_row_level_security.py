from django.db import migrations

from dsr.rls import SCOPE_IS_NATIONAL, enable_tenant_rls

# National jobs carry no authority: the national scope reads and writes those rows only.
NATIONAL_JOBS = f"authority_id IS NULL AND {SCOPE_IS_NATIONAL}"


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_census_returns_and_jobs"),
        ("registers", "0002_row_level_security"),
    ]

    operations = [
        # Person-level: the authority's own scope (and the system scope) only.
        enable_tenant_rls("reporting_censussnapshot"),
        enable_tenant_rls("reporting_snapshotrow"),
        # Aggregates and status: the national analyst reads them, never writes.
        enable_tenant_rls("reporting_authorityreturn", national_read=True),
        enable_tenant_rls("reporting_reportjob"),
        migrations.RunSQL(
            f"""
            CREATE POLICY national_jobs ON reporting_reportjob FOR ALL
                USING ({NATIONAL_JOBS}) WITH CHECK ({NATIONAL_JOBS});
            """,
            "DROP POLICY IF EXISTS national_jobs ON reporting_reportjob;",
        ),
        # The national scope appends audit events with no authority (its requests and builds);
        # INSERT ... RETURNING needs them readable, so it may read those national-level rows.
        migrations.RunSQL(
            f"""
            CREATE POLICY audit_read_national ON registers_auditevent FOR SELECT
                USING (authority_id IS NULL AND {SCOPE_IS_NATIONAL});
            """,
            "DROP POLICY IF EXISTS audit_read_national ON registers_auditevent;",
        ),
        # A submitted or accepted return is immutable: its tables cannot change and it cannot
        # be deleted; only the national decision (status, decided_*, comment) moves it on.
        migrations.RunSQL(
            """
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
            CREATE TRIGGER reporting_return_immutable BEFORE UPDATE OR DELETE
                ON reporting_authorityreturn
                FOR EACH ROW EXECUTE FUNCTION reporting_return_immutable();
            """,
            """
            DROP TRIGGER IF EXISTS reporting_return_immutable ON reporting_authorityreturn;
            DROP FUNCTION IF EXISTS reporting_return_immutable();
            """,
        ),
    ]
