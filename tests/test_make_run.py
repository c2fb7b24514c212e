"""`make run` serves the service as its users see it (DEBUG off, the service's own error pages,
static files through whitenoise, gunicorn); `make dev` keeps Django's development server with
DEBUG on and auto-reload."""

import http.client
import os
import shlex
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def planned(mode: str) -> str:
    result = subprocess.run(
        ["/bin/bash", "scripts/run.sh", mode],
        cwd=ROOT,
        env=os.environ | {"DSR_RUN_PRINT": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_make_run_serves_with_debug_off_through_gunicorn():
    command = planned("serve")
    assert command.startswith("DJANGO_DEBUG=false ")
    assert "gunicorn -c gunicorn.conf.py" in command
    assert "runserver" not in command


def test_make_dev_keeps_the_development_server_with_debug_and_reload():
    command = planned("dev")
    assert command.startswith("DJANGO_DEBUG=true ")
    assert "manage.py runserver" in command
    assert "--noreload" not in command


def test_the_make_targets_choose_those_modes():
    makefile = (ROOT / "Makefile").read_text()
    assert "bash scripts/run.sh serve" in makefile.split("\nrun:")[1].split("\n\n")[0]
    assert "bash scripts/run.sh dev" in makefile.split("\ndev:")[1].split("\n\n")[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_what_make_run_serves_shows_the_services_own_pages_and_its_static_files():
    subprocess.run(
        [".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    port = _free_port()
    name = settings.DATABASES["default"]["NAME"]  # the test database
    database_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
    env = os.environ | {"DATABASE_URL": database_url, "GUNICORN_WORKERS": "1", "PORT": str(port)}
    env.pop("DATABASE_OWNER_URL", None)
    env.pop("DATABASE_WORKER_URL", None)
    command = shlex.split(planned("serve").replace(":8000", f":{port}"))
    assert command[0] == "DJANGO_DEBUG=false"
    env["DJANGO_DEBUG"] = "false"
    server = subprocess.Popen(
        command[1:], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "gunicorn stopped"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        status, body = _get(port, "/no-such-page/")
        assert status == 404
        assert "Page not found" in body
        assert "ds_site-header" in body
        assert "Django tried these URL patterns" not in body
        assert "DEBUG = True" not in body
        status, body = _get(port, "/static/css/dsr.css")
        assert status == 200
        assert ".dsr-counts" in body
    finally:
        server.terminate()
        server.wait(timeout=30)
