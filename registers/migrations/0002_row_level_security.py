"""Row-level security, append-only history and audit, and the transfer guards of the register.

The SQL is written out here in full and never changes once it has run: a later change to the
policies is a new migration. (`dsr/rls.py` writes the same policy for tables added later.)

Every tenant table: a row is visible and writable only when its authority is in the
transaction-local setting `dsr.authorities`, or in the system scope (`dsr.scope = 'system'`).
Each setting is read in a scalar subquery, which PostgreSQL evaluates once per query (an InitPlan)
instead of once per row. `FORCE ROW LEVEL SECURITY` binds the table's owner too. TRUNCATE, which
row-level security and row triggers do not see, is refused by a statement trigger.
"""

from django.db import migrations

# TRUNCATE would empty a table for every authority at once. The only way past is the session
# setting `dsr.allow_truncate = 'on'`, which the application never sets.
REFUSE_TRUNCATE = """
CREATE FUNCTION dsr_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dsr.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""
REFUSE_TRUNCATE_REVERSE = "DROP FUNCTION IF EXISTS dsr_refuse_truncate();"

TENANT_TABLES = """
ALTER TABLE registers_locality ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_locality FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_locality FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_locality FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_locality_no_truncate BEFORE TRUNCATE ON registers_locality
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

ALTER TABLE registers_person ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_person FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_person FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_person FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_person_no_truncate BEFORE TRUNCATE ON registers_person
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

ALTER TABLE registers_review ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_review FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_review FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_review FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_review_no_truncate BEFORE TRUNCATE ON registers_review
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

ALTER TABLE registers_statuschange ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_statuschange FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_statuschange FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_statuschange FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_statuschange_no_truncate BEFORE TRUNCATE ON registers_statuschange
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

ALTER TABLE registers_importbatch ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_importbatch FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_importbatch FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_importbatch FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_importbatch_no_truncate BEFORE TRUNCATE ON registers_importbatch
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
TENANT_TABLES_REVERSE = "".join(
    f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP POLICY IF EXISTS tenant_read ON {table};
DROP POLICY IF EXISTS tenant_write ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""
    for table in (
        "registers_locality",
        "registers_person",
        "registers_review",
        "registers_statuschange",
        "registers_importbatch",
    )
)

# History is append-only, with one controlled exception: the retention task, in the audited
# system scope and under the transaction-local setting `dsr.pseudonymise`, may rewrite the free
# text of an entry (`reason`, `changes`). Every other column must stay as it was; DELETE is
# always refused.
HISTORY_APPEND_ONLY = """
CREATE FUNCTION registers_statuschange_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('dsr.scope', true) = 'system'
       AND current_setting('dsr.pseudonymise', true) = 'on'
       AND (to_jsonb(NEW) - 'reason' - 'changes') = (to_jsonb(OLD) - 'reason' - 'changes')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER registers_statuschange_no_update_or_delete BEFORE UPDATE OR DELETE
    ON registers_statuschange FOR EACH ROW EXECUTE FUNCTION registers_statuschange_append_only();
"""
HISTORY_APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS registers_statuschange_no_update_or_delete ON registers_statuschange;
DROP FUNCTION IF EXISTS registers_statuschange_append_only();
"""

# A pending transfer belongs to both authorities: the sender's and the receiver's staff see it.
# Only the sender may create one, only for a person on its own register, and neither side may
# later change who the parties are (accepting a transfer copies the named person in the system
# scope, so a forged row would leak a record).
TRANSFERS = """
ALTER TABLE registers_transfer ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_transfer FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_transfer FOR ALL
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])
        OR to_authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]))
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])
        OR to_authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_transfer FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])
        OR to_authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY sender_creates ON registers_transfer AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE TRIGGER registers_transfer_no_truncate BEFORE TRUNCATE ON registers_transfer
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

CREATE FUNCTION registers_transfer_parties() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (
        NEW.authority_id IS DISTINCT FROM OLD.authority_id
        OR NEW.to_authority_id IS DISTINCT FROM OLD.to_authority_id
        OR NEW.person_id IS DISTINCT FROM OLD.person_id
    ) THEN
        RAISE EXCEPTION 'the parties to a transfer cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' AND NOT EXISTS (
        SELECT 1 FROM registers_person WHERE id = NEW.person_id AND authority_id = NEW.authority_id
    ) THEN
        RAISE EXCEPTION 'a transfer names a person on the sending register'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registers_transfer_parties BEFORE INSERT OR UPDATE ON registers_transfer
    FOR EACH ROW EXECUTE FUNCTION registers_transfer_parties();
"""
TRANSFERS_REVERSE = """
DROP TRIGGER IF EXISTS registers_transfer_parties ON registers_transfer;
DROP FUNCTION IF EXISTS registers_transfer_parties();
DROP TRIGGER IF EXISTS registers_transfer_no_truncate ON registers_transfer;
DROP POLICY IF EXISTS sender_creates ON registers_transfer;
DROP POLICY IF EXISTS tenant_read ON registers_transfer;
DROP POLICY IF EXISTS tenant_write ON registers_transfer;
ALTER TABLE registers_transfer NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_transfer DISABLE ROW LEVEL SECURITY;
"""

# Audit rows: read within scope, appended by anyone (national and system events carry no
# authority), never updated or deleted. The national scope appends events with no authority (its
# requests and builds); INSERT ... RETURNING needs them readable, so it may read those rows.
AUDIT = """
ALTER TABLE registers_auditevent ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_auditevent FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_read ON registers_auditevent FOR SELECT
    USING ((SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY audit_append ON registers_auditevent FOR INSERT
    WITH CHECK (authority_id IS NULL
        OR (SELECT current_setting('dsr.scope', true)) = 'system'
        OR authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY audit_read_national ON registers_auditevent FOR SELECT
    USING (authority_id IS NULL AND (SELECT current_setting('dsr.scope', true)) = 'national');

CREATE FUNCTION registers_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER registers_auditevent_no_update_or_delete BEFORE UPDATE OR DELETE
    ON registers_auditevent FOR EACH ROW EXECUTE FUNCTION registers_auditevent_append_only();
CREATE TRIGGER registers_auditevent_no_truncate BEFORE TRUNCATE ON registers_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
AUDIT_REVERSE = """
DROP TRIGGER IF EXISTS registers_auditevent_no_truncate ON registers_auditevent;
DROP TRIGGER IF EXISTS registers_auditevent_no_update_or_delete ON registers_auditevent;
DROP FUNCTION IF EXISTS registers_auditevent_append_only();
DROP POLICY IF EXISTS audit_read_national ON registers_auditevent;
DROP POLICY IF EXISTS audit_append ON registers_auditevent;
DROP POLICY IF EXISTS audit_read ON registers_auditevent;
ALTER TABLE registers_auditevent NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_auditevent DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]

    operations = [
        migrations.RunSQL(REFUSE_TRUNCATE, REFUSE_TRUNCATE_REVERSE),
        migrations.RunSQL(TENANT_TABLES, TENANT_TABLES_REVERSE),
        migrations.RunSQL(HISTORY_APPEND_ONLY, HISTORY_APPEND_ONLY_REVERSE),
        migrations.RunSQL(TRANSFERS, TRANSFERS_REVERSE),
        migrations.RunSQL(AUDIT, AUDIT_REVERSE),
    ]
