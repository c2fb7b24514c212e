"""Row-level security SQL for tenant tables added from now on.

The tables that exist today got their policies, guard triggers and functions from migrations
that have the SQL written into them (`registers/0002`, `accounts/0003`, `reporting/0002`): those
migrations never call this module, so what they did cannot change when this module does. Use the
helpers here only in a new migration that creates a new tenant table; when a policy of an existing
table must change, write the SQL into a new migration.

Every tenant table gets the same policy: a row is visible and writable only when its authority is
in the transaction-local setting `dsr.authorities` (written only by `registers.access`), or to the
cross-tenant database role `dsr_system` (the system scope, which only the worker role may become;
registers/0004). The settings count only beside their seals: a restrictive policy calls
`dsr_scope_sealed()` (registers/0010; a migration using these helpers depends on it).
`FORCE ROW LEVEL SECURITY` binds the table owner too. The table's grants come
from the default privileges (registers/0004): SELECT, INSERT, UPDATE and DELETE for the runtime,
worker and system roles; an append-only table revokes UPDATE and DELETE (`make_append_only`).
"""

from typing import Any

from django.db import migrations

# Each setting is read in a scalar subquery, which PostgreSQL evaluates once per query (an
# InitPlan) instead of once per row: on a 100,000-row scan that is the difference between the
# policy costing more than the query and costing nothing (see bench/README.md, "Found and fixed").
SYSTEM_ROLE = "dsr_system"
ACTING_ROLES = "dsr_app, dsr_worker, dsr_system"
SCOPE_IS_NATIONAL = "(SELECT current_setting('dsr.scope', true)) = 'national'"
AUTHORITY_IN_SCOPE = (
    "{column} = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''),"
    " ','))::bigint[])"
)
# The settings count only beside the service's seals (registers/0010, dsr/seal.py).
SCOPE_SEALED = "(SELECT dsr_scope_sealed())"
ROW_IS_CURRENT_USERS = "user_id = (SELECT NULLIF(current_setting('dsr.user_id', true), ''))::bigint"


# TRUNCATE is not subject to row-level security (nor to row triggers): it would empty a table for
# every authority at once. Tenant, history and audit tables refuse it through the function
# `dsr_refuse_truncate()` (created by migration registers/0002; a migration using these helpers
# depends on it).


def refuse_truncate_sql(table: str) -> tuple[str, str]:
    forward = [
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate()",
    ]
    reverse = f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
    return ";\n".join(forward) + ";", reverse


def refuse_truncate(table: str) -> migrations.RunSQL:
    forward, reverse = refuse_truncate_sql(table)
    return migrations.RunSQL(forward, reverse)


def tenant_policy_sql(
    table: str,
    *,
    column: str = "authority_id",
    own_user_rows: bool = False,
    national_read: bool = False,
    shared_with: tuple[str, ...] = (),
) -> tuple[str, str]:
    """Forward and reverse SQL that puts `table` under the tenant policy.

    own_user_rows: a user may also read their own rows (memberships, which decide the scope).
    national_read: the national scope may read (never write) the table (aggregate returns).
    shared_with: further authority columns whose authority may also read and write the row (a
        transfer between two authorities belongs to both until it is decided).
    """
    in_scope = " OR ".join(AUTHORITY_IN_SCOPE.format(column=c) for c in (column, *shared_with))
    using = in_scope
    read_using = using + (f" OR {ROW_IS_CURRENT_USERS}" if own_user_rows else "")
    forward = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_write ON {table} FOR ALL USING ({using}) WITH CHECK ({using})",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING ({read_using})",
        f"CREATE POLICY system_all ON {table} TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)",
        f"CREATE POLICY scope_sealed ON {table} AS RESTRICTIVE FOR ALL USING ({SCOPE_SEALED})"
        f" WITH CHECK ({SCOPE_SEALED})",
    ]
    reverse = [
        f"DROP POLICY IF EXISTS scope_sealed ON {table}",
        f"DROP POLICY IF EXISTS system_all ON {table}",
        f"DROP POLICY IF EXISTS tenant_read ON {table}",
        f"DROP POLICY IF EXISTS tenant_write ON {table}",
    ]
    if national_read:
        forward.append(
            f"CREATE POLICY national_read ON {table} FOR SELECT USING ({SCOPE_IS_NATIONAL})"
        )
        reverse.insert(0, f"DROP POLICY IF EXISTS national_read ON {table}")
    reverse += [
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]
    truncate_forward, truncate_reverse = refuse_truncate_sql(table)
    return (
        ";\n".join(forward) + ";\n" + truncate_forward,
        truncate_reverse + "\n" + ";\n".join(reverse) + ";",
    )


def enable_tenant_rls(table: str, **options: Any) -> migrations.RunSQL:
    forward, reverse = tenant_policy_sql(table, **options)
    return migrations.RunSQL(forward, reverse)


def append_only_sql(table: str) -> tuple[str, str]:
    """No role but the owner holds UPDATE or DELETE, and a trigger refuses them to the owner too:
    history and audit rows are never rewritten."""
    function = f"{table}_append_only"
    forward = f"""
        REVOKE UPDATE, DELETE ON {table} FROM {ACTING_ROLES};
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}();
    """
    reverse = f"""
        DROP TRIGGER IF EXISTS {table}_no_update_or_delete ON {table};
        DROP FUNCTION IF EXISTS {function}();
        GRANT UPDATE, DELETE ON {table} TO {ACTING_ROLES};
    """
    return forward, reverse


def make_append_only(table: str) -> migrations.RunSQL:
    forward, reverse = append_only_sql(table)
    return migrations.RunSQL(forward, reverse)
