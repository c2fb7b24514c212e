from django.db import migrations

# A transfer row belongs to both authorities only while it is pending: the receiving lead needs the
# person summary to decide. Once decided (accepted, declined or cancelled) the row, summary and all,
# is the sending authority's alone: restrictive policies hide it from the receiving side and refuse
# it any further UPDATE or DELETE.
#
# Deciding is the receiver's last write. PostgreSQL checks an UPDATE's new row against the SELECT
# policies too, so the decided row stays readable by the user who decided it within the deciding
# transaction only: a trigger stamps `decided_at` with the transaction's own timestamp when the
# status leaves 'pending', and the policy admits the decider while `decided_at` equals it. Any later
# transaction has a later timestamp, and the receiver can no longer update the row to change that.
#
# The scope expressions are written as dsr/rls.py wrote them when this migration was made (so that
# a later change there does not rewrite history).
SENDER = (
    "authority_id = ANY ((SELECT string_to_array("
    "NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])"
)
DECIDER_NOW = (
    "(decided_at = transaction_timestamp() AND decided_by_id = "
    "(SELECT NULLIF(current_setting('dsr.user_id', true), ''))::bigint)"
)
SENDER_OR_PENDING = f"{SENDER} OR status = 'pending'"

FORWARD = f"""
CREATE FUNCTION registers_transfer_decided_now() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status <> 'pending' THEN
        NEW.decided_at := transaction_timestamp();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registers_transfer_decided_now BEFORE UPDATE ON registers_transfer
    FOR EACH ROW EXECUTE FUNCTION registers_transfer_decided_now();

CREATE POLICY receiver_until_decided_read ON registers_transfer AS RESTRICTIVE FOR SELECT
    TO dsr_app, dsr_worker
    USING ({SENDER_OR_PENDING} OR {DECIDER_NOW});
CREATE POLICY receiver_until_decided_update ON registers_transfer AS RESTRICTIVE FOR UPDATE
    TO dsr_app, dsr_worker
    USING ({SENDER_OR_PENDING}) WITH CHECK (true);
CREATE POLICY receiver_until_decided_delete ON registers_transfer AS RESTRICTIVE FOR DELETE
    TO dsr_app, dsr_worker
    USING ({SENDER_OR_PENDING});
"""
REVERSE = """
DROP POLICY IF EXISTS receiver_until_decided_delete ON registers_transfer;
DROP POLICY IF EXISTS receiver_until_decided_update ON registers_transfer;
DROP POLICY IF EXISTS receiver_until_decided_read ON registers_transfer;
DROP TRIGGER IF EXISTS registers_transfer_decided_now ON registers_transfer;
DROP FUNCTION IF EXISTS registers_transfer_decided_now();
"""


class Migration(migrations.Migration):
    dependencies = [("registers", "0004_database_roles")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
