"""One row at a time, with SQL written once per model rather than compiled per query.

Compiling an ORM query costs about as much per column as reading the row: for the person (46
columns) compiling took longer than the statement itself, on every API read and write, and an
audit row's INSERT cost more to build than to run. Hot single-row reads therefore name their
columns from the model's metadata once and build the instances as Django's own iterator does
(`Model.from_db`); none of the models read this way has a field that needs a database converter
(tests/registers/test_one_row.py checks), so the values are the ORM's. A single-row insert
prepares each value as Django's INSERT compiler does (`pre_save`, then `get_db_prep_save`).
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models

from dsr import prepared

M = TypeVar("M", bound=models.Model)


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


@cache
def columns(model: type[models.Model], alias: str = "") -> str:
    """The model's columns for a SELECT list, each qualified by `alias` (or its table)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    table = quote(alias or model._meta.db_table)
    return ", ".join(f"{table}.{quote(f.column)}" for f in model._meta.concrete_fields)


def width(model: type[models.Model]) -> int:
    """How many values of a row `columns(model)` selects."""
    return len(_attnames(model))


def instance(
    model: type[M], values: tuple[Any, ...] | list[Any], using: str = DEFAULT_DB_ALIAS
) -> M:
    """The instance a row selected with `columns(model)` makes, as the ORM would make it."""
    return model.from_db(using, _attnames(model), values)


def unconverted(model: type[models.Model], using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether no field of `model` needs a database converter (what `instance` assumes)."""
    connection = connections[using]
    return not any(
        f.get_db_converters(connection)
        or connection.ops.get_db_converters(f.get_col(model._meta.db_table))
        for f in model._meta.concrete_fields
    )


@cache
def _insert(model: type[models.Model]) -> tuple[str, tuple[models.Field, ...]]:
    fields = tuple(f for f in model._meta.concrete_fields if not (f.primary_key or f.generated))
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    values = ", ".join("%s" for _ in fields)
    # Identifiers from the model's own metadata; every value is a bound parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({values})"  # noqa: S608
    return sql, fields


def insert(obj: models.Model, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert `obj` as `type(obj)._base_manager._insert([obj], fields=<all but the primary key>,
    returning_fields=None)` does: no RETURNING, so the row need not be readable in the scope."""
    sql, fields = _insert(type(obj))
    connection = connections[using]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, params)
