"""Headers every API answer may carry, added in one place for every view under /api/v1/ (the
people, localities and returns endpoints alike):

- `RateLimit-Policy` and `RateLimit`, in the form of draft-ietf-httpapi-ratelimit-headers-07:
  `RateLimit-Policy: 600;w=60` (requests per window of seconds) and
  `RateLimit: limit=600, remaining=599, reset=37` (seconds until the oldest request in the
  window leaves it). The throttle (throttling.py) notes the numbers on the request; when it could
  not count (Redis away, or a caller that is not an API client) the headers are left out.
- `Deprecation`, `Sunset` and `Link` for an endpoint marked with `@deprecated(...)`
  (RFC 9745, RFC 8594; docs/api.md "Versioning and deprecation").
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

RATE_LIMIT_ATTRIBUTE = "dsr_rate_limit"


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    window: int
    remaining: int
    reset: float

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f"{self.limit};w={self.window}",
            "RateLimit": (
                f"limit={self.limit}, remaining={max(self.remaining, 0)}, "
                f"reset={max(math.ceil(self.reset), 0)}"
            ),
        }


def note_rate_limit(request: Any, state: RateLimitState) -> None:
    """Kept on Django's request (under DRF's), where the middleware finds it."""
    setattr(getattr(request, "_request", request), RATE_LIMIT_ATTRIBUTE, state)


@dataclass(frozen=True)
class Deprecation:
    """An endpoint's deprecation: since when (may be in the future: announced), when it stops
    answering (Sunset, at least DSR's notice period later), and where the replacement is
    described."""

    deprecated_on: dt.date
    sunset_on: dt.date | None = None
    link: str = ""

    def headers(self) -> dict[str, str]:
        since = calendar.timegm(self.deprecated_on.timetuple())
        found = {"Deprecation": f"@{since}"}
        links = []
        if self.link:
            links.append(f'<{self.link}>; rel="deprecation"; type="text/html"')
        if self.sunset_on is not None:
            found["Sunset"] = http_date(calendar.timegm(self.sunset_on.timetuple()))
            if self.link:
                links.append(f'<{self.link}>; rel="sunset"; type="text/html"')
        if links:
            found["Link"] = ", ".join(links)
        return found


def deprecated(
    deprecated_on: dt.date, *, sunset_on: dt.date | None = None, link: str = ""
) -> Callable[[type], type]:
    """Mark an API view class deprecated: its answers carry the headers, and its operations are
    marked `deprecated` in the OpenAPI schema."""

    def mark(view_class: type) -> type:
        view_class.api_deprecation = Deprecation(deprecated_on, sunset_on, link)
        return view_class

    return mark


def deprecation_of(request: HttpRequest) -> Deprecation | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    return getattr(view_class, "api_deprecation", None)


class ApiHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/v1/"):
            return response
        state = getattr(request, RATE_LIMIT_ATTRIBUTE, None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        deprecation = deprecation_of(request)
        if deprecation is not None:
            for name, value in deprecation.headers().items():
                response[name] = value
        return response
