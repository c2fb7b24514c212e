from django.db import migrations

from dsr.rls import AUTHORITY_IN_SCOPE, REFUSE_TRUNCATE_FUNCTION, SCOPE_IS_SYSTEM

# Every table under forced row-level security (tenant tables, history, audit) refuses TRUNCATE,
# which row-level security and row triggers do not see. Tables created later get the trigger from
# dsr.rls.enable_tenant_rls.
FOR_EACH_PROTECTED_TABLE = """
DO $$
DECLARE t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relforcerowsecurity
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_no_truncate', t);
        {create}
    END LOOP;
END $$;
"""
CREATE = (
    "EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT "
    "EXECUTE FUNCTION dsr_refuse_truncate()', t || '_no_truncate', t);"
)


# A transfer row is shared by both authorities, but only the sender may create one, only for a
# person on its own register, and neither side may later change who the parties are (accepting a
# transfer copies the named person in the system scope, so a forged row would leak a record).
SENDER_IN_SCOPE = f"{SCOPE_IS_SYSTEM} OR {AUTHORITY_IN_SCOPE.format(column='authority_id')}"
SENDER_CREATES = (
    "CREATE POLICY sender_creates ON registers_transfer AS RESTRICTIVE FOR INSERT "
    f"WITH CHECK ({SENDER_IN_SCOPE});"
)
TRANSFER_PARTIES = """
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
TRANSFER_PARTIES_REVERSE = """
DROP TRIGGER IF EXISTS registers_transfer_parties ON registers_transfer;
DROP FUNCTION IF EXISTS registers_transfer_parties();
DROP POLICY IF EXISTS sender_creates ON registers_transfer;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0007_person_register_counts_index"),
        ("accounts", "0003_membership_row_level_security"),
        ("reporting", "0002_reporting_row_level_security"),
    ]

    operations = [
        migrations.RunSQL(
            REFUSE_TRUNCATE_FUNCTION + ";\n" + FOR_EACH_PROTECTED_TABLE.format(create=CREATE),
            FOR_EACH_PROTECTED_TABLE.format(create=""),
        ),
        migrations.RunSQL(SENDER_CREATES + TRANSFER_PARTIES, TRANSFER_PARTIES_REVERSE),
    ]
