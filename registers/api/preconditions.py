"""Optimistic concurrency over HTTP: a person's `ETag` is their version, and a change names the
version it was made from in `If-Match`. The one check every API write uses."""

from __future__ import annotations

from rest_framework.request import Request

from registers import services
from registers.models import Person

from .errors import IfMatchMalformed, PreconditionRequired


def etag(person: Person) -> str:
    return f'"{person.version}"'


def check_if_match(
    request: Request, person: Person | None = None, *, required: bool = True
) -> int | None:
    """The version named by If-Match: missing is 428 (when required), unreadable is 400 (its own
    problem type: a malformed header is not a stale version), and
    given the person, a version other than theirs is 412 before any work is done (the service
    checks it again under lock)."""
    raw = (request.headers.get("If-Match") or "").strip()
    if not raw:
        if required:
            raise PreconditionRequired()
        return None
    tag = raw[2:] if raw.startswith("W/") else raw
    tag = tag.strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise IfMatchMalformed()
    version = int(tag)
    if person is not None and version != person.version:
        raise services.StaleVersion(person.version)
    return version
