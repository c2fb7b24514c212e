from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from dsr.cache import CACHE_ERRORS

from .permissions import api_client

logger = logging.getLogger(__name__)


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per API client (not per address), at the rate `DSR_API_RATE` (e.g. 600/min).

    The counts live in the cache (Redis). With Redis away the request is let through unthrottled,
    and each such request logs a warning: the clients are known and authenticated by token and
    bound to their authority, so the service stays usable rather than refusing all of them
    (docs/api.md, docs/operations.md "When something fails")."""

    scope = "api_client"

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            client = api_client(request)
            logger.warning(
                "API rate limit not applied to client %s: cache unavailable (%s)",
                client.pk if client else "-",
                exc.__class__.__name__,
            )
            return True

    def get_rate(self) -> str:
        return settings.DSR_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = api_client(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
