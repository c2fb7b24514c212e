from django.db import migrations

# A transfer row belongs to both authorities only while it is pending: the receiving lead needs the
# person summary to decide. Once decided (accepted, declined or cancelled) the summary is the
# sending authority's alone: restrictive policies hide the row from the receiving side and refuse
# it any further UPDATE or DELETE. (Deciding is the receiver's last write: the row it updates is
# still pending, and the decided row it writes need not stay visible to it.)
# The scope expressions as dsr/rls.py wrote them when this migration was made (written out here so
# that a later change there does not rewrite history).
SENDER_OR_PENDING = (
    "(SELECT current_setting('dsr.scope', true)) = 'system'"
    " OR authority_id = ANY ((SELECT string_to_array("
    "NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])"
    " OR status = 'pending'"
)
FORWARD = f"""
CREATE POLICY receiver_until_decided_read ON registers_transfer AS RESTRICTIVE FOR SELECT
    USING ({SENDER_OR_PENDING});
CREATE POLICY receiver_until_decided_update ON registers_transfer AS RESTRICTIVE FOR UPDATE
    USING ({SENDER_OR_PENDING}) WITH CHECK (true);
CREATE POLICY receiver_until_decided_delete ON registers_transfer AS RESTRICTIVE FOR DELETE
    USING ({SENDER_OR_PENDING});
"""
REVERSE = """
DROP POLICY IF EXISTS receiver_until_decided_delete ON registers_transfer;
DROP POLICY IF EXISTS receiver_until_decided_update ON registers_transfer;
DROP POLICY IF EXISTS receiver_until_decided_read ON registers_transfer;
"""


class Migration(migrations.Migration):
    dependencies = [("registers", "0010_person_search_names")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
