"""Three database roles: the owner runs this, the runtime role serves requests, the worker role
does cross-tenant work (docs/security.md, "Database roles").

- `dsr_app` (runtime, web and API): only the table privileges it uses, nothing on history and
  audit beyond SELECT and INSERT, no TRUNCATE, REFERENCES or TRIGGER anywhere, no temporary
  objects, and no way to any other role.
- Neither the runtime nor the worker role may create anything in the schema.
- `dsr_worker` (Celery worker and beat, management commands): the same privileges, and NOINHERIT
  membership of `dsr_system`: tenant work runs bound by the tenant policies like a request; only
  `SET ROLE dsr_system` (`registers.access.system_scope`, audited) steps across tenants.
- `dsr_system` (no login): the cross-tenant role. The `system_all` policies name it, so the
  system scope is a role a process holds credentials for, not a setting a statement can set.

The set-up (scripts/services.sh, docker/postgres-init.sql) creates the roles; this migration runs
as the owner, which owns every table. Tables created later get the same grants through the
default privileges set here; a migration that adds an append-only table revokes UPDATE and
DELETE in its own SQL (tests/test_database_roles.py checks every table's grants).

The system-scope setting (`dsr.scope = 'system'`), `dsr.allow_truncate` and `dsr.pseudonymise`
no longer open anything: every policy is rewritten without them, TRUNCATE is refused to everyone
but the table's owner, and history may be rewritten (retention) only by `dsr_system`, in the two
free-text columns it alone may update.

Two steps of web requests reach across tenants, each through a `SECURITY DEFINER` function owned
by the owner that does one named, checked thing: it grants the current transaction access to the
rows of one operation (`dsr_transaction_grant`, readable by no one but the owner):
- `dsr_open_transfer_for_acceptance(transfer)`: a pending transfer to an authority in the
  caller's scope opens the sending record (the person and their history) and lets the acceptance
  append the sending authority's audit rows;
- `dsr_open_return_for_decision(return)`: in the national scope, a submitted return may be
  updated by the national decision, and that authority's audit row appended.
"""

from django.db import migrations

IN_SCOPE = "ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])"

ROLES_EXIST = """
DO $$
DECLARE missing text;
BEGIN
    SELECT string_agg(r, ', ') INTO missing
    FROM unnest(ARRAY['dsr_app', 'dsr_worker', 'dsr_system']) AS r
    WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'database roles missing: % (scripts/services.sh or docker/postgres-init.sql creates them)', missing;
    END IF;
END $$;
"""

GRANTS = """
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO dsr_app, dsr_worker, dsr_system;
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO dsr_app, dsr_worker', current_database());
    -- Seeding (in the system scope) loads through a temporary table; nothing else creates one.
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO dsr_system', current_database());
END $$;

ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dsr_app, dsr_worker, dsr_system;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO dsr_app, dsr_worker, dsr_system;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO dsr_app, dsr_worker, dsr_system;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dsr_app, dsr_worker, dsr_system;

-- Migrations are the owner's: the others may see which ran (Django checks at start-up).
REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM dsr_app, dsr_worker, dsr_system;

-- History and audit are append-only for everyone; retention may blank history's free text.
REVOKE UPDATE, DELETE ON registers_statuschange, registers_auditevent
    FROM dsr_app, dsr_worker, dsr_system;
GRANT UPDATE (reason, changes) ON registers_statuschange TO dsr_system;
"""

# Every policy without the system-scope setting; the system scope is the role `dsr_system`.
TENANT_TABLES = (
    "registers_locality",
    "registers_person",
    "registers_review",
    "registers_statuschange",
    "registers_importbatch",
    "accounts_membership",
    "accounts_apiclient",
    "reporting_censussnapshot",
    "reporting_snapshotrow",
    "reporting_authorityreturn",
    "reporting_reportjob",
)
POLICIES = (
    "".join(
        f"""
ALTER POLICY tenant_write ON {table}
    USING (authority_id = {IN_SCOPE}) WITH CHECK (authority_id = {IN_SCOPE});
ALTER POLICY tenant_read ON {table} USING (authority_id = {IN_SCOPE});
CREATE POLICY system_all ON {table} TO dsr_system USING (true) WITH CHECK (true);
"""
        for table in TENANT_TABLES
    )
    + f"""
ALTER POLICY tenant_read ON accounts_membership
    USING (authority_id = {IN_SCOPE}
        OR user_id = (SELECT NULLIF(current_setting('dsr.user_id', true), ''))::bigint);

ALTER POLICY tenant_write ON registers_transfer
    USING (authority_id = {IN_SCOPE} OR to_authority_id = {IN_SCOPE})
    WITH CHECK (authority_id = {IN_SCOPE} OR to_authority_id = {IN_SCOPE});
ALTER POLICY tenant_read ON registers_transfer
    USING (authority_id = {IN_SCOPE} OR to_authority_id = {IN_SCOPE});
ALTER POLICY sender_creates ON registers_transfer TO dsr_app, dsr_worker
    WITH CHECK (authority_id = {IN_SCOPE});
CREATE POLICY system_all ON registers_transfer TO dsr_system USING (true) WITH CHECK (true);

ALTER POLICY audit_read ON registers_auditevent USING (authority_id = {IN_SCOPE});
ALTER POLICY audit_append ON registers_auditevent
    WITH CHECK (authority_id IS NULL OR authority_id = {IN_SCOPE});
CREATE POLICY system_all ON registers_auditevent TO dsr_system USING (true) WITH CHECK (true);
"""
)

# TRUNCATE: no role but the owner holds the privilege; the trigger refuses it to anyone else
# as well (a second lock, and the same message as before).
REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION dsr_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# History: retention (as dsr_system) may blank the free text of an entry; nothing else changes.
HISTORY_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION registers_statuschange_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_user = 'dsr_system'
       AND (to_jsonb(NEW) - 'reason' - 'changes') = (to_jsonb(OLD) - 'reason' - 'changes')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

TRANSACTION_GRANTS = f"""
CREATE TABLE dsr_transaction_grant (
    xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind text NOT NULL,
    row_id bigint NOT NULL
);
CREATE INDEX dsr_transaction_grant_xact ON dsr_transaction_grant (xact, kind);
REVOKE ALL ON dsr_transaction_grant FROM PUBLIC, dsr_app, dsr_worker, dsr_system;

-- The rows of `kind` granted to the current transaction (none to a transaction that wrote
-- nothing yet: a grant is a write).
CREATE FUNCTION dsr_granted(p_kind text) RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(row_id), '{{}}') FROM dsr_transaction_grant
    WHERE xact = pg_current_xact_id_if_assigned() AND kind = p_kind
$$;

CREATE FUNCTION dsr_open_transfer_for_acceptance(p_transfer bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    t record;
BEGIN
    -- Read under the caller's own scope: only a party to the transfer sees it.
    SELECT person_id, authority_id INTO t FROM registers_transfer
    WHERE id = p_transfer AND status = 'pending' AND to_authority_id = {IN_SCOPE}
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no pending transfer % to this authority', p_transfer
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO dsr_transaction_grant (kind, row_id)
    VALUES ('transfer_person', t.person_id), ('transfer_authority', t.authority_id);
END $$;

CREATE FUNCTION dsr_open_return_for_decision(p_return bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r record;
BEGIN
    IF (SELECT current_setting('dsr.scope', true)) IS DISTINCT FROM 'national' THEN
        RAISE EXCEPTION 'only the national scope decides returns'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT id, authority_id INTO r FROM reporting_authorityreturn
    WHERE id = p_return AND status = 'submitted' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no submitted return %', p_return USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO dsr_transaction_grant (kind, row_id)
    VALUES ('return', r.id), ('return_authority', r.authority_id);
END $$;

-- Grants end with the step that asked for them.
CREATE FUNCTION dsr_close_transaction_grants() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DELETE FROM dsr_transaction_grant WHERE xact = pg_current_xact_id_if_assigned()
$$;

REVOKE ALL ON FUNCTION dsr_granted(text), dsr_open_transfer_for_acceptance(bigint),
    dsr_open_return_for_decision(bigint), dsr_close_transaction_grants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dsr_granted(text), dsr_open_transfer_for_acceptance(bigint),
    dsr_open_return_for_decision(bigint), dsr_close_transaction_grants()
    TO dsr_app, dsr_worker, dsr_system;

CREATE POLICY transfer_acceptance ON registers_person
    USING (id = ANY ((SELECT dsr_granted('transfer_person'))::bigint[]))
    WITH CHECK (id = ANY ((SELECT dsr_granted('transfer_person'))::bigint[]));
CREATE POLICY transfer_acceptance ON registers_statuschange
    USING (person_id = ANY ((SELECT dsr_granted('transfer_person'))::bigint[]))
    WITH CHECK (person_id = ANY ((SELECT dsr_granted('transfer_person'))::bigint[]));
CREATE POLICY transfer_acceptance ON registers_auditevent FOR INSERT
    WITH CHECK (authority_id = ANY ((SELECT dsr_granted('transfer_authority'))::bigint[]));
CREATE POLICY return_decision ON reporting_authorityreturn FOR UPDATE
    USING (id = ANY ((SELECT dsr_granted('return'))::bigint[]))
    WITH CHECK (id = ANY ((SELECT dsr_granted('return'))::bigint[]));
CREATE POLICY return_decision ON registers_auditevent FOR INSERT
    WITH CHECK (authority_id = ANY ((SELECT dsr_granted('return_authority'))::bigint[]));
"""  # noqa: S608 (constant SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0003_integration_authorities"),
        ("accounts", "0003_row_level_security"),
        ("reporting", "0002_row_level_security"),
    ]

    operations = [
        migrations.RunSQL(ROLES_EXIST),
        migrations.RunSQL(GRANTS),
        migrations.RunSQL(POLICIES),
        migrations.RunSQL(REFUSE_TRUNCATE),
        migrations.RunSQL(HISTORY_APPEND_ONLY),
        migrations.RunSQL(TRANSACTION_GRANTS),
    ]
