"""Conditional requests over HTTP: a person's `ETag` is their version. A change names the version
it was made from in `If-Match` (the one check every API write uses); a read may send the ETag it
holds in `If-None-Match` and be answered 304 without a body when nothing changed (RFC 9110,
13.1.2: weak comparison, a list of tags, or `*`)."""

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


def _entity_tags(raw: str) -> list[str]:
    """The opaque tags of an If-None-Match list, weakness dropped (weak comparison). A comma
    inside a quoted tag is kept with its tag."""
    tags: list[str] = []
    rest = raw.strip()
    while rest:
        rest = rest.lstrip(" ,\t")
        if rest.startswith("W/"):
            rest = rest[2:]
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end == -1:
                break  # unterminated: nothing after it can be read
            tags.append(rest[: end + 1])
            rest = rest[end + 1 :]
        else:
            token, _, rest = rest.partition(",")
            if token.strip():
                tags.append(token.strip())
    return tags


def not_modified(request: Request, current: str) -> bool:
    """Whether If-None-Match names the current ETag (or is `*`): a GET is then answered 304."""
    raw = request.headers.get("If-None-Match")
    if raw is None:
        return False
    if raw.strip() == "*":
        return True
    return current in _entity_tags(raw)
