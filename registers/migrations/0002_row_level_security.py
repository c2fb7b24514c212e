from django.db import migrations

from dsr.rls import (
    AUTHORITY_IN_SCOPE,
    SCOPE_IS_SYSTEM,
    enable_tenant_rls,
    make_append_only,
)

AUDIT_IN_SCOPE = f"{SCOPE_IS_SYSTEM} OR {AUTHORITY_IN_SCOPE.format(column='authority_id')}"


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]

    operations = [
        enable_tenant_rls("registers_locality"),
        enable_tenant_rls("registers_person"),
        enable_tenant_rls("registers_statuschange"),
        enable_tenant_rls("registers_review"),
        make_append_only("registers_statuschange"),
        # Audit rows: read within scope, appended by anyone (national and system events carry no
        # authority), never updated or deleted.
        migrations.RunSQL(
            f"""
            ALTER TABLE registers_auditevent ENABLE ROW LEVEL SECURITY;
            ALTER TABLE registers_auditevent FORCE ROW LEVEL SECURITY;
            CREATE POLICY audit_read ON registers_auditevent FOR SELECT USING ({AUDIT_IN_SCOPE});
            CREATE POLICY audit_append ON registers_auditevent FOR INSERT
                WITH CHECK (authority_id IS NULL OR {AUDIT_IN_SCOPE});
            """,
            """
            DROP POLICY IF EXISTS audit_append ON registers_auditevent;
            DROP POLICY IF EXISTS audit_read ON registers_auditevent;
            ALTER TABLE registers_auditevent NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE registers_auditevent DISABLE ROW LEVEL SECURITY;
            """,
        ),
        make_append_only("registers_auditevent"),
    ]
