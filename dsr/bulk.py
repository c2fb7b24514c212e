"""Insert many rows in one statement without building a model instance per row.

`bulk_create` prepares every value of every instance in Python, which dominates the time of a
census snapshot (tens of thousands of rows). Here the rows travel as one JSON document that
PostgreSQL unpacks with `jsonb_to_recordset`; the INSERT still goes through row-level security's
WITH CHECK, constraints and indexes like any other.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, models


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored by insert_rows")


def insert_rows(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """Insert `rows` (dicts keyed by field attname, e.g. `person_id`) into `model`'s table.
    Each row carries every stored field but the primary key and generated ones. Returns a count."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key or f.generated)]
    payload = [{f.attname: row[f.attname] for f in fields} for row in rows]
    if not payload:
        return 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # The record's types are the columns' own, so an over-long or mistyped value is refused.
    record = ", ".join(f"{quote(f.attname)} {f.db_type(connection)}" for f in fields)
    selected = ", ".join(quote(f.attname) for f in fields)
    # Identifiers from the model's own metadata; the rows travel as a bound parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS r({record})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(payload, default=_json_default)])
        return cursor.rowcount


def update_rows(
    queryset: models.QuerySet, objects: Iterable[models.Model], names: list[str]
) -> int:
    """Write the fields `names` of each of `objects` (model instances) in one UPDATE, to the rows
    `queryset` selects (so a scope filter still applies at write time). Returns a count.

    `bulk_update` writes a `CASE WHEN id = ... THEN ...` per field and row: for 500 people, 130 kB
    of SQL that Django takes a second to build and PostgreSQL parses and plans at length. Here the
    values travel as one JSON parameter, joined to the table by primary key."""
    model = queryset.model
    pk = model._meta.pk
    fields = [model._meta.get_field(name) for name in names]
    payload = [
        {pk.attname: obj.pk, **{f.attname: getattr(obj, f.attname) for f in fields}}
        for obj in objects
    ]
    if not payload:
        return 0
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = r.{quote(f.attname)}" for f in fields)
    record = ", ".join(f"{quote(f.attname)} {f.db_type(connection)}" for f in [pk, *fields])
    scope, scope_params = queryset.order_by().values("pk").query.sql_with_params()
    # Identifiers from the model's own metadata; the rows travel as a bound parameter.
    # The rows unpacked once (the planner guesses 100 rows from a function and may otherwise
    # unpack the JSON again for each row it joins).
    sql = (
        f"WITH r AS MATERIALIZED (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r({record})) "  # noqa: S608
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} FROM r "
        f"WHERE t.{quote(pk.column)} = r.{quote(pk.attname)} AND t.{quote(pk.column)} IN ({scope})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(payload, default=_json_default), *scope_params])
        return cursor.rowcount
