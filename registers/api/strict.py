"""The API refuses what it would otherwise ignore: a misspelt body field, an unknown or empty query
parameter. A client that sends `keyworker_name` or `on_register=maybe` learns so from a 400
naming it, rather than from a 200 that silently changed or filtered nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

UNKNOWN_FIELD = "Unknown field: this API does not accept it here (check its spelling)."
UNKNOWN_PARAMETER = "Unknown query parameter: this endpoint does not accept it."
EMPTY_PARAMETER = "Give a value, or leave the parameter out."


class RejectUnknownFields(serializers.Serializer):
    # A serializer mixin: a body field the serializer does not know is a validation error. Fields
    # it knows but only outputs (`id`, `version`, ...) are accepted and ignored, so a record read
    # and sent back whole is not refused. (A comment, not a docstring: the schema would show a
    # docstring as the description of every serializer using it.)

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {name: [UNKNOWN_FIELD] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise ValidationError(unknown)
        return value


def allowed_query_parameters(request: Request, view: Any) -> set[str]:
    """What the view reads from the query string: its filters and paging on a list, and any it
    names in `query_parameters`."""
    allowed = set(getattr(view, "query_parameters", ()))
    listing = request.method in ("GET", "HEAD") and getattr(view, "action", "list") in (
        "list",
        None,
    )
    if not listing:
        return allowed
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        allowed |= set(filterset_class.base_filters)
    paginator = getattr(view, "paginator", None)
    for attribute in (
        "cursor_query_param",
        "page_size_query_param",
        "page_query_param",
        "limit_query_param",
        "offset_query_param",
    ):
        name = getattr(paginator, attribute, None)
        if name:
            allowed.add(name)
    return allowed


def check_query_parameters(request: Request, view: Any) -> None:
    allowed = allowed_query_parameters(request, view)
    errors: dict[str, list[str]] = {}
    for name in sorted(request.query_params):
        if name not in allowed:
            errors[name] = [UNKNOWN_PARAMETER]
        elif any(value == "" for value in request.query_params.getlist(name)):
            errors[name] = [EMPTY_PARAMETER]
    if errors:
        raise ValidationError(errors)


class StrictQueryParameters:
    """A view mixin: unknown or empty query parameters are a 400 naming them. A view that reads
    parameters of its own (not filters or paging) lists them in `query_parameters`."""

    query_parameters: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # A method the view does not answer is its 405, whatever the query string says.
        method = request.method.lower()
        if method != "options" and getattr(self, method, None) is not None:
            check_query_parameters(request, self)
