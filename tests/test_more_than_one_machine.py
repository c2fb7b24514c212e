"""More than one machine: two web processes and two workers (one per queue), each in a working
folder of its own with its own media folder, share nothing but PostgreSQL and Redis. A file built
by a worker downloads from either web process, and a lead's PDF is not held up behind a running
heavy build."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection
from pypdf import PdfReader

from dsr.celery import app
from reporting import services
from reporting.models import JobKind, ReportJob
from tests import db_roles
from tests.factories import PersonFactory, pass_second_factor

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]


def _url(role: str) -> str:
    parts = urlsplit(db_roles.url(role))
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def queues(settings):
    """Two queues of this test's own, as the service's interactive and heavy queues."""
    run = uuid.uuid4().hex[:8]
    settings.DSR_QUEUE_INTERACTIVE = f"dsr-tests-interactive-{run}"
    settings.DSR_QUEUE_HEAVY = f"dsr-tests-heavy-{run}"
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    yield settings.DSR_QUEUE_INTERACTIVE, settings.DSR_QUEUE_HEAVY
    app.conf.task_always_eager = eager


@pytest.fixture
def machines(tmp_path, queues):
    """Start the processes, each as its own role, in its own folder, like separate machines."""
    interactive, heavy = queues
    common = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DSR_QUEUE_INTERACTIVE": interactive,
        "DSR_QUEUE_HEAVY": heavy,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DSR_DB_LOCK_TIMEOUT_MS": "120000",
        "DSR_DB_STATEMENT_TIMEOUT_MS": "120000",
    }
    common.pop("DATABASE_OWNER_URL", None)
    common.pop("DATABASE_WORKER_URL", None)
    processes, logs, ports = [], [], []

    def start(name: str, command: list[str], role: str) -> None:
        folder = tmp_path / name
        (folder / "media").mkdir(parents=True)
        env = {**common, "DATABASE_URL": _url(role), "DSR_MEDIA_ROOT": str(folder / "media")}
        log = (tmp_path / f"{name}.log").open("w")
        logs.append(log)
        processes.append(
            subprocess.Popen(
                command,
                cwd=folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    for name, queue in (("worker-interactive", interactive), ("worker-heavy", heavy)):
        start(
            name,
            [sys.executable, "-m", "celery", "-A", "dsr", "worker", "-Q", queue, "-P", "solo",
             "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"],
            "worker",
        )  # fmt: skip
    for name in ("web-1", "web-2"):
        port = _free_port()
        ports.append(port)
        start(
            name,
            [sys.executable, "-m", "gunicorn", "dsr.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
            "runtime",
        )  # fmt: skip

    def serving(port: int) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return True
        except OSError:
            return False

    for port in ports:
        _wait(lambda port=port: serving(port), 60, f"web process on {port} did not start")
    yield ports
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    for log in logs:
        log.close()


def _download(port: int, job: ReportJob, session: str) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/reporting/jobs/{job.pk}/download/",
        headers={"Cookie": f"sessionid={session}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http to 127.0.0.1)
        assert response.status == 200
        return response.read()


def test_a_file_built_by_a_worker_downloads_from_either_web_process_and_a_leads_pdf_is_not_held_up(
    machines, queues, tmp_path, client, lead, authority, other_authority, nithsdale, leith
):
    person = PersonFactory(locality=nithsdale, given_name="Morag", family_name="Tulloch")
    PersonFactory.create_batch(3, locality=leith)
    # A heavy build, held running: the test holds a lock on the one table it writes to.
    owner = psycopg.connect(_url("owner"))
    owner.execute("LOCK TABLE reporting_censussnapshot IN ACCESS EXCLUSIVE MODE")
    try:
        heavy = ReportJob.objects.create(
            kind=JobKind.SNAPSHOT, authority=other_authority, census_date="2025-09-25"
        )
        services._enqueue(heavy, queue=queues[1])
        _wait(
            lambda: ReportJob.objects.get(pk=heavy.pk).status == "running",
            60,
            "the heavy build did not start",
        )
        # Then the lead asks for a person's one-page PDF: the interactive worker builds it while
        # the heavy build is still running.
        pdf = ReportJob.objects.create(
            kind=JobKind.PERSON_PROFILE, authority=authority, person=person, requested_by=lead
        )
        services._enqueue(pdf)
        _wait(
            lambda: ReportJob.objects.get(pk=pdf.pk).status == "done",
            60,
            "the lead's PDF was not built beside the running heavy build",
        )
        assert ReportJob.objects.get(pk=heavy.pk).status == "running"
    finally:
        owner.rollback()
        owner.close()
    _wait(lambda: ReportJob.objects.get(pk=heavy.pk).status == "done", 60, "the heavy build")

    pdf.refresh_from_db()
    client.force_login(lead)
    pass_second_factor(client, lead)
    session = client.cookies["sessionid"].value
    first, second = (_download(port, pdf, session) for port in machines)
    assert first == second
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(first)).pages)
    assert "Morag" in text and "Tulloch" in text
    # Nothing went to any machine's own disk.
    assert [p for p in tmp_path.glob("*/media/**/*") if p.is_file()] == []


def test_docker_compose_runs_a_scalable_worker_per_queue_and_keeps_files_off_local_disks(settings):
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    queues = {
        name: service["command"][service["command"].index("-Q") + 1]
        for name, service in services.items()
        if "worker" in service.get("command", [])
    }
    assert queues == {"worker-interactive": "interactive", "worker-heavy": "heavy"}
    for name in ("web", "worker-interactive", "worker-heavy", "beat"):
        assert "volumes" not in services[name], f"{name} keeps something on a local volume"
        assert services[name]["environment"]["DSR_FILE_STORAGE"] == "${DSR_FILE_STORAGE:-database}"
        assert "container_name" not in services[name]  # a fixed name cannot be scaled
    assert "media" not in compose.get("volumes", {})
