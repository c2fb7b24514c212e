"""The session store: Django's database sessions, renewed at most once a minute.

Sessions end after `SESSION_COOKIE_AGE` without a request, so every request used to write its
session back to push the expiry on: one UPDATE and one commit of its own on every page, the
cheapest page's heaviest statement. A session whose stored expiry was pushed on within the last
`RENEW_AFTER_SECONDS` is now left as it is, unless the request changed it
(`dsr.middleware.CommittedSessionMiddleware`): an idle session still ends no later than
`SESSION_COOKIE_AGE` after the last request, and no earlier than that less a minute.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.utils import timezone

from dsr import onerow, prepared

RENEW_AFTER_SECONDS = 60


@cache
def _load_sql(model: type[AbstractBaseSession]) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    # Identifiers from the model's own metadata; the key and the time are bound parameters.
    return (
        f"SELECT {onerow.columns(model)} FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s LIMIT 1"
    )


class SessionStore(db.SessionStore):
    """Remembers the expiry stored with the session it loaded."""

    stored_expiry: dt.datetime | None = None

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        """The unexpired session row, as `model.objects.get(session_key=..., expire_date__gt=now)`
        reads it, with SQL written once (compiling that query cost a fifth of a millisecond on
        every request; tests/test_session_renewal.py compares)."""
        model = self.model
        using = router.db_for_read(model)
        with prepared.cursor(using) as cursor:
            cursor.execute(_load_sql(model), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            self.stored_expiry = None
            return None
        stored = onerow.instance(model, row, using)
        self.stored_expiry = stored.expire_date
        return stored

    def renewed_recently(self) -> bool:
        """Whether the stored expiry was pushed on less than `RENEW_AFTER_SECONDS` ago (the
        session loaded, unchanged, with no expiry of its own)."""
        if self.stored_expiry is None or self.modified or "_session_expiry" in self._session:
            return False
        remaining = (self.stored_expiry - timezone.now()).total_seconds()
        return remaining > settings.SESSION_COOKIE_AGE - RENEW_AFTER_SECONDS
