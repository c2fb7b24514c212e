"""The change feed's log: one row per change to a person, written by the database in the writing
transaction (docs/api.md, "Syncing with the change feed").

Statement triggers on `registers_person` (with transition tables, so a 500-row bulk write is one
INSERT ... SELECT) write a row per person inserted, changed or deleted, whatever code path made the
write: services, queryset and bulk updates, retention (as `dsr_system`), erasure (inside
`dsr_erase_register_entry`, as the owner).

Positions. A row's id is its position, taken from the sequence as the row is written; a writer
that commits late can hold a lower id than rows already committed. So the feed hands out only ids
below a horizon under which every writer has ended: before it takes its first id, a transaction
marks itself with a shared advisory lock keyed by the sequence's last value (which is at most any
id it takes after), once per transaction (the transaction-local `dsr.feed_marked`).
`dsr_change_feed_horizon()` reads the sequence's last value, then the marks held: the horizon is the
lowest mark, or the next id when no writer is in flight. (A writer that marks after the sequence
was read takes ids above it; a writer whose mark is gone has committed or rolled back, and a later
snapshot sees what it committed.) Only writers of people hold the feed back, and only while
they run; the advisory keys carry the tag 0x4453 in their top 16 bits.

The kind: a new row is `created`, or `transferred_in` when the transfer service says so in the
transaction-local setting `dsr.change_kind` (a label only: the row is still the writer's own
authority's, under the policies); an update that first sets `pseudonymised_at` is `pseudonymised`,
one that first sets `date_left` is `left` or `transferred_out` (by the leaving reason), any other
update that changes the row is `changed`; a delete is `erased`.

The log is a tenant table under the same policies as the others (dsr/rls.py, written out), and
append-only. Accepting a transfer closes the sender's entry from the receiver's scope, through the
transaction grant of registers/0004: the same grant admits the sender's log row.
"""

import django.db.models.deletion
from django.db import migrations, models

POLICY = """
ALTER TABLE registers_personchange ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_personchange FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_personchange FOR ALL USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])) WITH CHECK (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_personchange FOR SELECT USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY system_all ON registers_personchange TO dsr_system USING (true) WITH CHECK (true);
CREATE POLICY scope_sealed ON registers_personchange AS RESTRICTIVE FOR ALL USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));
CREATE POLICY transfer_acceptance ON registers_personchange FOR INSERT
    WITH CHECK (authority_id = ANY ((SELECT dsr_granted('transfer_authority'))::bigint[]));
CREATE TRIGGER registers_personchange_no_truncate BEFORE TRUNCATE ON registers_personchange FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

REVOKE UPDATE, DELETE ON registers_personchange FROM dsr_app, dsr_worker, dsr_system;
CREATE FUNCTION registers_personchange_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER registers_personchange_no_update_or_delete BEFORE UPDATE OR DELETE ON registers_personchange
    FOR EACH ROW EXECUTE FUNCTION registers_personchange_append_only();
"""
REVERSE_POLICY = """
DROP TRIGGER IF EXISTS registers_personchange_no_update_or_delete ON registers_personchange;
DROP FUNCTION IF EXISTS registers_personchange_append_only();
GRANT UPDATE, DELETE ON registers_personchange TO dsr_app, dsr_worker, dsr_system;
DROP TRIGGER IF EXISTS registers_personchange_no_truncate ON registers_personchange;
DROP POLICY IF EXISTS transfer_acceptance ON registers_personchange;
DROP POLICY IF EXISTS scope_sealed ON registers_personchange;
DROP POLICY IF EXISTS system_all ON registers_personchange;
DROP POLICY IF EXISTS tenant_read ON registers_personchange;
DROP POLICY IF EXISTS tenant_write ON registers_personchange;
ALTER TABLE registers_personchange NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_personchange DISABLE ROW LEVEL SECURITY;
"""

TRIGGERS = """
CREATE FUNCTION dsr_change_feed_mark() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('dsr.feed_marked', true), '') = '' THEN
        PERFORM pg_advisory_xact_lock_shared(
            (x'4453'::bigint << 48) | (SELECT last_value FROM registers_personchange_id_seq));
        PERFORM set_config('dsr.feed_marked', 'on', true);
    END IF;
END $$;

CREATE FUNCTION dsr_change_feed_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_last bigint;
    v_called boolean;
    v_mark bigint;
BEGIN
    -- First the sequence, then the marks (see the migration's account of why in this order).
    SELECT last_value, is_called INTO v_last, v_called FROM registers_personchange_id_seq;
    SELECT min(((l.classid::bigint << 32) | l.objid::bigint) - (x'4453'::bigint << 48))
    INTO v_mark
    FROM pg_locks AS l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND (l.classid::bigint >> 16) = x'4453'::bigint
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    RETURN least(v_mark, CASE WHEN v_called THEN v_last + 1 ELSE v_last END);
END $$;

CREATE FUNCTION registers_person_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz := clock_timestamp();
BEGIN
    PERFORM dsr_change_feed_mark();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO registers_personchange (authority_id, person_id, kind, occurred_at)
        SELECT n.authority_id, n.id,
            CASE WHEN current_setting('dsr.change_kind', true) = 'transferred_in'
                THEN 'transferred_in' ELSE 'created' END,
            v_at
        FROM new_rows AS n ORDER BY n.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO registers_personchange (authority_id, person_id, kind, occurred_at)
        SELECT n.authority_id, n.id,
            CASE
                WHEN n.pseudonymised_at IS NOT NULL AND o.pseudonymised_at IS NULL
                    THEN 'pseudonymised'
                WHEN n.date_left IS NOT NULL AND o.date_left IS NULL
                    AND n.leaving_reason = 'transferred_to_other_ia' THEN 'transferred_out'
                WHEN n.date_left IS NOT NULL AND o.date_left IS NULL THEN 'left'
                ELSE 'changed'
            END,
            v_at
        FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE to_jsonb(n) IS DISTINCT FROM to_jsonb(o)
        ORDER BY n.id;
    ELSE
        INSERT INTO registers_personchange (authority_id, person_id, kind, occurred_at)
        SELECT o.authority_id, o.id, 'erased', v_at FROM old_rows AS o ORDER BY o.id;
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION dsr_change_feed_mark(), dsr_change_feed_horizon(),
    registers_person_log_changes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dsr_change_feed_mark(), dsr_change_feed_horizon()
    TO dsr_app, dsr_worker, dsr_system;

CREATE TRIGGER registers_person_log_inserts AFTER INSERT ON registers_person
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_log_changes();
CREATE TRIGGER registers_person_log_updates AFTER UPDATE ON registers_person
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_log_changes();
CREATE TRIGGER registers_person_log_deletes AFTER DELETE ON registers_person
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_log_changes();
"""
REVERSE_TRIGGERS = """
DROP TRIGGER IF EXISTS registers_person_log_deletes ON registers_person;
DROP TRIGGER IF EXISTS registers_person_log_updates ON registers_person;
DROP TRIGGER IF EXISTS registers_person_log_inserts ON registers_person;
DROP FUNCTION IF EXISTS registers_person_log_changes();
DROP FUNCTION IF EXISTS dsr_change_feed_horizon();
DROP FUNCTION IF EXISTS dsr_change_feed_mark();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0013_trend_spells"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("person_id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "Added to the register"),
                            ("changed", "Changed"),
                            ("left", "Left the register"),
                            ("transferred_out", "Transferred to another authority"),
                            ("transferred_in", "Transferred in from another authority"),
                            ("pseudonymised", "Pseudonymised after the retention period"),
                            ("erased", "Erased as added in error"),
                        ],
                        max_length=20,
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registers.integrationauthority",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["authority", "id"], name="personchange_position")],
            },
        ),
        migrations.RunSQL(POLICY, REVERSE_POLICY),
        migrations.RunSQL(TRIGGERS, REVERSE_TRIGGERS),
    ]
