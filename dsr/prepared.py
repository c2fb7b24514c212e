"""Statements that run on (nearly) every request, prepared once per database connection.

Django sends each statement with its values written into its text (client-side binding), and
PostgreSQL parses and plans it anew each time. Under the row-level policies planning costs more
than running for a request's fixed statements: the scope's own statement took 0.5 ms to plan and
0.4 ms to run, on every request. Through `cursor()` such a statement goes with its values apart
(server-side binding) and prepared: its text is parsed and planned once per connection, then
only run. Only for statements whose best plan does not depend on their values (a lookup by a
key, the scope's settings): a prepared statement may run a generic plan, which for the register
list's counts by category was four times slower than planning each time (bench/README.md).

`DSR_DB_PREPARED_STATEMENTS=false` turns it off: needed behind a connection pooler in transaction
mode that cannot keep a connection's prepared statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.query import RawQuerySet
from django.db.models.sql.query import RawQuery

M = TypeVar("M", bound=models.Model)


class _PreparingCursor(psycopg.Cursor):
    """A server-binding cursor whose every statement is prepared (psycopg keeps the connection's
    prepared statements, by text and parameter types, and prepares each once)."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)


def cursor(using: str = DEFAULT_DB_ALIAS) -> CursorWrapper:
    """A cursor of the `using` connection, as `connection.cursor()` gives (in its transaction,
    its errors Django's, its queries logged and counted where Django logs them; a context
    manager that closes it), whose statements are prepared."""
    connection = connections[using]
    if not settings.DSR_DB_PREPARED_STATEMENTS or connection.vendor != "postgresql":
        return connection.cursor()
    # What connection.cursor() does before it makes its own cursor.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _PreparingCursor(connection.connection)
    if connection.queries_logged:
        return _DebugCursor(raw, connection)
    return connection.make_cursor(raw)


class _DebugCursor(CursorDebugWrapper):
    """Django's debug cursor, logging a prepared statement with its values written in, as it logs
    its own (psycopg keeps no text of a prepared statement's run to read back)."""

    def execute(self, sql: str, params: Any = None) -> Any:
        logged = self.db.ops.compose_sql(sql, params) if params else sql
        with self.debug_sql(logged, params):
            return CursorWrapper.execute(self, sql, params)


class _PreparedRawQuery(RawQuery):
    """Django's raw query (`Model.objects.raw`), its statement prepared."""

    def clone(self, using: str) -> _PreparedRawQuery:
        return _PreparedRawQuery(self.sql, using, params=self.params)

    def _execute_query(self) -> None:
        adapt = connections[self.using].ops.adapt_unknown_value
        self.cursor = cursor(self.using)
        self.cursor.execute(self.sql, tuple(map(adapt, self.params)))


def raw(model: type[M], sql: str, params: Sequence[Any]) -> RawQuerySet[M]:
    """`model.objects.raw(sql, params)` on the default database, its statement prepared."""
    query = _PreparedRawQuery(sql, DEFAULT_DB_ALIAS, params=tuple(params))
    return RawQuerySet(sql, model=model, query=query, params=tuple(params))
