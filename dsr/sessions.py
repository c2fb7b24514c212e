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

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.utils import timezone

RENEW_AFTER_SECONDS = 60


class SessionStore(db.SessionStore):
    """Remembers the expiry stored with the session it loaded."""

    stored_expiry: dt.datetime | None = None

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        stored = super()._get_session_from_db()
        self.stored_expiry = stored.expire_date if stored is not None else None
        return stored

    def renewed_recently(self) -> bool:
        """Whether the stored expiry was pushed on less than `RENEW_AFTER_SECONDS` ago (the
        session loaded, unchanged, with no expiry of its own)."""
        if self.stored_expiry is None or self.modified or "_session_expiry" in self._session:
            return False
        remaining = (self.stored_expiry - timezone.now()).total_seconds()
        return remaining > settings.SESSION_COOKIE_AGE - RENEW_AFTER_SECONDS
