"""OpenAPI generation: every operation documents its problem-details errors with examples, the
`If-Match` precondition where a write needs it, `ETag` on person responses and `Retry-After` on
429, without repeating them on each view."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from .errors import PROBLEM_CONTENT_TYPE, TITLES, ProblemSerializer, problem_type

DETAILS = {
    400: "The request has invalid data; see errors.",
    401: "The token is not valid or has been revoked.",
    403: "This token is read-only: it does not have the write scope.",
    404: "No such person on your register.",
    412: "The record has changed since the version given in If-Match. "
    'The current version is 4 (ETag "4").',
    413: "The request body is larger than 2621440 bytes: send fewer items per request.",
    428: "Send If-Match with the ETag of the version you read.",
    429: "Request was throttled. Expected available in 12 seconds.",
}


def _example(code: int) -> OpenApiExample:
    value: dict[str, Any] = {
        "type": problem_type(code),
        "title": TITLES[code],
        "status": code,
        "detail": DETAILS[code],
        "instance": "/api/v1/people/42/",
    }
    if code == 400:
        value["errors"] = {"date_of_birth": ["The date of birth cannot be in the future."]}
    return OpenApiExample(TITLES[code], value=value, status_codes=[str(code)])


def problem_response(code: int, description: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        ProblemSerializer, description=description or TITLES[code], examples=[_example(code)]
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


class ProblemAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        # A viewset's action, or the HTTP method of a plain view.
        return getattr(self.view, "action", None) or self.method.lower()

    def _needs_if_match(self) -> bool:
        return self._action() in getattr(self.view, "if_match_actions", ())

    def _sends_etag(self) -> bool:
        return self._action() in getattr(self.view, "etag_actions", ())

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._needs_if_match():
            parameters.append(IF_MATCH)
        if self._sends_etag():
            parameters.append(ETAG)
        parameters.append(RETRY_AFTER)
        return parameters

    def _problem_codes(self) -> list[int]:
        # 400 everywhere: bodies, but also query filters (a malformed `updated_since`).
        codes = [400, 401, 403, 404, 429]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(413)  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        preconditions = getattr(self.view, "precondition_actions", ())
        if self._needs_if_match() or self._action() in preconditions:
            codes += [412, 428]
        return sorted(codes)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._problem_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    problem_response(code), str(code), [PROBLEM_CONTENT_TYPE], direction
                )
        return responses
