"""The register's counts (`RegisterCount`, kept by triggers: registers/0022), folded."""

from __future__ import annotations

from django.db import connection, transaction

from .. import access

BUCKET = "authority_id, locality_id, category, urgent_reason"
# The rows this statement deletes are exactly the rows it inserts again as sums (RETURNING), so a
# row a writer commits meanwhile is left for the next run, and two runs at once fold each row once.
COMPACT = f"""
WITH folded AS (
    DELETE FROM registers_registercount RETURNING {BUCKET}, n
), summed AS (
    INSERT INTO registers_registercount ({BUCKET}, n)
    SELECT {BUCKET}, sum(n) FROM folded GROUP BY {BUCKET} HAVING sum(n) <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM folded), (SELECT count(*) FROM summed)
"""  # noqa: S608 - fixed names


def compact_register_counts() -> tuple[int, int]:
    """Fold each bucket's rows into one (into none where they add up to nobody); returns how many
    rows there were and how many there are. Writers are not held up: they only insert."""
    with (
        transaction.atomic(),
        access.system_scope("fold the register's counts"),
        connection.cursor() as cursor,
    ):
        cursor.execute(COMPACT)
        before, after = cursor.fetchone()
    return before, after
