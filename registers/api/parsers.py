"""The API's JSON parser: DRF's, with limits that turn hostile bodies into clear 4xx answers.

- Nesting: Python's decoder recurses once per level, so a body nested a few thousand deep ends in
  RecursionError (a 500). The body is scanned first (brackets outside strings) and refused past
  `DSR_API_MAX_JSON_DEPTH` levels; no request the API documents is deeper than a handful.
- Size: `ApiBodyLimitMiddleware` (registers/api/errors.py) refuses a declared Content-Length over
  Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` before anything reads the body; the parser never reads
  more than that limit either, whatever the header said.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

# A JSON string: quotes around anything but a quote or backslash, or an escape.
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
OPENERS = frozenset(b"[{")
CLOSERS = frozenset(b"]}")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(too_large_detail())


def too_large_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return (
        f"The request body is larger than {limit} bytes: send fewer items per request "
        "(the bulk endpoint takes up to 500 people)."
    )


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a bare value)."""
    brackets = JSON_STRING.sub(b"", raw).translate(None, bytes(set(range(256)) - OPENERS - CLOSERS))
    depth = deepest = 0
    for byte in brackets:
        if byte in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class LimitedJSONParser(JSONParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge()
        max_depth = settings.DSR_API_MAX_JSON_DEPTH
        if json_depth(raw) > max_depth:
            raise ParseError(
                f"The JSON nests arrays and objects more than {max_depth} levels deep; "
                "no request to this API needs more."
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"The body is not valid {encoding} text.") from exc
        try:
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:  # deeper than the interpreter allows: refused all the same
            raise ParseError("The JSON nests arrays and objects too deeply.") from exc
