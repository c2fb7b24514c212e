"""One error shape for the whole API: RFC 9457 problem details (`application/problem+json`).

Every error answer carries `type`, `title`, `status`, `detail` and `instance`; validation errors add
`errors` (field: messages), bulk errors add `errors` keyed by item index. Exceptions raised by the
services (Django's ValidationError, StaleVersion, ...) are translated here, so views stay thin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import bad_request as html_bad_request
from django.views.defaults import permission_denied as html_permission_denied
from django.views.defaults import server_error as html_server_error
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from registers.services import BulkErrors, StaleVersion, VersionRequired

from .parsers import too_large_detail

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record has changed since the version given in If-Match."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send If-Match with the ETag of the version you read: changes to an existing record "
        "without it are refused, so no update is lost."
    )
    default_code = "precondition_required"


class IfMatchMalformed(exceptions.APIException):
    """An If-Match that names no version at all: the client's mistake, not a lost update."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = 'If-Match must carry a person\'s ETag, such as "3".'
    default_code = "if_match_malformed"
    problem_type = "if-match-malformed"
    title = "If-Match is malformed"


class BulkFailed(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Some items could not be stored, so none were. See errors, by item index."
    default_code = "bulk_failed"

    def __init__(self, errors: dict[int, Any]) -> None:
        super().__init__()
        self.errors = errors


TITLES = {
    400: "The request has invalid data",
    401: "Authentication is required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Idempotency key reused",
    428: "Precondition required",
    429: "Too many requests",
    500: "Server error",
    503: "Service busy",
}
TYPES = {
    400: "validation-error",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "stale-version",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "idempotency-key-reused",
    428: "if-match-required",
    429: "rate-limited",
    500: "server-error",
    503: "service-busy",
}


def problem_type(status_code: int, name: str | None = None) -> str:
    return f"urn:dsr:problem:{name or TYPES.get(status_code, 'error')}"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, StaleVersion):
        return PreconditionFailed(
            f'{exc} The current version is {exc.current} (ETag "{exc.current}").'
        )
    if isinstance(exc, VersionRequired):
        return PreconditionRequired()
    if isinstance(exc, BulkErrors):
        return BulkFailed(exc.errors)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        return str(detail["detail"])
    return TITLES[400] + "; see errors."


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    code = response.status_code
    body: dict[str, Any] = {
        "type": problem_type(code, getattr(exc, "problem_type", None)),
        "title": getattr(exc, "title", None) or TITLES.get(code, "Error"),
        "status": code,
        "detail": "",
        "instance": request.get_full_path() if request is not None else "",
    }
    if isinstance(exc, BulkFailed):
        body["detail"] = str(exc.detail)
        body["errors"] = {str(index): errors for index, errors in sorted(exc.errors.items())}
    elif isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        body["detail"] = "The request has invalid data; see errors."
        body["errors"] = errors
    else:
        body["detail"] = _detail_text(response.data)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The request path.")
    errors = serializers.DictField(
        required=False,
        help_text="Validation: field name to messages. Bulk: item index to that item's errors.",
    )


def problem_response(request: HttpRequest, code: int, detail: str) -> JsonResponse:
    """A problem-details answer outside DRF's views (URL resolution, middleware)."""
    return JsonResponse(
        {
            "type": problem_type(code),
            "title": TITLES[code],
            "status": code,
            "detail": detail,
            "instance": request.get_full_path(),
        },
        status=code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: under /api/ a problem-details 500 that says nothing about the failure (the
    trace is logged by Django's request logger, with the request id); elsewhere the 500 page."""
    if request.path.startswith("/api/"):
        return problem_response(
            request,
            500,
            "The service could not answer this request. It has been logged; if it persists, "
            "contact the service desk with the time of the request.",
        )
    return html_server_error(request, *args, **kwargs)


def bad_request(request: HttpRequest, exception: Exception, *args: Any, **kw: Any) -> HttpResponse:
    """handler400 (a request Django refuses before any view: a host not allowed, a suspicious
    operation): problem details under /api/, the 400 page elsewhere."""
    if request.path.startswith("/api/"):
        return problem_response(request, 400, "The request could not be accepted.")
    return html_bad_request(request, exception, *args, **kw)


def permission_denied(
    request: HttpRequest, exception: Exception, *args: Any, **kw: Any
) -> HttpResponse:
    """handler403 (outside DRF's views, which answer their own): the same split."""
    if request.path.startswith("/api/"):
        return problem_response(request, 403, "You are not allowed to do this.")
    return html_permission_denied(request, exception, *args, **kw)


@csrf_exempt  # it changes nothing; a write to an unknown address is 404 with or without a cookie
def api_not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other address under /api/: a problem-details 404 rather than the HTML page."""
    return problem_response(request, 404, "There is no API endpoint at this address.")


class ApiBodyLimitMiddleware:
    """Under /api/, a body whose declared length is over DATA_UPLOAD_MAX_MEMORY_SIZE is answered
    413 in problem details before anything reads it (Django's own refusal is an HTML 400), and a
    Content-Length that is not a number is a problem-details 400."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            declared = request.META.get("CONTENT_LENGTH") or "0"
            if not declared.isdigit():
                return problem_response(request, 400, "The Content-Length header is not a number.")
            if int(declared) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return problem_response(request, 413, too_large_detail())
        return self.get_response(request)
