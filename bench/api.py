"""The REST API as a case-management system uses it: list pages of 100, retrieve, update with
If-Match, bulk upsert of 500. Skipped, with the reason, when the API is not in this build."""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, resolve

from registers.models import IntegrationAuthority

from .config import Config


def missing() -> str:
    """Why the API cannot be benchmarked here, or "" when it can."""
    try:
        resolve("/api/v1/people/")
        resolve("/api/v1/people/bulk/")
    except Resolver404:
        return "the REST API (/api/v1/people/) is not in this build"
    return ""


def run(config: Config, authority: IntegrationAuthority) -> dict[str, Any]:
    reason = missing()
    if reason:
        return {"skipped": reason, "endpoints": []}
    from . import api_people

    return {"endpoints": [t.as_dict() for t in api_people.run(config, authority)]}
