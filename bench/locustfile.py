"""Practitioners using the register: list, search and person reads, and quick status updates
through the UI's form (CSRF token and version from the form page, then the POST).

The harness (bench/load.py) writes the plan: one signed-in session per simulated user, and for
each the people only that user updates, so no two users race for the same record (a refused stale
write would be correct behaviour, but it is not what this test measures).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
SESSION_COOKIE = PLAN["session_cookie"]
_slots = itertools.count()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
SEARCHES = ["Campbell", "fiona", "Ross", "MacLeod", "Kerr"]


class Ceiling(HttpUser):
    """The stack's ceiling: the cheapest signed-in page (the help page) through the same
    middleware, sessions, scope and server as the mix below."""

    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        slot = PLAN["users"][next(_slots) % len(PLAN["users"])]
        self.client.cookies.set(SESSION_COOKIE, slot["session"])

    @task
    def cheapest_signed_in_page(self) -> None:
        with self.client.get("/help/", name="ceiling: help page", catch_response=True) as r:
            if r.status_code != 200 or "Sign out" not in r.text:
                r.failure(f"status {r.status_code} or not signed in")


class Practitioner(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        slot = PLAN["users"][next(_slots) % len(PLAN["users"])]
        self.client.cookies.set(SESSION_COOKIE, slot["session"])
        self.readable = slot["read"]
        self.updatable = slot["update"]  # [id, status value, rating]
        self.rng = random.Random(slot["session"])

    def _get(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif "Sign in" in response.text and "/accounts/login/" in response.url:
                response.failure("signed out")
            return response

    @task(4)
    def register_list(self) -> None:
        page = self.rng.choice(["", "?page=2", "?sort=review", "?risk_rating=red"])
        self._get(f"/register/{page}", "register list")

    @task(1)
    def search(self) -> None:
        self._get(f"/register/?q={self.rng.choice(SEARCHES)}", "register search")

    @task(4)
    def person(self) -> None:
        self._get(f"/register/people/{self.rng.choice(self.readable)}/", "person page")

    @task(2)
    def quick_update(self) -> None:
        if not self.updatable:
            return
        person = self.rng.choice(self.updatable)
        pk, status, rating = person
        url = f"/register/people/{pk}/quick-status/"
        form = self._get(url, "quick update form")
        csrf, version = CSRF.search(form.text), VERSION.search(form.text)
        if not (csrf and version):
            return
        person[2] = "red" if rating == "amber" else "amber"
        data = {
            "csrfmiddlewaretoken": csrf.group(1),
            "status": status,
            "risk_rating": person[2],
            "reason": "Rating reviewed (load test)",
            "version": version.group(1),
        }
        with self.client.post(
            url, data, name="quick update POST", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
