from __future__ import annotations

import logging
from functools import lru_cache
from secrets import token_hex
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from dsr.cache import CACHE_ERRORS

from .headers import RateLimitState, note_rate_limit
from .permissions import api_client

logger = logging.getLogger(__name__)


# The window's log of request times, a sorted set in Redis, kept in one round trip (DRF's throttle
# reads a pickled list and writes it back: two, and two clients at once could both be let in):
# drop the times that have left the window, add this one if the quota allows, and answer whether
# it did, how many are in the window, and the oldest time still in it.
WINDOW_SCRIPT = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('EXPIRE', KEYS[1], duration)
    count = count + 1
    allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, count, oldest[2] or ARGV[1]}
"""


@lru_cache(maxsize=8)
def _window_script(client: Any) -> Any:
    return client.register_script(WINDOW_SCRIPT)


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per API client (not per address), at the rate `DSR_API_RATE` (e.g. 600/min): a
    sliding window, as DRF's SimpleRateThrottle keeps it, in one Redis round trip.

    The counts live in the cache (Redis). With Redis away the request is let through unthrottled,
    and each such request logs a warning: the clients are known and authenticated by token and
    bound to their authority, so the service stays usable rather than refusing all of them
    (docs/api.md, docs/operations.md "When something fails"). The counts it kept are noted on
    the request, and every answer states them (`RateLimit`, headers.py); without them, nothing is
    stated."""

    scope = "api_client"
    cache_format = "ratelog_%(scope)s_%(ident)s"  # a sorted set, not DRF's pickled list

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        try:
            backend = caches[DEFAULT_CACHE_ALIAS]
            redis = backend._cache.get_client(key, write=True)
            allowed, self.count, oldest = _window_script(redis)(
                keys=[backend.make_and_validate_key(key)],
                args=[repr(self.now), self.duration, self.num_requests, token_hex(8)],
                client=redis,
            )
        except CACHE_ERRORS as exc:
            client = api_client(request)
            logger.warning(
                "API rate limit not applied to client %s: cache unavailable (%s)",
                client.pk if client else "-",
                exc.__class__.__name__,
            )
            return True
        self.oldest = float(oldest)
        note_rate_limit(
            request,
            RateLimitState(
                limit=self.num_requests,
                window=self.duration,
                remaining=self.num_requests - self.count if allowed else 0,
                # The oldest request still in the window leaves it first; then one more is allowed.
                reset=self.duration - (self.now - self.oldest),
            ),
        )
        return bool(allowed)

    def wait(self) -> float | None:
        """Seconds to wait before the next request (for Retry-After), as DRF reckons them."""
        remaining_duration = self.duration - (self.now - self.oldest)
        available_requests = self.num_requests - self.count + 1
        if available_requests <= 0:
            return None
        return remaining_duration / float(available_requests)

    def get_rate(self) -> str:
        return settings.DSR_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = api_client(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
