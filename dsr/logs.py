"""Structured logs: one JSON object a line, each with the request id of the request (or of the
request that queued the Celery task) it belongs to.

The request id comes from an incoming X-Request-ID header when it is well formed (a proxy or load
balancer may set one), or is made here; it is echoed in the response's X-Request-ID header. Celery
tasks queued during a request carry it in their message headers (dsr/telemetry.py).

Log lines never hold personal data: messages name records by id, never by name, date of birth or
CHI number (tests/test_observability.py proves it for adding and viewing a person).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, 8 to 64 characters: a UUID, a proxy's own id format.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dsr_request_id", default=None
)
task_context: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "dsr_task", default=None
)


def request_id_from(header: str | None) -> str:
    if header and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost: every log line of the request, and every task it queues, carries its id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


class ContextFilter(logging.Filter):
    """Adds the request id (and the task, in a worker) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx or 5xx answer after the middleware has finished, with the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id.get()
        task = task_context.get()
        record.task_name, record.task_id = task if task else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, task; exception text
    when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _access_request_id(record),
        }
        task_id = getattr(record, "task_id", None)
        if task_id:
            entry["task"] = getattr(record, "task_name", None)
            entry["task_id"] = task_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _access_request_id(record: logging.LogRecord) -> str | None:
    """gunicorn's access line is logged after the response: its id is the response's header."""
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        value = record.args.get("{x-request-id}o")
        return value if value and value != "-" else None
    return None
