"""The API's rate limit keeps DRF's sliding window in one Redis round trip (a sorted set and a
script): for any sequence of requests it must let through, count and time exactly what DRF's own
SimpleRateThrottle (a pickled list, read and written back) does."""

from __future__ import annotations

from itertools import count
from types import SimpleNamespace

from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiClient
from registers.api.headers import RATE_LIMIT_ATTRIBUTE
from registers.api.throttling import ApiClientRateThrottle


class DrfWindow(SimpleRateThrottle):
    """The slow way: DRF's own throttle, over a local cache."""

    cache = LocMemCache("drf-window", {})

    def get_cache_key(self, request, view):
        return f"window-{request.auth.pk}"


CLIENTS = count(1)


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 4),
    period=st.sampled_from(["s", "m"]),
    steps=st.lists(st.floats(0, 45, allow_nan=False), min_size=1, max_size=14),
)
def test_the_window_lets_through_counts_and_times_as_drf_does(limit, period, steps):
    ident = next(CLIENTS)  # a window of its own for each example
    DrfWindow.rate = f"{limit}/{period}"
    now = 1_800_000_000.0
    for step in steps:
        now += step if period == "m" else step / 45
        request = SimpleNamespace(auth=ApiClient(pk=ident))
        with override_settings(DSR_API_RATE=f"{limit}/{period}"):
            ours, drf = ApiClientRateThrottle(), DrfWindow()
        ours.timer = drf.timer = lambda at=now: at
        allowed = ours.allow_request(request, None)
        assert allowed == drf.allow_request(request, None)
        state = getattr(request, RATE_LIMIT_ATTRIBUTE)
        oldest = drf.history[-1] if drf.history else drf.now
        assert state.remaining == (limit - len(drf.history) if allowed else 0)
        assert state.reset == drf.duration - (drf.now - oldest)
        if not allowed:
            assert ours.wait() == drf.wait()
