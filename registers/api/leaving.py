"""Leaving the register and asking another authority to take a person, through the API: the
browser's services (`remove_from_register`, `request_transfer`), with their rules, history and
audit; If-Match as for every change."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from registers import access, selectors, services
from registers.codes import LeavingReason, TransferStatus
from registers.models import IntegrationAuthority, Transfer

from .preconditions import check_if_match, etag
from .serializers import PersonSerializer
from .strict import RejectUnknownFields
from .views import ApiClientView

# As in the browser: a transfer is asked for (POST .../transfers/), and the receiving authority's
# acceptance records the leaving; it is never chosen as a reason by hand.
LEAVING_REASONS = [
    choice for choice in LeavingReason.choices if choice[0] != LeavingReason.TRANSFERRED_TO_OTHER_IA
]


class LeaveSerializer(RejectUnknownFields, serializers.Serializer):
    date_left = serializers.DateField(
        help_text="The day the person left (not in the future, not before they were added or "
        "their last recorded change)."
    )
    leaving_reason = serializers.ChoiceField(
        choices=LEAVING_REASONS,
        help_text="Why they left. A move to another authority is a transfer instead.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Kept in the history."
    )


class LeavingSerializer(serializers.Serializer):
    date_left = serializers.DateField(allow_null=True, help_text="Null while on the register.")
    leaving_reason = serializers.ChoiceField(
        choices=LeavingReason.choices, allow_null=True, help_text="Null while on the register."
    )


class TransferRequestSerializer(RejectUnknownFields, serializers.Serializer):
    to_authority = serializers.CharField(
        max_length=9, help_text="The receiving authority's HSCP code (S37...)."
    )
    reason = serializers.CharField(max_length=2000, help_text="Why the person is moving.")

    def validate_to_authority(self, code: str) -> IntegrationAuthority:
        found = selectors.authority_by_code(code)
        if found is None:
            raise serializers.ValidationError("No authority has this HSCP code.")
        return found


class TransferSerializer(serializers.ModelSerializer):
    to_authority = serializers.CharField(
        source="to_authority.code", read_only=True, help_text="The receiving authority's HSCP code."
    )
    to_authority_name = serializers.CharField(source="to_authority.name", read_only=True)
    status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "person",
            "to_authority",
            "to_authority_name",
            "status",
            "reason",
            "requested_at",
            "decided_at",
        ]
        read_only_fields = fields


class PersonAction(ApiClientView):
    """A change to one person, named in the path, from the version in If-Match."""

    if_match_actions = ("post",)
    etag_actions = ("post",)

    def person_and_version(self) -> tuple[Any, int]:
        person = access.person_for_write(self.request.user, int(self.kwargs["person_id"]))
        return person, check_if_match(self.request, person)


class PersonLeave(PersonAction):
    @extend_schema(
        summary="Whether and why a person left the register",
        responses={200: LeavingSerializer},
    )
    def get(self, request: Request, person_id: int) -> Response:
        person = access.person_for_read(request.user, int(person_id))
        return Response(LeavingSerializer(person).data)

    @extend_schema(
        summary="Record that a person left the register",
        description="The person's record and history stay; they are no longer counted on later "
        "census dates. Needs the person's `If-Match`; answers the closed record and its new "
        "`ETag`. A person who has already left is 400.",
        request=LeaveSerializer,
        responses={200: PersonSerializer},
        examples=[
            OpenApiExample(
                "Settled in the community",
                request_only=True,
                value={
                    "date_left": "2025-10-01",
                    "leaving_reason": "settled_in_community",
                    "note": "Supported tenancy, stable for three months",
                },
            )
        ],
    )
    def post(self, request: Request, person_id: int) -> Response:
        person, version = self.person_and_version()
        serializer = LeaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = services.remove_from_register(
            request.user, person.pk, version=version, **serializer.validated_data
        )
        return Response(
            PersonSerializer(person, context=self.get_serializer_context()).data,
            headers={"ETag": etag(person)},
        )


@extend_schema_view(
    get=extend_schema(
        summary="A person's transfers",
        description="Every transfer asked for this person, newest first, with its status.",
        responses={200: TransferSerializer(many=True)},
    ),
    post=extend_schema(
        summary="Ask another authority to take a person",
        description="The person stays on your register until the receiving authority's lead "
        "accepts (then they leave it as `transferred_to_other_ia`); one transfer may wait for a "
        "decision at a time. Needs the person's `If-Match` (the request does not change their "
        "version); answers the transfer.",
        request=TransferRequestSerializer,
        responses={201: TransferSerializer},
        examples=[
            OpenApiExample(
                "Moving to Edinburgh",
                request_only=True,
                value={"to_authority": "S37000012", "reason": "Family moving to Leith"},
            )
        ],
    ),
)
class PersonTransfers(PersonAction):
    def get(self, request: Request, person_id: int) -> Response:
        person = access.person_for_read(request.user, int(person_id))
        transfers = selectors.transfers_of(request.user, person)
        return Response(TransferSerializer(transfers, many=True).data)

    def post(self, request: Request, person_id: int) -> Response:
        person, version = self.person_and_version()
        serializer = TransferRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = services.request_transfer(
            request.user, person.pk, version=version, **serializer.validated_data
        )
        return Response(
            TransferSerializer(transfer).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag(person)},
        )
