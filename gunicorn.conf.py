"""gunicorn for the web process (docker-compose.yml, Dockerfile): `gunicorn -c gunicorn.conf.py`.

Threads, so a slow request does not hold a whole worker; a timeout above the database's statement
timeout, so a slow query is cancelled by PostgreSQL and answered with the service's own 503
(dsr/middleware.py) long before gunicorn would kill the worker and show its bare error page.
Every value can be overridden from the environment (docs/operations.md, "Scale").
"""

import os

_statement_seconds = int(os.environ.get("DSR_DB_STATEMENT_TIMEOUT_MS", "15000")) / 1000

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", str(int(_statement_seconds) + 15)))
graceful_timeout = 30
keepalive = 5
# Let a worker go after this many requests (with jitter), so none grows for ever.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"


def child_exit(server, worker):
    """With several workers sharing metrics (PROMETHEUS_MULTIPROC_DIR), drop a dead worker's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# gunicorn's own lines and its access log in the service's format: one JSON object a line
# (docs/operations.md, "Health checks and metrics"); the access line carries the request id.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
if os.environ.get("DSR_LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "dsr.logs.JsonFormatter"}},
        # The service's own loggers are set up by Django (dsr/settings.py, LOGGING).
        "root": {"level": "INFO", "handlers": []},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json"},
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
