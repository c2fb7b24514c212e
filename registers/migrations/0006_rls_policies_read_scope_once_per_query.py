"""Row-level security policies read the scope's settings once per query, not once per row.

Rewrites every policy in the schema that still has the earlier per-row form (whichever app created
it), using the printed forms in dsr.rls.PER_ROW_TO_PER_QUERY. Databases created from scratch
already have the new form (the policy helpers produce it) and are left as they are.
"""

from django.db import migrations

from dsr.rls import PER_ROW_TO_PER_QUERY


def _rewrite(schema_editor, pairs) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema()"
        )
        for table, name, using, check in cursor.fetchall():
            clauses = []
            for keyword, expression in (("USING", using), ("WITH CHECK", check)):
                if expression is None:
                    continue
                rewritten = expression
                for old, new in pairs:
                    rewritten = rewritten.replace(old, new)
                if rewritten != expression:
                    clauses.append(f"{keyword} ({rewritten})")
            if clauses:
                schema_editor.execute(f'ALTER POLICY "{name}" ON "{table}" {" ".join(clauses)}')


def once_per_query(apps, schema_editor) -> None:
    _rewrite(schema_editor, PER_ROW_TO_PER_QUERY)


def once_per_row(apps, schema_editor) -> None:
    _rewrite(schema_editor, [(new, old) for old, new in PER_ROW_TO_PER_QUERY])


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0005_statuschange_latest_on_date_index"),
        ("reporting", "0002_reporting_row_level_security"),
        ("accounts", "0003_membership_row_level_security"),
    ]

    operations = [migrations.RunPython(once_per_query, once_per_row)]
