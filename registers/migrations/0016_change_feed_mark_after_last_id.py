"""A writer's mark in the change feed (registers/0014) is the next id it can take, not the last
one taken: a writer that starts just after a change no longer holds that change back. When the
sequence has handed out `last_value`, every id taken later is above it; before its first id
(`is_called` false) the next is `last_value` itself."""

from django.db import migrations

MARK = """
CREATE OR REPLACE FUNCTION dsr_change_feed_mark() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('dsr.feed_marked', true), '') = '' THEN
        PERFORM pg_advisory_xact_lock_shared((x'4453'::bigint << 48) | (
            SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END
            FROM registers_personchange_id_seq));
        PERFORM set_config('dsr.feed_marked', 'on', true);
    END IF;
END $$;
"""
REVERSE = """
CREATE OR REPLACE FUNCTION dsr_change_feed_mark() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('dsr.feed_marked', true), '') = '' THEN
        PERFORM pg_advisory_xact_lock_shared(
            (x'4453'::bigint << 48) | (SELECT last_value FROM registers_personchange_id_seq));
        PERFORM set_config('dsr.feed_marked', 'on', true);
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("registers", "0015_webhooks")]

    operations = [migrations.RunSQL(MARK, REVERSE)]
