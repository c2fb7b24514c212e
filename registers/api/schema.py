"""OpenAPI generation: every operation documents its problem-details errors with examples, the
`If-Match` precondition where a write needs it, `If-None-Match` and 304 on person reads, `ETag` on
person responses, `RateLimit` headers on every answer and `Retry-After` on 429, and marks the
operations of a `@deprecated` view, without repeating them on each view."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from .errors import (
    PROBLEM_CONTENT_TYPE,
    TITLES,
    IfMatchMalformed,
    ProblemSerializer,
    problem_type,
)
from .examples import SUCCESS, component_key
from .strict import UNKNOWN_FIELD, UNKNOWN_PARAMETER

DETAILS = {
    400: "The request has invalid data; see errors.",
    401: "The token is not valid or has been revoked.",
    403: "This token is read-only: it does not have the write scope.",
    404: "Not found.",
    412: "The record has changed since the version given in If-Match. "
    'The current version is 4 (ETag "4").',
    413: "The request body is larger than 2621440 bytes: send fewer items per request.",
    422: "This Idempotency-Key was used with a different request (method, path, If-Match or "
    "body). Use a new key for a new request.",
    428: "Send If-Match with the ETag of the version you read.",
    429: "Request was throttled. Expected available in 12 seconds.",
    500: "The service could not answer this request. It has been logged; if it persists, "
    "contact the service desk with the time of the request.",
}
# What a 404 says, by the first path segment after /api/v1/.
NOT_FOUND = {
    "people": "No such person on your register.",
    "authorities": "No such authority, locality or return for you.",
}
# Example values of path parameters, so each example's `instance` is an address of its own path.
PATH_EXAMPLES = {
    "person_id": "42",
    "reference": "CMS-0042",
    "authority_id": "1",
    "authority_code": "S37000006",
    "locality_id": "3",
    "census_date": "2026-03-31",
}
PATH_PARAMETER = re.compile(r"{(\w+)}")


def example_instance(path: str) -> str:
    return PATH_PARAMETER.sub(lambda m: PATH_EXAMPLES.get(m.group(1), "1"), path)


def _problem(code: int, instance: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": problem_type(code, extra.pop("kind", None)),
        "title": extra.pop("title", None) or TITLES[code],
        "status": code,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def _examples(code: int, path: str, *, if_match: bool = False) -> list[OpenApiExample]:
    instance = example_instance(path)
    detail = DETAILS[code]
    if code == 404:
        segment = path.removeprefix("/api/v1/").split("/", 1)[0]
        detail = NOT_FOUND.get(segment, detail)
    examples = [OpenApiExample(TITLES[code], value=_problem(code, instance, detail))]
    if code == 400:
        examples = [
            OpenApiExample(
                "Invalid data",
                value=_problem(
                    code,
                    instance,
                    detail,
                    errors={
                        "date_of_birth": ["The date of birth cannot be in the future."],
                        "keyworker_name": [UNKNOWN_FIELD],
                    },
                ),
            ),
            OpenApiExample(
                "Unknown query parameter",
                value=_problem(
                    code,
                    f"{instance}?ordering=name",
                    detail,
                    errors={"ordering": [UNKNOWN_PARAMETER]},
                ),
            ),
        ]
        if if_match:
            examples.append(
                OpenApiExample(
                    IfMatchMalformed.title,
                    value=_problem(
                        code,
                        instance,
                        str(IfMatchMalformed.default_detail),
                        kind=IfMatchMalformed.problem_type,
                        title=IfMatchMalformed.title,
                    ),
                )
            )
    for example in examples:
        example.status_codes = [str(code)]
    return examples


def problem_response(
    code: int, path: str, description: str | None = None, *, if_match: bool = False
) -> OpenApiResponse:
    return OpenApiResponse(
        ProblemSerializer,
        description=description or TITLES[code],
        examples=_examples(code, path, if_match=if_match),
    )


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The person\'s ETag as last read (its version, quoted: `"3"`). Without it the '
    "write is refused with 428; with an old one, 412 and nothing changes.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,
    description="The person's version, quoted; send it back in If-Match to change the record.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    required=True,
    description="Seconds to wait before the next request.",
)


IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='ETags you hold (`"3"`, a list `"2", "3"`, weak `W/"3"` or `*`): when one is the '
    "person's current version the answer is 304 with no body.",
)
ETAG_NOT_MODIFIED = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[304],
    required=True,
    description="The person's version, unchanged.",
)
RATE_LIMIT = OpenApiParameter(
    "RateLimit",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="This client's quota now (draft-ietf-httpapi-ratelimit-headers-07): "
    "`limit=600, remaining=599, reset=37` (reset in seconds). Left out when it cannot be counted.",
)
RATE_LIMIT_POLICY = OpenApiParameter(
    "RateLimit-Policy",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="The quota's policy: `600;w=60` (requests per window of seconds).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional: a key of your own (1 to 255 visible ASCII characters, a UUID for "
    "example). The same key and request again within 24 hours is answered with the first "
    "answer, not done twice; the same key with a different request is 422.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="`true` when this is the answer first given to the same Idempotency-Key.",
)
DEPRECATION_HEADERS = [
    OpenApiParameter(
        "Deprecation",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Since when the endpoint is deprecated (RFC 9745: `@<unix time>`).",
    ),
    OpenApiParameter(
        "Sunset",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="When it stops answering (RFC 8594, an HTTP date).",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description='Where the change is described (`rel="deprecation"`, `rel="sunset"`).',
    ),
]


class ProblemAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        # A viewset's action, or the HTTP method of a plain view.
        return getattr(self.view, "action", None) or self.method.lower()

    def _needs_if_match(self) -> bool:
        return self._action() in getattr(self.view, "if_match_actions", ())

    def _sends_etag(self) -> bool:
        return self._action() in getattr(self.view, "etag_actions", ())

    def _conditional_get(self) -> bool:
        return self._action() in getattr(self.view, "conditional_get_actions", ())

    def _idempotent(self) -> bool:
        return self.method == "POST" and getattr(self.view, "idempotent_posts", False)

    def is_deprecated(self) -> bool:
        return getattr(self.view, "api_deprecation", None) is not None

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._needs_if_match():
            parameters.append(IF_MATCH)
        if self._sends_etag():
            parameters.append(ETAG)
        if self._conditional_get():
            parameters += [IF_NONE_MATCH, ETAG_NOT_MODIFIED]
        if self._idempotent():
            parameters += [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
        if self.is_deprecated():
            parameters += DEPRECATION_HEADERS
        parameters += [RETRY_AFTER, RATE_LIMIT, RATE_LIMIT_POLICY]
        return parameters

    def _problem_codes(self) -> list[int]:
        # 400 everywhere: bodies, but also query filters (a malformed `updated_since`).
        codes = [400, 401, 403, 404, 429, 500]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(413)  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        preconditions = getattr(self.view, "precondition_actions", ())
        if self._needs_if_match() or self._action() in preconditions:
            codes += [412, 428]
        if self._idempotent():
            codes.append(422)
        return sorted(codes)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self._conditional_get():
            responses["304"] = self._get_response_for_code(
                OpenApiResponse(description="Not modified: the ETag you sent is current."),
                "304",
                direction=direction,
            )
        preconditions = getattr(self.view, "precondition_actions", ())
        if_match = self._needs_if_match() or self._action() in preconditions
        for code in self._problem_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    problem_response(code, self.path, if_match=if_match),
                    str(code),
                    [PROBLEM_CONTENT_TYPE],
                    direction,
                )
        for code, response in responses.items():
            if code.startswith("2"):
                self._describe_success(code, response)
        return responses

    def _describe_success(self, code: str, response: dict[str, Any]) -> None:
        """A description and an example for each success answer, from examples.py by the shape
        it answers with (unless the view gave its own)."""
        for media in response.get("content", {}).values():
            found = SUCCESS.get(component_key(media.get("schema")) or "")
            if found is None:
                continue
            descriptions, value = found
            if not response.get("description"):
                response["description"] = descriptions.get(code) or next(
                    iter(descriptions.values())
                )
            media.setdefault("examples", {"Example": {"value": value}})

    def _get_serializer_name(self, serializer: Any, direction: str, *args: Any, **kw: Any) -> str:
        """`PersonUpsertRequest`, not `PatchedPersonUpsertRequest`: only a PATCH body is
        "Patched" (a PUT by reference and bulk items are partial serializers too)."""
        name = super()._get_serializer_name(serializer, direction, *args, **kw)
        if name.startswith("Patched") and self.method != "PATCH":
            name = name.removeprefix("Patched")
        return name
