"""The load test: locust (headless, bounded in time) against gunicorn on 127.0.0.1.

Practitioners of the largest authorities browse the register and update ratings through the UI
forms. Sessions are created directly in the session store by the harness (no sign-in form, so a
second factor on sign-in does not get in the way, and production code is untouched); they are
deleted again afterwards.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.db.models import Count, Q

from accounts.models import User
from registers import access
from registers.demo import DEMO_EMAIL_DOMAIN, slug
from registers.models import IntegrationAuthority

from .config import Config

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AUTHORITIES_IN_TEST = 4
AMBER_RED = ("amber", "red")
UPDATABLE = ("urgent", "enhanced_monitoring")


@dataclass
class LoadResult:
    users: int
    seconds: int
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p95_ms: float = 0.0
    median_ms: float = 0.0
    server_errors: int = 0
    # The stack's ceiling on this machine, in the same run: the same users, middleware and server
    # asking only for the cheapest signed-in page. The mix's throughput as a share of it means
    # something on a noisy or slower machine, where requests/s alone does not.
    ceiling_rps: float = 0.0
    ceiling_p95_ms: float = 0.0
    share_of_ceiling: float = 0.0
    by_name: list[dict[str, Any]] = field(default_factory=list)
    skipped: str = ""

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _session_for(user: User) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend a password sign-in records (the first one, axes's, only refuses sign-ins).
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _plan(config: Config) -> tuple[dict[str, Any], list[str]]:
    with access.system_scope("bench: load test plan"):
        authorities = list(
            IntegrationAuthority.objects.annotate(
                n=Count("people", filter=Q(people__date_left__isnull=True))
            ).order_by("-n", "code")[:AUTHORITIES_IN_TEST]
        )
    users, sessions = [], []
    per_authority = [
        config.load_users // len(authorities) + (i < config.load_users % len(authorities))
        for i in range(len(authorities))
    ]
    rng = random.Random(7)
    for authority, slots in zip(authorities, per_authority, strict=True):
        if slots == 0:
            continue
        practitioner = User.objects.get(
            email=f"practitioner.{slug(authority.name)}@{DEMO_EMAIL_DOMAIN}"
        )
        with access.using_scope(access.scope_for(practitioner)):
            rows = list(
                access.writable_people(practitioner)
                .on_register()
                .order_by("pk")
                .values_list("pk", "category", "urgent_reason", "risk_rating")
            )
        readable = [pk for pk, *_ in rows]
        updatable = [
            [pk, f"{cat}:{reason}" if reason else cat, rating if rating in AMBER_RED else "red"]
            for pk, cat, reason, rating in rows
            if reason in (None, "at_risk_of_breakdown") and cat in UPDATABLE
        ]
        rng.shuffle(updatable)
        for slot in range(slots):
            session = _session_for(practitioner)
            sessions.append(session)
            users.append(
                {
                    "session": session,
                    "read": rng.sample(readable, min(500, len(readable))),
                    # Each simulated user updates only its own share of the people.
                    "update": updatable[slot::slots][:200],
                }
            )
    return {"session_cookie": settings.SESSION_COOKIE_NAME, "users": users}, sessions


def _database_url() -> str:
    """The database this process uses (the bench database, or the test database in tests), with
    the runtime role's credentials, as a web server has them (DATABASE_RUNTIME_URL's user and
    password, or the development set-up's)."""
    db = connection.settings_dict
    runtime = urlsplit(os.environ.get("DATABASE_RUNTIME_URL") or "postgres://dsr_app:dsr_app@x")
    user, password = unquote(runtime.username or ""), unquote(runtime.password or "")
    return (
        f"postgres://{quote(user)}:{quote(password)}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {url}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _locust(
    config: Config, env: dict[str, str], host: str, prefix: str, user_class: str, seconds: int
) -> None:
    run = subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            user_class,
            "--headless",
            "--users",
            str(config.load_users),
            "--spawn-rate",
            str(config.load_users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--host",
            host,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=BASE_DIR,
        env=env,
        timeout=seconds + 120,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics: {run.stderr[-2000:]}")


def _read_stats(prefix: str, result: LoadResult) -> None:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            entry = {
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "rps": round(float(row["Requests/s"] or 0), 2),
            }
            if row["Name"] == "Aggregated":
                result.requests, result.failures = entry["requests"], entry["failures"]
                result.median_ms, result.p95_ms, result.rps = (
                    entry["median_ms"],
                    entry["p95_ms"],
                    entry["rps"],
                )
            else:
                result.by_name.append(entry)


def run(config: Config) -> LoadResult:
    result = LoadResult(users=config.load_users, seconds=config.load_seconds)
    plan, sessions = _plan(config)
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    # The server under load gets the waits a web process gets, not the harness's long ones.
    env = {**os.environ, "DJANGO_DEBUG": "false", "DATABASE_URL": _database_url()}
    env.pop("DSR_DB_LONG_WAITS", None)
    with tempfile.TemporaryDirectory() as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        server_log = Path(tmp) / "gunicorn.log"
        with server_log.open("w") as log:
            server = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "dsr.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(config.load_workers),
                    "--threads",
                    str(config.load_threads),
                    "--timeout",
                    "60",
                    # gunicorn.conf.py (read from the working folder) recycles a worker after
                    # 2,000 requests; the ceiling run passes that, and a worker recycled under
                    # load drops its clients' kept-alive connections mid-run.
                    "--max-requests",
                    "0",
                    "--error-logfile",
                    "-",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_until_up(f"{host}/accounts/login/")
                locust_env = {**env, "BENCH_LOAD_PLAN": str(plan_file)}
                ceiling = LoadResult(users=config.load_users, seconds=config.load_seconds)
                prefix = str(Path(tmp) / "ceiling")
                _locust(config, locust_env, host, prefix, "Ceiling", config.load_seconds)
                _read_stats(prefix, ceiling)
                result.ceiling_rps, result.ceiling_p95_ms = ceiling.rps, ceiling.p95_ms
                result.failures += ceiling.failures
                prefix = str(Path(tmp) / "locust")
                _locust(config, locust_env, host, prefix, "Practitioner", config.load_seconds)
                _read_stats(prefix, result)
                if result.ceiling_rps:
                    result.share_of_ceiling = round(result.rps / result.ceiling_rps, 3)
            finally:
                _stop(server)
        text = server_log.read_text()
        result.server_errors = text.count("Traceback") + text.count("Internal Server Error")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in sessions:
        store(session_key=key).delete()
    return result
