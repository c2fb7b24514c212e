"""The register's pages through Django's test client, for a lead and a practitioner."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, replace

from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse

from accounts import mfa
from accounts.models import User
from registers import access, demo
from registers.demo import DEMO_EMAIL_DOMAIN, slug
from registers.models import IntegrationAuthority, Person

from .config import Config
from .measure import Timing, bare_sql, capture, timed

HOST = "127.0.0.1"
DASHBOARD_REQUESTS = 50
FILTERED = [
    "/register/?category=urgent&risk_rating=red&sort=review",
    "/register/?review_overdue=yes&sort=updated",
    "/register/?hospital=delayed",
]
SEARCHES = ["/register/?q=Campbell", "/register/?q=fiona+ross", "/register/?q=DEMO-000123"]
VERSION_FIELD = re.compile(rb'name="version" value="(\d+)"')


@dataclass
class Actor:
    role: str
    user: User
    person_ids: list[int]  # people on the register the user can read (and change)


def largest_authority() -> IntegrationAuthority:
    with access.system_scope("bench: find the largest authority"):
        return (
            IntegrationAuthority.objects.annotate(
                n=Count("people", filter=Q(people__date_left__isnull=True))
            )
            .order_by("-n", "code")
            .first()
        )


def actor(role: str, authority: IntegrationAuthority, *, sample: int, seed: int) -> Actor:
    """A demo user of `authority` and a random sample of the people they may change."""
    user = User.objects.get(email=f"{role}.{slug(authority.name)}@{DEMO_EMAIL_DOMAIN}")
    scope = access.scope_for(user)
    with access.using_scope(scope):
        ids = list(
            access.writable_people(user)
            .on_register()
            .filter(authority=authority)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    rng = random.Random(seed)
    return Actor(role, user, rng.sample(ids, min(sample, len(ids))))


def client_for(user: User) -> Client:
    client = Client(HTTP_HOST=HOST)
    required = mfa.mfa_required(user)
    if required:
        # Before signing in: the sign-in notes whether the account has an authenticator.
        demo.ensure_demo_second_factor(user)
    client.force_login(user)
    if required:
        _pass_second_factor(client, user)
    return client


def _pass_second_factor(client: Client, user: User) -> None:
    """Through the real second-factor page, with the demo accounts' published authenticator key
    (a code is used once, so a refusal waits for the next one)."""
    for _ in range(2):
        answer = client.post(reverse("mfa_verify"), {"code": demo.demo_totp_code()})
        if answer.status_code == 302 and reverse("mfa_verify") not in answer["Location"]:
            return
        time.sleep(30 - time.time() % 30 + 0.5)
    raise RuntimeError(f"second factor refused for {user.email}")


def measure(
    client: Client, name: str, who: str, urls: list[str], config: Config, *, method: str = "get"
) -> Timing:
    """Time each URL in turn (cycling) `config.requests` times, after a warm-up; capture the SQL
    of one request and replay it bare."""

    def call(url: str):
        response = getattr(client, method)(url)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        return response

    for url in urls[:3]:
        call(url)
    statements, _ = capture(lambda: call(urls[0]))
    samples = []
    for i in range(config.requests):
        url = urls[i % len(urls)]
        samples.append(timed(lambda url=url: call(url))[0])
    bare = bare_sql(statements, repeats=config.bare_repeats)
    return Timing(name, who, samples, len(statements), bare)


def measure_quick_update(client: Client, who: str, actor_: Actor, config: Config) -> Timing:
    """The practitioner's quick status update: the form page (for the version), then the timed
    POST. The rating moves between amber and red, so the person stays in their category."""
    people = _updatable(actor_)
    if not people:
        raise RuntimeError("nobody whose rating the practitioner can update")
    ratings = {pk: rating for pk, _status, rating in people}

    def prepare(i: int) -> tuple[str, dict[str, str]]:
        pk, status, _ = people[i % len(people)]
        url = f"/register/people/{pk}/quick-status/"
        version = VERSION_FIELD.search(client.get(url).content).group(1).decode()
        ratings[pk] = "red" if ratings[pk] == "amber" else "amber"
        return url, {
            "status": status,
            "risk_rating": ratings[pk],
            "reason": "Rating reviewed (benchmark)",
            "version": version,
        }

    def post(url: str, data: dict[str, str]):
        response = client.post(url, data)
        if response.status_code != 302:
            raise RuntimeError(f"quick update {url} answered {response.status_code}")
        return response

    post(*prepare(0))
    url, data = prepare(1)
    statements, _ = capture(lambda: post(url, data))
    samples = []
    for i in range(2, config.requests + 2):
        url, data = prepare(i)
        samples.append(timed(lambda url=url, data=data: post(url, data))[0])
    return Timing(
        "quick status update (POST)",
        who,
        samples,
        len(statements),
        bare_sql(statements, repeats=config.bare_repeats),
    )


def _updatable(actor_: Actor) -> list[tuple[int, str, str]]:
    """(id, status value, rating) of people whose rating can move between amber and red."""
    with access.using_scope(access.scope_for(actor_.user)):
        rows = Person.objects.filter(pk__in=actor_.person_ids).values_list(
            "pk", "category", "urgent_reason", "risk_rating"
        )
        people = []
        for pk, category, reason, rating in rows:
            if reason in (None, "at_risk_of_breakdown") and category in (
                "urgent",
                "enhanced_monitoring",
            ):
                status = f"{category}:{reason}" if reason else category
                people.append((pk, status, rating if rating in ("amber", "red") else "red"))
    return people


def run(config: Config, authority: IntegrationAuthority, *, log=print) -> list[Timing]:
    lead = actor("lead", authority, sample=max(config.requests, 20), seed=1)
    practitioner = actor("practitioner", authority, sample=max(config.requests, 20), seed=2)
    # A report-like page at about a second: fewer requests keep the run's time bounded.
    fewer = replace(config, requests=min(config.requests, DASHBOARD_REQUESTS))
    results: list[Timing] = []
    for who in (lead, practitioner):
        client = client_for(who.user)
        label = f"{who.role} ({authority.name})"
        people = [f"/register/people/{pk}/" for pk in who.person_ids]
        steps = [
            ("register list, first page", ["/register/"], config),
            ("register list, filtered", FILTERED, config),
            ("register list, search", SEARCHES, config),
            ("person page", people, config),
            ("reviews due", ["/register/reviews/"], config),
        ]
        if who.role == "lead":
            steps.append(("dashboard", ["/register/dashboard/"], fewer))
        for name, urls, settings in steps:
            results.append(measure(client, name, label, urls, settings))
            log(f"  {name} [{label}]: p95 {results[-1].p95:.0f} ms")
        if who.role == "practitioner":
            results.append(measure_quick_update(client, label, who, config))
            log(f"  quick status update [{label}]: p95 {results[-1].p95:.0f} ms")
    return results
