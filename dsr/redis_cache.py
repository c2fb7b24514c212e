"""The cache backend: Django's Redis cache, reusing one Redis client per connection pool.

Django's backend makes a new `redis.Redis` for every operation, and building one (its table of
response callbacks) cost more than the round trip: the API's rate limit alone asks twice a call.
A client holds no connection of its own (each command borrows one from the pool), so one client
per pool serves every thread that shares the pool."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
