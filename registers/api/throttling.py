from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .permissions import api_client


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per API client (not per address), at the rate `DSR_API_RATE` (e.g. 600/min)."""

    scope = "api_client"

    def get_rate(self) -> str:
        return settings.DSR_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = api_client(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
