"""A large insert into the history rebuilds the spells of everyone it touched, as before 0018.

0018 skips the people whose new entries continue their latest one, found by comparing each new
entry with the person's latest entry not in the statement (`h.id <> ALL (v_new)`): a comparison
with every new id for every earlier entry, so quadratic in the statement's size. For a bulk upsert
of 500 that is a few milliseconds; for seeding or an import of tens of thousands of entries in one
statement it took minutes per authority. Past SKIP_AT_MOST new entries the trigger takes its
delete branch: everyone touched rebuilt in one set-based pass, always correct (the skip is only a
saving) and linear.
"""

import importlib

from django.db import migrations

SKIP_0018 = importlib.import_module(
    "registers.migrations.0018_trend_spells_skip_continuing_entries"
)

SKIP_AT_MOST = 2000

FUNCTION = SKIP_0018.FUNCTION.replace(
    "    IF TG_OP = 'DELETE' THEN",
    f"    IF TG_OP = 'DELETE' OR (SELECT count(*) FROM changed) > {SKIP_AT_MOST} THEN",  # noqa: S608 - a constant
)
assert FUNCTION != SKIP_0018.FUNCTION


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0018_trend_spells_skip_continuing_entries"),
    ]

    operations = [migrations.RunSQL(FUNCTION, SKIP_0018.FUNCTION)]
