"""The register's counts by authority, locality, category and urgent reason, kept by the database
(`RegisterCount`), so the count cards read a few rows instead of every person in scope.

The unfiltered register list counted its people by category on every request: an index-only scan
of a practitioner's 11,800 people in Glasgow City at 100 times Scotland's volume, 2.7 ms on a
freshly vacuumed table and 8 ms once updates had taken pages off the visibility map (as they do
between vacuums), the costliest statement of the load test's most frequent page.

Statement triggers on `registers_person` (transition tables, so a bulk write is one INSERT ...
SELECT) append, for each bucket a statement changed, the people who came into it less those who
went out: an insert counts its new rows on the register, a delete its old ones, and an update its
new rows less its old ones, so a bucket an update left as it was (a new rating, a new name) sums
to nothing and appends nothing. There is no join and no row of the counts is ever updated: writers
only insert and never wait on each other. Rows are folded into one a bucket by
`compact_register_counts` (the cross-tenant role's DELETE ... RETURNING, re-inserted as sums), which
concurrent writers do not wait on either; the web and worker roles may not update or delete them.

The counts are a tenant table under the same policies as the others (dsr/rls.py, written out), and
written in the writer's scope, like the change log (registers/0014): accepting a transfer closes the
sender's entry from the receiver's scope, and the same transaction grant admits the sender's count.
Erasure (`dsr_erase_register_entry`, as the owner) and retention (as `dsr_system`) count alike.
"""

import django.db.models.deletion
from django.db import migrations, models

POLICY = """
ALTER TABLE registers_registercount ENABLE ROW LEVEL SECURITY;
ALTER TABLE registers_registercount FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_write ON registers_registercount FOR ALL USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[])) WITH CHECK (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY tenant_read ON registers_registercount FOR SELECT USING (authority_id = ANY ((SELECT string_to_array(NULLIF(current_setting('dsr.authorities', true), ''), ','))::bigint[]));
CREATE POLICY system_all ON registers_registercount TO dsr_system USING (true) WITH CHECK (true);
CREATE POLICY scope_sealed ON registers_registercount AS RESTRICTIVE FOR ALL USING ((SELECT dsr_scope_sealed())) WITH CHECK ((SELECT dsr_scope_sealed()));
CREATE POLICY transfer_acceptance ON registers_registercount FOR INSERT
    WITH CHECK (authority_id = ANY ((SELECT dsr_granted('transfer_authority'))::bigint[]));
CREATE TRIGGER registers_registercount_no_truncate BEFORE TRUNCATE ON registers_registercount FOR EACH STATEMENT EXECUTE FUNCTION dsr_refuse_truncate();

-- Only the cross-tenant role folds rows (DELETE); nobody rewrites one.
REVOKE UPDATE ON registers_registercount FROM dsr_app, dsr_worker, dsr_system;
REVOKE DELETE ON registers_registercount FROM dsr_app, dsr_worker;
"""
REVERSE_POLICY = """
GRANT UPDATE, DELETE ON registers_registercount TO dsr_app, dsr_worker, dsr_system;
DROP TRIGGER IF EXISTS registers_registercount_no_truncate ON registers_registercount;
DROP POLICY IF EXISTS transfer_acceptance ON registers_registercount;
DROP POLICY IF EXISTS scope_sealed ON registers_registercount;
DROP POLICY IF EXISTS system_all ON registers_registercount;
DROP POLICY IF EXISTS tenant_read ON registers_registercount;
DROP POLICY IF EXISTS tenant_write ON registers_registercount;
ALTER TABLE registers_registercount NO FORCE ROW LEVEL SECURITY;
ALTER TABLE registers_registercount DISABLE ROW LEVEL SECURITY;
"""

BUCKET = "authority_id, locality_id, category, urgent_reason"

TRIGGERS = f"""
CREATE FUNCTION registers_person_count_changes() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO registers_registercount ({BUCKET}, n)
        SELECT {BUCKET}, count(*) FROM new_rows WHERE date_left IS NULL
        GROUP BY {BUCKET};
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO registers_registercount ({BUCKET}, n)
        SELECT {BUCKET}, sum(d) FROM (
            SELECT {BUCKET}, 1 AS d FROM new_rows WHERE date_left IS NULL
            UNION ALL
            SELECT {BUCKET}, -1 AS d FROM old_rows WHERE date_left IS NULL
        ) AS moved
        GROUP BY {BUCKET} HAVING sum(d) <> 0;
    ELSE
        INSERT INTO registers_registercount ({BUCKET}, n)
        SELECT {BUCKET}, -count(*) FROM old_rows WHERE date_left IS NULL
        GROUP BY {BUCKET};
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION registers_person_count_changes() FROM PUBLIC;

CREATE TRIGGER registers_person_count_inserts AFTER INSERT ON registers_person
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_count_changes();
CREATE TRIGGER registers_person_count_updates AFTER UPDATE ON registers_person
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_count_changes();
CREATE TRIGGER registers_person_count_deletes AFTER DELETE ON registers_person
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registers_person_count_changes();
"""  # noqa: S608 - fixed names
REVERSE_TRIGGERS = """
DROP TRIGGER IF EXISTS registers_person_count_deletes ON registers_person;
DROP TRIGGER IF EXISTS registers_person_count_updates ON registers_person;
DROP TRIGGER IF EXISTS registers_person_count_inserts ON registers_person;
DROP FUNCTION IF EXISTS registers_person_count_changes();
"""

# The people there are, counted as the cross-tenant role (the owner, too, is bound by row-level
# security). Creating the triggers locked the person table against writers until this migration
# commits, so no write falls between the count and the triggers.
BACKFILL = f"""
SET LOCAL ROLE dsr_system;
INSERT INTO registers_registercount ({BUCKET}, n)
SELECT {BUCKET}, count(*) FROM registers_person WHERE date_left IS NULL GROUP BY {BUCKET};
RESET ROLE;
"""  # noqa: S608 - fixed names


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0021_change_log_join_plan"),
    ]

    operations = [
        migrations.CreateModel(
            name="RegisterCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("locality_id", models.BigIntegerField(null=True)),
                ("category", models.CharField(max_length=30)),
                ("urgent_reason", models.CharField(max_length=30, null=True)),
                ("n", models.IntegerField()),
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
                "indexes": [
                    models.Index(fields=["authority", "locality_id"], name="registercount_bucket")
                ],
            },
        ),
        migrations.RunSQL(POLICY, REVERSE_POLICY),
        migrations.RunSQL(TRIGGERS, REVERSE_TRIGGERS),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
