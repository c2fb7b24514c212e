from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from dsr.cache import CACHE_ERRORS

from .headers import RateLimitState, note_rate_limit
from .permissions import api_client

logger = logging.getLogger(__name__)


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per API client (not per address), at the rate `DSR_API_RATE` (e.g. 600/min).

    The counts live in the cache (Redis). With Redis away the request is let through unthrottled,
    and each such request logs a warning: the clients are known and authenticated by token and
    bound to their authority, so the service stays usable rather than refusing all of them
    (docs/api.md, docs/operations.md "When something fails"). The counts it kept are noted on
    the request, and every answer states them (`RateLimit`, headers.py); without them, nothing is
    stated."""

    scope = "api_client"

    def allow_request(self, request: Request, view: Any) -> bool:
        self._request = request
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

    def throttle_success(self) -> bool:
        allowed = super().throttle_success()
        self._note(remaining=self.num_requests - len(self.history))
        return allowed

    def throttle_failure(self) -> bool:
        self._note(remaining=0)
        return False

    def _note(self, *, remaining: int) -> None:
        # The oldest request still in the window leaves it first; then one more is allowed.
        oldest = self.history[-1] if self.history else self.now
        note_rate_limit(
            self._request,
            RateLimitState(
                limit=self.num_requests,
                window=self.duration,
                remaining=remaining,
                reset=self.duration - (self.now - oldest),
            ),
        )

    def get_rate(self) -> str:
        return settings.DSR_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = api_client(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
