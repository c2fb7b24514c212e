"""Row-level security for memberships and API clients.

The SQL is written out here in full and never changes once it has run: a later change to the
policies is a new migration. The policy is the register's (registers 0002): a row is visible and
writable only within the authorities of `dsr.authorities`, or in the system scope.
"""

from django.db import migrations

# A user reads their own memberships to learn their scope; staff lists need the authority.
MEMBERSHIPS = """
ALTER TABLE accounts_membership ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_membership FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON accounts_membership FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON accounts_membership FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])
        OR user_id = (SELECT NULLIF(current_setting('dsr.user_id', true), ''))::bigint);
CREATE TRIGGER accounts_membership_no_truncate BEFORE TRUNCATE ON accounts_membership
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
MEMBERSHIPS_REVERSE = """
DROP TRIGGER IF EXISTS accounts_membership_no_truncate ON accounts_membership;
DROP POLICY IF EXISTS tenant_read ON accounts_membership;
DROP POLICY IF EXISTS tenant_write ON accounts_membership;
ALTER TABLE accounts_membership NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_membership DISABLE ROW LEVEL SECURITY;
"""

# Before a token's authority is known, its client row may be read by the hash of the token alone:
# only a caller holding the token can produce that hash (see registers.access).
API_CLIENTS = """
ALTER TABLE accounts_apiclient ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts_apiclient FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON accounts_apiclient FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON accounts_apiclient FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY token_lookup ON accounts_apiclient FOR SELECT
    USING (token_hash = (SELECT NULLIF(current_setting('dsr.api_token_hash', true), '')));
CREATE TRIGGER accounts_apiclient_no_truncate BEFORE TRUNCATE ON accounts_apiclient
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
API_CLIENTS_REVERSE = """
DROP TRIGGER IF EXISTS accounts_apiclient_no_truncate ON accounts_apiclient;
DROP POLICY IF EXISTS token_lookup ON accounts_apiclient;
DROP POLICY IF EXISTS tenant_read ON accounts_apiclient;
DROP POLICY IF EXISTS tenant_write ON accounts_apiclient;
ALTER TABLE accounts_apiclient NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_apiclient DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_memberships_grants_and_api_clients"),
        ("registers", "0002_row_level_security"),
    ]

    operations = [
        migrations.RunSQL(MEMBERSHIPS, MEMBERSHIPS_REVERSE),
        migrations.RunSQL(API_CLIENTS, API_CLIENTS_REVERSE),
    ]
