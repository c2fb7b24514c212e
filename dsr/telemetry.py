"""Celery's side of the logs, metrics and health: imported by dsr/celery.py, so both the web
process (which queues tasks) and the workers (which run them) connect these handlers.

- A task queued during a request carries that request's id in its message headers, and the
  worker's log lines for the task carry it too (dsr/logs.py).
- Each task's start, success, failure, retry and revocation is counted by name in Redis
  (dsr/metrics.py).
- A worker records a heartbeat when it starts and after each task, and the beat asks for one every
  minute (dsr.tasks.worker_heartbeat); readiness reads it (dsr/health.py).
"""

from __future__ import annotations

from typing import Any

from celery import signals

from . import logs

HEADER = "dsr_request_id"
_tokens: dict[str, tuple[Any, Any]] = {}


@signals.before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    rid = logs.request_id.get()
    if rid and headers is not None and HEADER not in headers:
        headers[HEADER] = rid


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from .metrics import count_task_state

    # A worker sees the message's headers as attributes of the request; an eager run, in headers.
    rid = (
        getattr(task.request, HEADER, None)
        or (task.request.headers or {}).get(HEADER)
        or logs.request_id.get()
    )
    _tokens[task_id] = (logs.request_id.set(rid), logs.task_context.set((task.name, task_id)))
    count_task_state(task.name, "started")


@signals.task_postrun.connect
def _task_ended(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from .health import record_worker_heartbeat

    tokens = _tokens.pop(task_id, None)
    if tokens:
        logs.request_id.reset(tokens[0])
        logs.task_context.reset(tokens[1])
    if not task.request.is_eager:
        record_worker_heartbeat()


@signals.task_success.connect
def _task_succeeded(sender: Any = None, **_: Any) -> None:
    from .metrics import count_task_state

    count_task_state(sender.name, "succeeded")


@signals.task_failure.connect
def _task_failed(sender: Any = None, **_: Any) -> None:
    from .metrics import count_task_state

    count_task_state(sender.name, "failed")


@signals.task_retry.connect
def _task_retried(sender: Any = None, **_: Any) -> None:
    from .metrics import count_task_state

    count_task_state(sender.name, "retried")


@signals.task_revoked.connect
def _task_revoked(sender: Any = None, **_: Any) -> None:
    from .metrics import count_task_state

    count_task_state(getattr(sender, "name", str(sender)), "revoked")


@signals.worker_ready.connect
def _worker_ready(**_: Any) -> None:
    from .health import record_worker_heartbeat

    record_worker_heartbeat()
