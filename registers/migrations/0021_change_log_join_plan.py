"""The change log's update trigger (registers/0014) joins each row's old and new versions in
linear time, whatever plan PL/pgSQL has cached.

PL/pgSQL plans a statement once per connection and keeps the plan. A transition table's size is
known only when the statement is planned, so a connection whose first updates of people were one
row at a time (a web or API process) kept a nested loop over the old and new rows and ran it for a
bulk upsert of 500 too: 250,000 comparisons, 130 ms of a 280 ms request, and quadratic beyond (an
update of 4,000 rows did not finish in 3 s). Without nested loops the planner has only the hash and merge
joins, which are linear, at any size it planned for.

Rows are compared as records (`n IS DISTINCT FROM o`), by each column's equality, instead of as
JSON documents: a quarter of the time, and the same answer for the person table's column types
(text, numbers, dates, times, booleans and arrays of text).
"""

import importlib

from django.db import migrations

CHANGE_LOG = importlib.import_module("registers.migrations.0014_person_change_log")

_START = "CREATE FUNCTION registers_person_log_changes()"
_END = "END $$;\n"


def _function(triggers: str) -> str:
    start = triggers.index(_START)
    end = triggers.index(_END, start) + len(_END)
    return triggers[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


OLD_FUNCTION = _function(CHANGE_LOG.TRIGGERS)
FUNCTION = OLD_FUNCTION.replace(
    "WHERE to_jsonb(n) IS DISTINCT FROM to_jsonb(o)", "WHERE n IS DISTINCT FROM o"
).replace(
    "RETURNS trigger LANGUAGE plpgsql AS $$",
    "RETURNS trigger LANGUAGE plpgsql SET enable_nestloop = off AS $$",
)
assert FUNCTION.count("n IS DISTINCT FROM o") == 1
assert "enable_nestloop = off" in FUNCTION


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0020_register_list_indexes"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, OLD_FUNCTION),
    ]
