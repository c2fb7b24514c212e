"""Locality grants under row-level security, readable by their own user.

A grant is a tenant row by its locality: it may be read and written where the locality is in the
transaction's scope (the subquery on registers_locality is itself bound by that table's policy),
or by the system role (`dsr_system`, as on every tenant table since registers 0004). Like a
membership, a user may also read their own grants: the scope is read from memberships and grants
together. The SQL is written out here, as it ran.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE accounts_localityuserobjectpermission ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_localityuserobjectpermission FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON accounts_localityuserobjectpermission FOR ALL
    USING (content_object_id IN (SELECT id FROM registers_locality))
    WITH CHECK (content_object_id IN (SELECT id FROM registers_locality));
CREATE POLICY tenant_read ON accounts_localityuserobjectpermission FOR SELECT
    USING (
        content_object_id IN (SELECT id FROM registers_locality)
        OR user_id = (SELECT NULLIF(current_setting('dsr.user_id', true), ''))::bigint
    );
CREATE POLICY system_all ON accounts_localityuserobjectpermission TO dsr_system
    USING (true) WITH CHECK (true);
"""

REVERSE = """
DROP POLICY IF EXISTS system_all ON accounts_localityuserobjectpermission;
DROP POLICY IF EXISTS tenant_read ON accounts_localityuserobjectpermission;
DROP POLICY IF EXISTS tenant_write ON accounts_localityuserobjectpermission;
ALTER TABLE accounts_localityuserobjectpermission NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_localityuserobjectpermission DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_national_analyst_holds_no_membership"),
        ("registers", "0007_locality_ordering_without_join"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
