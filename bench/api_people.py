"""The people endpoints as a case-management system calls them, with a bearer token."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.services import create_api_client
from registers import access
from registers.models import IntegrationAuthority, Locality, Person

from .config import Config
from .measure import Timing, bare_sql, capture, timed
from .pages import HOST

# Tells this run's values from the last run's on a reused database.
RUN = secrets.token_hex(3)

BULK_SIZE = 500
BULK_REQUESTS = 20
PAGE_SIZE = 100
BULK_URL = "/api/v1/people/bulk/"
JSON = "application/json"
REFERENCE = "BENCH-API-{:04d}"


def _client(authority: IntegrationAuthority) -> APIClient:
    with access.system_scope("bench: the authority's lead"):
        lead = Membership.objects.get(authority=authority, role=Role.LEAD).user
    # A new client each run (its name must be new in the authority).
    name = f"Benchmark {timezone.now():%Y-%m-%d %H:%M:%S.%f}"
    with transaction.atomic(), access.using_scope(access.scope_for(lead)):
        _record, token = create_api_client(lead, authority, name=name, scopes=["read", "write"])
    api = APIClient(HTTP_HOST=HOST)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def _call(api: APIClient, method: str, url: str, expect: int, **kwargs: Any):
    response = getattr(api, method)(url, **kwargs)
    if response.status_code != expect:
        raise RuntimeError(f"API {method.upper()} {url} answered {response.status_code}")
    return response


def _measure(name: str, config: Config, requests: int, call, *, items: int = 0) -> Timing:
    """`call(i)` makes request i (untimed preparation inside it returns a timed callable)."""
    call(0)()
    statements, _ = capture(call(1))
    # Replayed at once, against the data the request saw: after later requests the same
    # statements would do other work (a bulk upsert's history entries would then come before
    # newer ones, and the history's trigger rebuild those people's spells instead of skipping).
    bare = bare_sql(statements, repeats=config.bare_repeats)
    samples = [timed(call(i))[0] for i in range(2, requests + 2)]
    return Timing(name, "API client (read, write)", samples, len(statements), bare, items=items)


def run(config: Config, authority: IntegrationAuthority) -> list[Timing]:
    results: list[Timing] = []
    with override_settings(DSR_API_RATE="1000000/min"):
        api = _client(authority)
        with access.system_scope("bench: people for the API"):
            ids = list(
                Person.objects.filter(authority=authority, date_left__isnull=True)
                .exclude(urgent_reason="in_hospital")
                .exclude(local_reference__startswith="BENCH-API-")
                .order_by("pk")
                .values_list("pk", "category", "urgent_reason")[: config.requests + 2]
            )
            locality = Locality.objects.filter(authority=authority).order_by("pk").first()

        pages = [f"/api/v1/people/?page_size={PAGE_SIZE}"]
        first = _call(api, "get", pages[0], 200).json()
        if first.get("next"):
            pages.append(first["next"].split(HOST, 1)[-1])
        results.append(
            _measure(
                f"API: list, {PAGE_SIZE} a page",
                config,
                config.requests,
                lambda i: lambda: _call(api, "get", pages[i % len(pages)], 200),
                items=PAGE_SIZE,
            )
        )
        results.append(
            _measure(
                "API: retrieve",
                config,
                config.requests,
                lambda i: lambda: _call(api, "get", f"/api/v1/people/{ids[i % len(ids)][0]}/", 200),
            )
        )

        def update(i: int):
            pk, category, reason = ids[i % len(ids)]
            url = f"/api/v1/people/{pk}/"
            current = _call(api, "get", url, 200)
            etag = current["ETag"]
            # A real change every time, on a reused database too (the same value again would
            # measure an update that changes nothing).
            rating = "amber" if current.json()["risk_rating"] == "red" else "red"
            body = {"risk_rating": rating, "reason": "Rating reviewed (benchmark)"}
            if category == "urgent" and reason != "at_risk_of_breakdown":
                body = {"key_worker_name": f"Benchmark worker {RUN}-{i}"}
            return lambda: _call(
                api, "patch", url, 200, data=body, format="json", HTTP_IF_MATCH=etag
            )

        results.append(_measure("API: update with If-Match", config, config.requests, update))

        versions = _bulk_versions(authority)

        def bulk(i: int):
            people = []
            for n in range(BULK_SIZE):
                reference = REFERENCE.format(n)
                if reference in versions:
                    people.append(
                        {
                            "local_reference": reference,
                            "version": versions[reference],
                            "key_worker_name": f"Benchmark worker {i}",
                        }
                    )
                else:
                    people.append(_new_person(reference, locality))
            body = json.dumps({"people": people})

            def send():
                response = _call(
                    api,
                    "post",
                    "/api/v1/people/bulk/",
                    200,
                    data=body,
                    content_type="application/json",
                )
                for row in response.json()["results"]:
                    versions[row["local_reference"]] = row["version"]
                return response

            return send

        requests = min(config.requests, BULK_REQUESTS)
        results.append(
            _measure(f"API: bulk upsert of {BULK_SIZE}", config, requests, bulk, items=BULK_SIZE)
        )
    return results


def _bulk_versions(authority: IntegrationAuthority) -> dict[str, int]:
    with access.system_scope("bench: versions of the API's bulk people"):
        return dict(
            Person.objects.filter(
                authority=authority, local_reference__startswith="BENCH-API-"
            ).values_list("local_reference", "version")
        )


def _new_person(reference: str, locality: Locality) -> dict[str, Any]:
    return {
        "locality": locality.pk,
        "local_reference": reference,
        "given_name": "Morag",
        "family_name": "Benchmark",
        "date_of_birth": "1988-03-14",
        "sex": "female",
        "category": "enhanced_monitoring",
        "risk_rating": "amber",
        "referral_source": "social_work",
        "reason": "Loaded by the benchmark",
    }
