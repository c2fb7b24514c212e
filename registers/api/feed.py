"""`GET /api/v1/changes/`: the change feed, for lossless sync (docs/api.md, "Syncing with the
change feed"). Ids, kinds and positions only; the client reads a person with its token."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from registers.models import PersonChangeKind
from registers.services import changes

from .views import ApiClientView

POSITION_HELP = "A position in the feed (opaque: digits today); resume from `next`."


class ChangeSerializer(serializers.Serializer):
    position = serializers.CharField(help_text=POSITION_HELP)
    kind = serializers.ChoiceField(
        choices=PersonChangeKind.choices,
        help_text="created, changed, left (the register), transferred_out (to another "
        "authority: the entry closed), transferred_in (a new entry from another authority), "
        "pseudonymised (the retention period ended: identifying details are gone), erased (the "
        "entry was added in error and no longer exists).",
    )
    person_id = serializers.IntegerField(help_text="The person's id: it never changes.")
    reference = serializers.CharField(
        allow_null=True,
        help_text="The person's local reference now (after pseudonymisation, the new one); null "
        "once the entry is erased.",
    )
    occurred_at = serializers.DateTimeField()

    def to_representation(self, change: changes.Change) -> dict:
        return {
            "position": str(change.position),
            "kind": change.kind,
            "person_id": change.person_id,
            "reference": change.reference,
            "occurred_at": serializers.DateTimeField().to_representation(change.occurred_at),
        }


class ChangePageSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    next = serializers.CharField(
        help_text="Where to resume: pass as `after` next time, even when `changes` is empty."
    )
    has_more = serializers.BooleanField(help_text="True: ask again at once with `after=next`.")


class ChangeQuerySerializer(serializers.Serializer):
    after = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text=POSITION_HELP
    )
    limit = serializers.IntegerField(required=False, min_value=1)

    def validate_after(self, value: str) -> int:
        try:
            return changes.parse_position(value)
        except changes.InvalidPosition:
            raise serializers.ValidationError(
                "This is not a position of this feed: pass `next` from an earlier answer, or "
                "leave it out to start from the beginning."
            ) from None

    def validate_limit(self, value: int) -> int:
        if value > settings.DSR_CHANGE_FEED_MAX_LIMIT:
            raise serializers.ValidationError(
                f"Ask for at most {settings.DSR_CHANGE_FEED_MAX_LIMIT} changes at a time."
            )
        return value


EXAMPLE = {
    "changes": [
        {
            "position": "1041",
            "kind": "changed",
            "person_id": 42,
            "reference": "CMS-0042",
            "occurred_at": "2026-11-29T10:15:02.114Z",
        },
        {
            "position": "1044",
            "kind": "pseudonymised",
            "person_id": 17,
            "reference": "PSEUDONYMISED-17",
            "occurred_at": "2026-11-29T10:15:03.001Z",
        },
    ],
    "next": "1044",
    "has_more": False,
}


@extend_schema(
    summary="Changes to the register, in order",
    description="Every change to the authority's people, oldest first, by position. Start "
    "without `after`, then pass the answer's `next` each time: no change is ever missed or "
    "returned twice, however many systems write at once (a change shows once its transaction "
    "and every one that began writing before it have ended, usually within a second). Read the "
    "people named with `GET /people/{id}/`.",
    parameters=[
        OpenApiParameter("after", OpenApiTypes.STR, description=POSITION_HELP),
        OpenApiParameter(
            "limit",
            OpenApiTypes.INT,
            description="Changes per answer (default 100, at most 1000).",
        ),
    ],
    responses={
        200: OpenApiResponse(
            ChangePageSerializer,
            description="The changes after `after` (at most `limit`), oldest first, and `next`, "
            "the position to resume from.",
            examples=[OpenApiExample("Two changes", value=EXAMPLE, response_only=True)],
        )
    },
)
class ChangeFeed(ApiClientView):
    query_parameters = ("after", "limit")

    def get(self, request: Request) -> Response:
        query = ChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = changes.changes_after(
            self.client.authority_id,
            query.validated_data.get("after", changes.START),
            limit=query.validated_data.get("limit") or settings.DSR_CHANGE_FEED_PAGE_SIZE,
        )
        return Response(
            {
                "changes": ChangeSerializer(page.changes, many=True).data,
                "next": str(page.next),
                "has_more": page.has_more,
            }
        )
