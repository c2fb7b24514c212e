"""Liveness (/healthz), readiness (/readyz) and the heartbeat that tells readiness a Celery worker
is alive (docs/operations.md, "Health checks and metrics").

Both answer before sign-in, the second sign-in step and the tenant scope (OperationsMiddleware sits
just after the security headers), so they work with no session and with the database away. Their
bodies name each check and say "ok" or "failing", nothing else: no hosts, versions or errors.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "dsr:worker-heartbeat"
_migrations_applied = False


def record_worker_heartbeat() -> None:
    """Called in a worker: at start, after each task and by the beat every minute."""
    try:
        cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
    except Exception:  # a Redis away is readiness's to report, not the task's to fail on
        logger.warning("Could not record the worker heartbeat")


def check_database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def check_redis() -> bool:
    key = f"dsr:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return ok


def check_migrations() -> bool:
    """No migration in the code is unapplied (asked once per process until it is so)."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_applied = not plan
    return _migrations_applied


def check_worker() -> bool:
    beat = cache.get(HEARTBEAT_KEY)
    return (
        beat is not None
        and time.time() - float(beat) <= settings.DSR_WORKER_HEARTBEAT_LIMIT_SECONDS
    )


def check_storage() -> bool:
    ready = getattr(default_storage, "ready", None)
    if ready is not None:  # the database storage: its table answers (reporting/storage.py)
        return ready()
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        return default_storage.exists(name)
    finally:
        default_storage.delete(name)


CHECKS: dict[str, Callable[[], bool]] = {
    "database": check_database,
    "redis": check_redis,
    "migrations": check_migrations,
    "worker": check_worker,
    "storage": check_storage,
}


def _run(name: str, check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        logger.warning("Readiness check %s failed", name, exc_info=True)
        if not connection.in_atomic_block:
            # A broken connection is not kept for the next request (it reconnects).
            connection.close_if_unusable_or_obsolete()
        return False


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is asked."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    results = {name: _run(name, check) for name, check in CHECKS.items()}
    ready = all(results.values())
    body = {
        "status": "ok" if ready else "failing",
        "checks": {name: "ok" if ok else "failing" for name, ok in results.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


class OperationsMiddleware:
    """Answers /healthz, /readyz and /metrics before sessions, sign-in, the second sign-in step and
    the tenant scope: probes and scrapers have no session, and readiness must answer (503) when the
    database it would need for them is away."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return _no_store(healthz(request))
        if request.path == "/readyz":
            return _no_store(readyz(request))
        if request.path == "/metrics":
            from .metrics import metrics_view

            return _no_store(metrics_view(request))
        return self.get_response(request)
