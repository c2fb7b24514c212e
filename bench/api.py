"""The REST API as a case-management system uses it: list pages of 100, retrieve, update with
If-Match, bulk upsert of 500."""

from __future__ import annotations

from typing import Any

from registers.models import IntegrationAuthority

from . import api_people
from .config import Config


def run(config: Config, authority: IntegrationAuthority) -> dict[str, Any]:
    return {"endpoints": [t.as_dict() for t in api_people.run(config, authority)]}
