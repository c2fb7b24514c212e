"""The dashboard's trend reads spells kept from the history by triggers (`TrendSpell`).

The trend counted each month end by rebuilding every person's state from the authority's history
in one query (about 0.9 s for Glasgow City at 100 times Scotland's volume). The spells hold the
same answer ready: the spans of days over which a person counts (in hospital, or out of area),
each history entry being in force from its effective date until the person's next entry (ties by
recording time, then id; the earlier of several on one day is in force for no day) or the day
they left, and consecutive entries that count alike making one spell. Counting a date is then counting the spells that contain it, today included, with
no month to fill in when a month ends.

History is append-only: rows are only inserted, or deleted by erasure (`dsr_erase_register_entry`);
retention's update may change only `reason` and `changes`, which no spell reads. A statement
trigger after each INSERT and each DELETE rebuilds the spells of the people the statement touched
from their whole history (a few entries each), so a back-dated entry, a leaving and an erasure all
land, and a bulk insert (seeding, bulk upsert, locality moves) costs one set-based rebuild. The
trigger runs with the caller's rights under row-level security: whoever may write a person's
history may write their spells, and the table is a tenant table like the others.
"""

import django.db.models.deletion
from django.db import migrations, models

# The spells, from the history rows {where} picks. Each entry that counts is in force from its
# effective date until the person's next entry or the day they left (the earlier of two entries
# on one day is in force for no day and drops out); consecutive entries that count the same way
# (a review, a new rating: most entries) join into one spell, so a person in hospital for a year
# has one spell, not one an entry. A person's rows are all in one authority; the windows
# partition by both in any case.
SPELLS = """
WITH entry AS (
    SELECT h.authority_id, h.person_id, h.effective_date AS valid_from,
           least(
               lead(h.effective_date) OVER (
                   PARTITION BY h.authority_id, h.person_id
                   ORDER BY h.effective_date, h.changed_at, h.id
               ),
               st.date_left
           ) AS valid_until,
           coalesce(st.urgent_reason = 'in_hospital', false) AS in_hospital,
           st.ready_for_discharge_date,
           coalesce(st.category = 'appropriate_out_of_area'
                    OR st.urgent_reason = 'inappropriate_out_of_area', false) AS out_of_area
    FROM registers_statuschange AS h
    -- The state read once a row (each ->> would read the whole value again).
    CROSS JOIN LATERAL jsonb_to_record(h.state) AS st(
        category text, urgent_reason text, ready_for_discharge_date date, date_left date
    )
    {where}
), counted AS (
    SELECT *, CASE WHEN lag(valid_until) OVER w = valid_from
                        AND lag(in_hospital) OVER w = in_hospital
                        AND lag(out_of_area) OVER w = out_of_area
                        AND lag(ready_for_discharge_date) OVER w
                            IS NOT DISTINCT FROM ready_for_discharge_date
                   THEN 0 ELSE 1 END AS starts_spell
    FROM entry
    WHERE (in_hospital OR out_of_area) AND (valid_until IS NULL OR valid_until > valid_from)
    WINDOW w AS (PARTITION BY authority_id, person_id ORDER BY valid_from)
), numbered AS (
    SELECT *, sum(starts_spell) OVER (
        PARTITION BY authority_id, person_id ORDER BY valid_from
    ) AS spell
    FROM counted
)
SELECT authority_id, person_id, min(valid_from),
       CASE WHEN bool_or(valid_until IS NULL) THEN NULL ELSE max(valid_until) END,
       in_hospital, ready_for_discharge_date, out_of_area
FROM numbered
GROUP BY authority_id, person_id, spell, in_hospital, ready_for_discharge_date, out_of_area
"""
COLUMNS = (
    "authority_id, person_id, valid_from, valid_until, in_hospital, ready_for_discharge_date, "
    "out_of_area"
)

# Row-level security for the new tenant table, written out as the policy helper gives it
# (`tenant_policy_sql` in dsr/rls.py): a migration does the same on every database it runs on.
POLICY = """
ALTER TABLE registers_trendspell ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_trendspell FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_trendspell FOR ALL USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])) WITH CHECK (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_trendspell FOR SELECT USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY system_all ON registers_trendspell TO dsr_system USING (true) WITH CHECK (true);
CREATE POLICY scope_sealed ON registers_trendspell AS RESTRICTIVE FOR ALL USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));
CREATE TRIGGER registers_trendspell_no_truncate BEFORE TRUNCATE ON registers_trendspell FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();
"""
REVERSE_POLICY = """
DROP TRIGGER IF EXISTS registers_trendspell_no_truncate ON registers_trendspell;
DROP POLICY IF EXISTS scope_sealed ON registers_trendspell;
DROP POLICY IF EXISTS system_all ON registers_trendspell;
DROP POLICY IF EXISTS tenant_read ON registers_trendspell;
DROP POLICY IF EXISTS tenant_write ON registers_trendspell;
ALTER TABLE registers_trendspell NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_trendspell DISABLE ROW LEVEL SECURITY;
"""

TRIGGERS = f"""
CREATE FUNCTION registers_trendspell_rebuild() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    DELETE FROM registers_trendspell AS s
    WHERE (s.authority_id, s.person_id) IN (SELECT authority_id, person_id FROM changed);
    INSERT INTO registers_trendspell ({COLUMNS})
    {
    SPELLS.format(
        where="WHERE (h.authority_id, h.person_id) IN (SELECT authority_id, person_id FROM changed)"
    )
};
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION registers_trendspell_rebuild() FROM PUBLIC;
CREATE TRIGGER registers_statuschange_trend_insert AFTER INSERT ON registers_statuschange
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION registers_trendspell_rebuild();
CREATE TRIGGER registers_statuschange_trend_delete AFTER DELETE ON registers_statuschange
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION registers_trendspell_rebuild();
"""  # noqa: S608 - fixed names
REVERSE_TRIGGERS = """
DROP TRIGGER IF EXISTS registers_statuschange_trend_delete ON registers_statuschange;
DROP TRIGGER IF EXISTS registers_statuschange_trend_insert ON registers_statuschange;
DROP FUNCTION IF EXISTS registers_trendspell_rebuild();
"""

# The spells of the history there is, as the cross-tenant role (the owner, too, is bound by
# row-level security and would see no history).
BACKFILL = f"""
SET LOCAL ROLE dsr_system;
INSERT INTO registers_trendspell ({COLUMNS}) {SPELLS.format(where="")};
RESET ROLE;
ANALYZE registers_trendspell;
"""  # noqa: S608 - fixed names


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0012_idempotency_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrendSpell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("valid_from", models.DateField()),
                ("valid_until", models.DateField(null=True)),
                ("in_hospital", models.BooleanField()),
                ("ready_for_discharge_date", models.DateField(null=True)),
                ("out_of_area", models.BooleanField()),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registers.integrationauthority",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["authority", "person"], name="trendspell_person")],
            },
        ),
        migrations.RunSQL(POLICY, REVERSE_POLICY),
        migrations.RunSQL(TRIGGERS, REVERSE_TRIGGERS),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
