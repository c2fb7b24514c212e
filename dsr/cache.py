"""Reading and writing Django's cache (Redis) where a cache that is away must not fail the request.

The cache only ever saves work here: each caller has a way on without it (ask the database, build
again, let the request through), and takes it when Redis is down or hangs (a short socket timeout,
DSR_REDIS_SOCKET_TIMEOUT, bounds the wait). Each miss of this kind is logged as a warning, so an
operator sees Redis is away (docs/operations.md, "When something fails").
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger("dsr.cache")

# What a Redis that is down, refusing, hanging or restarting raises.
CACHE_ERRORS = (RedisError, OSError)

_MISSING = object()


def get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except CACHE_ERRORS as exc:
        logger.warning("cache unavailable (get): %s", exc.__class__.__name__)
        return default


def set(key: str, value: Any, timeout: float | None) -> bool:
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS as exc:
        logger.warning("cache unavailable (set): %s", exc.__class__.__name__)
        return False
    return True


def delete(key: str) -> bool:
    try:
        cache.delete(key)
    except CACHE_ERRORS as exc:
        logger.warning("cache unavailable (delete): %s", exc.__class__.__name__)
        return False
    return True
