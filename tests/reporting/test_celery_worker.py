"""End to end on the real Redis broker: a build queued from the browser is run by a Celery
worker, and its file downloads."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from dsr.celery import app
from reporting.models import ReportJob
from tests.factories import PersonFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    # The worker thread opens its own connection; close it after each task so the test
    # database can be dropped at the end of the run.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        # Starting the worker closes this thread's connection too: arrange data as the system
        # role again, as tests/conftest.py does.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('role', 'dsr_system', false)")
        yield


def wait_for(job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ReportJob.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError("the worker did not finish the job in time")


def test_a_build_queued_from_the_browser_completes_and_its_file_downloads(
    worker, client, lead, nithsdale, authority
):
    PersonFactory.create_batch(6, locality=nithsdale)
    client.force_login(lead)
    census = "2025-09-25"
    response = client.post(f"/reporting/{authority.pk}/{census}/build/")
    assert response.status_code == 302
    built = wait_for(ReportJob.objects.get(kind="authority_return").pk)
    assert built.status == "done", built.error

    response = client.post(f"/reporting/{authority.pk}/{census}/files/", {"kind": "authority_xlsx"})
    job = wait_for(ReportJob.objects.get(kind="authority_xlsx").pk)
    assert job.status == "done", job.error
    page = client.get(response.url).content.decode()
    assert "Download dsr-return-S37000006-2025-09-25.xlsx" in page
    download = client.get(f"/reporting/jobs/{job.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"  # an XLSX is a zip


def test_a_task_delivered_twice_produces_one_result(worker, lead, nithsdale, authority):
    from reporting.tasks import run_report_job

    PersonFactory.create_batch(3, locality=nithsdale)
    job = ReportJob.objects.create(
        kind="authority_return", authority=authority, census_date="2025-09-25", requested_by=lead
    )
    # The same message twice, as a redelivery after a lost worker would give; keep the results
    # this time so the test can wait for both.
    deliveries = [
        run_report_job.apply_async((job.pk, authority.pk), ignore_result=False) for _ in range(2)
    ]
    for delivery in deliveries:
        delivery.get(timeout=60)
    finished = ReportJob.objects.get(pk=job.pk)
    assert (finished.status, finished.attempts) == ("done", 1)
    assert authority.returns.count() == 1


def test_the_suite_sends_its_tasks_to_a_queue_of_its_own():
    """A service running on the same Redis consumes the default queue ("celery"), never this
    one, and the suite's worker consumes only this one."""
    from reporting.tasks import run_report_job

    queue = app.conf.task_default_queue
    assert queue.startswith("dsr-tests-")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    with app.connection_for_write() as conn:
        redis = conn.default_channel.client
        try:
            run_report_job.apply_async((0, None))
            assert redis.llen(queue) == 1
        finally:
            redis.delete(queue)
            app.conf.task_always_eager = eager


def test_a_task_run_by_the_worker_logs_under_the_id_of_the_request_that_queued_it(worker):
    """The request id goes in the message's headers and comes out in the worker's log lines."""
    import io
    import json
    import logging

    from celery import signals

    from dsr import logs
    from dsr.tasks import worker_heartbeat

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    # On its own logger: the worker's start-up may set Django's logging up again, root included.
    # (and the test worker may have raised the root level to its own "error").
    logging.getLogger("tests.worker").addHandler(handler)
    logging.getLogger("tests.worker").setLevel(logging.INFO)

    def log_in_the_task(sender=None, **_):
        # A line logged while the worker runs the task (the worker thread's own context).
        logging.getLogger("tests.worker").warning("task ran")

    signals.task_success.connect(log_in_the_task)
    token = logs.request_id.set("req-queued-by-1")
    try:
        sent = worker_heartbeat.apply_async(ignore_result=False)
    finally:
        logs.request_id.reset(token)
    try:
        sent.get(timeout=60)
        # The result is stored just before the success signal: wait for the line itself.
        deadline = time.monotonic() + 10
        while "task ran" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        signals.task_success.disconnect(log_in_the_task)
        logging.getLogger("tests.worker").removeHandler(handler)
        logging.getLogger("tests.worker").setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ran = [line for line in lines if line["message"] == "task ran"]
    assert ran, lines
    assert ran[0]["request_id"] == "req-queued-by-1"
    assert (ran[0]["task"], ran[0]["task_id"]) == ("dsr.tasks.worker_heartbeat", sent.id)
