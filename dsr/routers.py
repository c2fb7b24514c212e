"""Where queries go when a read replica is configured (docs/operations.md, "Read replica").

Reads go to the replica only inside `registers.access.reporting_reads`, which first binds the
replica's transaction to the same sealed tenant scope as the request's: a query on a connection
with no scope sees no tenant rows. Everything else reads and writes the primary ("default"), and
migrations run there alone (a standby replays them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

# The alias reads are routed to in the current block (None: the primary).
_reads_from: ContextVar[str | None] = ContextVar("dsr_reads_from", default=None)


@contextmanager
def reads_from(alias: str) -> Iterator[None]:
    """Route the block's reads to `alias`. Only `access.reporting_reads` calls this: it has bound
    that connection's transaction to the scope first."""
    token = _reads_from.set(alias)
    try:
        yield
    finally:
        _reads_from.reset(token)


class ReportingReadRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        # An explicit answer outside the block too: an object read from the replica must not
        # take its related objects from there afterwards (Django's default follows the
        # instance), where no scope is bound any more.
        return _reads_from.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The same rows on both: an object read from the replica may be linked to one written.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
