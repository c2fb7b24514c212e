"""The history's insert trigger rebuilds only the spells an insert can change.

Rebuilding the spells of every person a statement touched read each one's whole history: 70 to
110 ms for a bulk upsert of 500 people, most of the statement's time, although a change of details
appends an entry that counts exactly as the entry before it. Such an entry changes no spell: when
every new entry of a person comes after all their earlier ones (by effective date, time recorded,
id) and counts as the latest earlier one does (in hospital, out of area, ready for discharge, date
left), the earlier entry is now in force until the first new one, which goes on as it did, so the
spell it belonged to (if any) is unchanged, and entries that count for no day drop out as before.
Those people are skipped; everyone else is rebuilt from their whole history as before. A delete
still rebuilds everyone it touched. tests/registers/test_dashboard_trend_spells.py checks the kept
spells against a rebuild from scratch on random histories, such appends included.
"""

import importlib

from django.db import migrations

SPELLS_0013 = importlib.import_module("registers.migrations.0013_trend_spells")
COLUMNS = SPELLS_0013.COLUMNS
SPELLS = SPELLS_0013.SPELLS

# The attributes a spell depends on, read from a history row's state.
COUNTS_AS = """
    coalesce(st.urgent_reason = 'in_hospital', false) AS in_hospital,
    st.ready_for_discharge_date,
    coalesce(st.category = 'appropriate_out_of_area'
             OR st.urgent_reason = 'inappropriate_out_of_area', false) AS out_of_area,
    st.date_left
"""
STATE = (
    "jsonb_to_record({row}.state) AS st(category text, urgent_reason text, "
    "ready_for_discharge_date date, date_left date)"
)

REBUILT = "(SELECT * FROM unnest(v_authorities, v_people) AS r(authority_id, person_id))"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION registers_trendspell_rebuild() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_new bigint[];
    v_authorities bigint[];
    v_people bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM registers_trendspell AS s
        WHERE (s.authority_id, s.person_id) IN (SELECT authority_id, person_id FROM changed);
        INSERT INTO registers_trendspell ({COLUMNS})
        {
    SPELLS.format(
        where="WHERE (h.authority_id, h.person_id) IN (SELECT authority_id, person_id FROM changed)"
    )
};
        RETURN NULL;
    END IF;
    SELECT array_agg(id) INTO v_new FROM changed;
    -- Everyone touched, but those all of whose new entries come after every earlier entry and
    -- count as the latest earlier one does.
    SELECT array_agg(authority_id), array_agg(person_id) INTO v_authorities, v_people
    FROM (
    SELECT n.authority_id, n.person_id
    FROM (
        SELECT c.authority_id, c.person_id, c.effective_date, c.changed_at, c.id, {COUNTS_AS}
        FROM changed AS c CROSS JOIN LATERAL {STATE.format(row="c")}
    ) AS n
    LEFT JOIN LATERAL (
        SELECT h.effective_date, h.changed_at, h.id, {COUNTS_AS}
        FROM registers_statuschange AS h CROSS JOIN LATERAL {STATE.format(row="h")}
        WHERE h.authority_id = n.authority_id AND h.person_id = n.person_id
          AND h.id <> ALL (v_new)
        ORDER BY h.effective_date DESC, h.changed_at DESC, h.id DESC
        LIMIT 1
    ) AS p ON true
    GROUP BY n.authority_id, n.person_id
    HAVING NOT bool_and(
        p.id IS NOT NULL
        AND (p.effective_date, p.changed_at, p.id) < (n.effective_date, n.changed_at, n.id)
        AND p.in_hospital = n.in_hospital
        AND p.out_of_area = n.out_of_area
        AND p.ready_for_discharge_date IS NOT DISTINCT FROM n.ready_for_discharge_date
        AND p.date_left IS NOT DISTINCT FROM n.date_left
    )
    ) AS touched;
    IF v_people IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM registers_trendspell AS s WHERE (s.authority_id, s.person_id) IN {REBUILT};
    INSERT INTO registers_trendspell ({COLUMNS})
    {SPELLS.format(where=f"WHERE (h.authority_id, h.person_id) IN {REBUILT}")};
    RETURN NULL;
END $$;
"""  # noqa: S608 - fixed names

OLD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registers_trendspell_rebuild() RETURNS trigger
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
"""  # noqa: S608 - fixed names


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0017_statuschange_review_set_index"),
    ]

    operations = [migrations.RunSQL(FUNCTION, OLD_FUNCTION)]
