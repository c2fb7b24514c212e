"""A Celery worker killed whole (SIGKILL to its main process and its children, as an out-of-memory
kill or a lost machine would) mid-build: the job is marked failed by the heartbeat sweep within a
bound, and its message stays on the broker, unacknowledged, to be delivered again."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from dsr.celery import app
from registers.models import Person
from reporting import services
from reporting.models import ReportJob
from tests import db_roles
from tests.factories import PersonFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
RUNNING_LIMIT = 3


def _url(role, database):
    parts = urlsplit(db_roles.url(role))
    return urlunsplit(parts._replace(path=f"/{database}"))


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def worker_process(tmp_path):
    """A worker of its own, in a process group of its own, on the suite's queue and test database
    as the worker role, with a one-second build heartbeat and lock waits long enough to outlast
    the table lock the test holds."""
    database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": _url("worker", database),
        "DSR_JOB_HEARTBEAT_SECONDS": "1",
        "DSR_DB_LOCK_TIMEOUT_MS": "120000",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "dsr", "worker",
            "-Q", app.conf.task_default_queue, "-P", "prefork", "-c", "1",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    log.close()


def test_a_worker_killed_whole_mid_build_has_its_job_failed_within_a_bound(
    settings, worker_process, lead, nithsdale, authority
):
    PersonFactory.create_batch(3, locality=nithsdale)
    job = ReportJob.objects.create(
        kind="authority_return", authority=authority, census_date="2025-09-25", requested_by=lead
    )
    from reporting.tasks import run_report_job

    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        owner = psycopg.connect(_url("owner", connection.settings_dict["NAME"]))
        owner.execute(f"LOCK TABLE {Person._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        sent = run_report_job.apply_async((job.pk, authority.pk))

        def running_with_a_heartbeat():
            job.refresh_from_db()
            return job.status == "running" and job.heartbeat_at > job.started_at

        _wait(running_with_a_heartbeat, 120, "the worker did not start the build")
        os.killpg(worker_process.pid, signal.SIGKILL)
        worker_process.wait(timeout=30)
        owner.rollback()
        owner.close()
        killed_at = time.monotonic()

        settings.DSR_JOB_RUNNING_LIMIT_SECONDS = RUNNING_LIMIT

        def failed_by_the_sweep():
            services.fail_stuck_jobs()
            job.refresh_from_db()
            return job.status == "failed"

        _wait(failed_by_the_sweep, RUNNING_LIMIT + 15, "the sweep did not fail the job")
        assert time.monotonic() - killed_at <= RUNNING_LIMIT + 15
        assert "stopped answering" in job.error

        # The message was taken but never acknowledged (acks_late): the broker holds it to deliver
        # again after the visibility timeout, when the retried or failed job takes it calmly.
        with app.connection_for_write() as conn:
            redis = conn.default_channel.client
            unacked = {
                tag: value
                for tag, value in redis.hgetall("unacked").items()
                if json.loads(value)[0]["headers"]["id"] == sent.id
            }
            assert len(unacked) == 1
            for tag in unacked:
                redis.hdel("unacked", tag)
                redis.zrem("unacked_index", tag)
    finally:
        app.conf.task_always_eager = eager
