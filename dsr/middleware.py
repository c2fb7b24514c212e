"""Bounded waits at the database, answered in the service's own words.

A statement cancelled by `statement_timeout` or a lock not granted within `lock_timeout`
(settings.DATABASES OPTIONS, docs/operations.md "When something fails") is answered with the
service's own 503 page, or problem details under /api/, with Retry-After: never gunicorn's bare
page after a killed worker, never a 500. And a change that committed is never reported as failed
because the session could not be written after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from psycopg import errors as pg_errors

logger = logging.getLogger("dsr.database")

RETRY_AFTER_SECONDS = 30
# What PostgreSQL raises when a bounded wait runs out.
TIMED_OUT = (pg_errors.QueryCanceled, pg_errors.LockNotAvailable)


def timed_out(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, TIMED_OUT)


def busy_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        from registers.api.errors import problem_response

        response = problem_response(
            request, 503, "The service is busy and did not answer in time. Try again shortly."
        )
    else:
        # No request context: the transaction has failed, so nothing may query before it ends.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseBusyMiddleware:
    """Turns a database wait that ran out into the service's 503 (placed inside the request's
    transaction, which the 503 then rolls back)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not timed_out(exc):
            return None
        logger.warning(
            "database wait ran out (%s) on %s %s",
            exc.__cause__.__class__.__name__,
            request.method,
            request.path,
        )
        return busy_response(request)


class CommittedSessionMiddleware(SessionMiddleware):
    """Saving the session comes after the request's transaction has committed: if that write fails
    (the database restarting, the session row gone), the change the person made is saved all the
    same, so the page answers as it would have and only the session's renewal is lost.

    An unchanged session renewed within the last minute is not written again (dsr/sessions.py)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        renewed_recently = getattr(session, "renewed_recently", None)
        if renewed_recently is not None and renewed_recently():
            patch_vary_headers(response, ("Cookie",))  # it was read: as Django's own would
            return response
        try:
            return super().process_response(request, response)
        except (SessionInterrupted, DatabaseError) as exc:
            logger.warning("session not saved after the response: %s", exc.__class__.__name__)
            return response
