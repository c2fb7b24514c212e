"""The change feed: every change to an authority's people, in an order a client can resume from
without ever missing one (docs/api.md, "Syncing with the change feed").

The database writes one `PersonChange` row per change, in the writing transaction (triggers of
migration registers/0014); its id is its position. Ids are taken as changes are written, not as
they commit, so a writer still running can hold a lower id than rows already committed: the feed
hands out only ids below the horizon (`dsr_change_feed_horizon()`), under which every writer of
people has ended. A position handed out is never overtaken by a change that appears later.

A position is a non-negative integer, sent as a string; clients treat it as opaque.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Subquery

from ..models import Person, PersonChange

MAX_POSITION = 2**63 - 1
START = 0


class InvalidPosition(ValueError):
    """A position that this service did not hand out."""


def parse_position(token: str | None) -> int:
    """The start of the feed for an empty token; InvalidPosition for anything malformed."""
    if not token:
        return START
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise InvalidPosition(token)
    value = int(token)
    if value > MAX_POSITION:
        raise InvalidPosition(token)
    return value


@dataclass(frozen=True)
class Change:
    position: int
    kind: str
    person_id: int
    reference: str | None
    occurred_at: dt.datetime


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    next: int
    has_more: bool


def horizon() -> int:
    """Every change below this position is committed (or rolled back) and visible to any query
    that starts after this one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT dsr_change_feed_horizon()")
        return cursor.fetchone()[0]


def changes_after(authority_id: int, after: int, *, limit: int) -> Page:
    """Up to `limit` changes of the authority after position `after`, oldest first, and where to
    resume.

    Two queries whatever the page size: the horizon, then (in a later snapshot, as it must be) the
    page, with each person's current reference (none for an erased entry). The caller's scope
    (row-level security) admits only its authority's rows besides."""
    below = horizon()
    reference = Person.objects.filter(pk=OuterRef("person_id")).values("local_reference")[:1]
    rows = list(
        PersonChange.objects.filter(authority_id=authority_id, id__gt=after, id__lt=below)
        .annotate(reference=Subquery(reference))
        .order_by("id")
        .values("id", "kind", "person_id", "reference", "occurred_at")[: limit + 1]
    )
    has_more = len(rows) > limit
    changes = [
        Change(
            position=row["id"],
            kind=row["kind"],
            person_id=row["person_id"],
            reference=row["reference"],
            occurred_at=row["occurred_at"],
        )
        for row in rows[:limit]
    ]
    # With no more to come, everything below the horizon has been handed out: resume from there,
    # so a quiet authority's next call starts near the end, not behind other authorities' rows.
    following = changes[-1].position if has_more else max(after, below - 1)
    return Page(changes=changes, next=following, has_more=has_more)


@contextmanager
def transferred_in() -> Iterator[None]:
    """People inserted in the block are logged as transferred in, not created (the setting is a
    label the log trigger reads; it opens nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('dsr.change_kind', %s, true)", ["transferred_in"])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dsr.change_kind', '', true)")
