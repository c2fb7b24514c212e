"""Prometheus metrics at /metrics, for a scraper holding the bearer token DSR_METRICS_TOKEN (404
to anyone else, and to everyone while it is unset): docs/operations.md, "Health checks and metrics".

In the web process: requests by view name, method and status with their latency, and database
queries with their time. Celery task counts by state are kept in Redis by the workers' signal
handlers (dsr/telemetry.py), so any web process reports all workers' counts; queue depth is the
length of each Celery queue's list in the broker's Redis.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUESTS = Counter("dsr_http_requests", "HTTP requests answered", ["view", "method", "status"])
LATENCY = Histogram(
    "dsr_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DB_QUERIES = Counter("dsr_db_queries", "Database queries made while answering requests", ["view"])
DB_SECONDS = Counter(
    "dsr_db_query_seconds", "Time spent in database queries while answering requests", ["view"]
)

TASK_STATES_KEY = "dsr:metrics:celery-tasks"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_OWN_PATHS = {"/healthz": "healthz", "/readyz": "readyz", "/metrics": "metrics"}


def _redis(url: str) -> redis.Redis:
    timeout = settings.DSR_REDIS_SOCKET_TIMEOUT
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def count_task_state(task_name: str, state: str) -> None:
    """Called from Celery's signals in a worker; a Redis away loses the count, never the task."""
    try:
        _redis(settings.REDIS_URL).hincrby(TASK_STATES_KEY, f"{task_name}|{state}", 1)
    except redis.RedisError:
        logger.warning("Could not count a task state")


def queue_names() -> list[str]:
    from .celery import app

    names = {app.conf.task_default_queue, settings.DSR_QUEUE_INTERACTIVE, settings.DSR_QUEUE_HEAVY}
    names.update(q.name for q in app.conf.task_queues or ())
    return sorted(names)


class RedisCollector(Collector):
    """Task counts and queue depths, read from Redis at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        tasks = CounterMetricFamily(
            "dsr_celery_tasks", "Celery tasks by name and state", labels=["task", "state"]
        )
        depth = GaugeMetricFamily(
            "dsr_celery_queue_length", "Messages waiting in each Celery queue", labels=["queue"]
        )
        up = GaugeMetricFamily("dsr_redis_up", "Whether Redis answered this scrape")
        try:
            counts = _redis(settings.REDIS_URL).hgetall(TASK_STATES_KEY)
            broker = _redis(settings.CELERY_BROKER_URL)
            lengths = {name: broker.llen(name) for name in queue_names()}
        except redis.RedisError:
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            for field, value in sorted(counts.items()):
                name, _, state = field.decode().rpartition("|")
                tasks.add_metric([name, state], int(value))
            for name, length in lengths.items():
                depth.add_metric([name], length)
            yield tasks
            yield depth
        yield up


_redis_registry = CollectorRegistry()
_redis_registry.register(RedisCollector())


def _authorised(request: HttpRequest) -> bool:
    token = settings.DSR_METRICS_TOKEN
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_redis_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every request by its view's name (not its path, so no ids in labels)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = [0, 0.0]

        def timed(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries[0] += 1
                queries[1] += time.perf_counter() - start

        start = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        elapsed = time.perf_counter() - start
        match = getattr(request, "resolver_match", None)
        view = _OWN_PATHS.get(request.path) or (match.view_name if match else "unresolved")
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view).observe(elapsed)
        if queries[0]:
            DB_QUERIES.labels(view).inc(queries[0])
            DB_SECONDS.labels(view).inc(queries[1])
        return response
