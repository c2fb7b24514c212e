"""The lead's localities through the REST API (a signed-in lead's session): list, create,
rename, retire, and move people between localities. Thin: the rules are in
registers/localities.py, which checks the lead role and audits; other staff get 403 and anyone
outside the authority 404, as on the pages."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registers import access, localities, selectors
from registers.models import Locality

from .strict import RejectUnknownFields, StrictQueryParameters

TAGS = ["localities"]


class LocalityOverviewSerializer(serializers.ModelSerializer):
    on_register = serializers.IntegerField(read_only=True)
    left_register = serializers.IntegerField(read_only=True)
    staff_granted = serializers.IntegerField(read_only=True)

    class Meta:
        model = Locality
        fields = [
            "id",
            "name",
            "created_at",
            "retired_at",
            "on_register",
            "left_register",
            "staff_granted",
        ]
        read_only_fields = ["id", "created_at", "retired_at"]


class LocalityNameSerializer(RejectUnknownFields, serializers.Serializer):
    name = serializers.CharField(max_length=100)


class MovePeopleSerializer(RejectUnknownFields, serializers.Serializer):
    to_locality = serializers.IntegerField(help_text="The locality (of the same authority).")
    people = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=5000,
        help_text="Ids of people on the register in this locality; leave out to move everyone.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class MovedSerializer(serializers.Serializer):
    moved = serializers.IntegerField()


def _overview(request: Request, authority_id: int, pk: int) -> Response:
    found = selectors.locality_overview(request.user, authority_id=authority_id).get(pk=pk)
    return Response(LocalityOverviewSerializer(found).data)


class _LeadLocalities(StrictQueryParameters, APIView):
    def _locality(self, request: Request, authority_id: int, pk: int) -> Locality:
        found = (
            selectors.locality_overview(request.user, authority_id=authority_id)
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise Http404("No such locality in this authority.")
        return found


class AuthorityLocalityList(_LeadLocalities):
    @extend_schema(
        summary="The authority's localities (lead)",
        tags=TAGS,
        responses={200: LocalityOverviewSerializer(many=True)},
    )
    def get(self, request: Request, authority_id: int) -> Response:
        rows = selectors.locality_overview(request.user, authority_id=authority_id)
        return Response(LocalityOverviewSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add a locality (lead)",
        tags=TAGS,
        request=LocalityNameSerializer,
        responses={201: LocalityOverviewSerializer},
    )
    def post(self, request: Request, authority_id: int) -> Response:
        access.require_lead(request.user, authority_id)  # before reading the body
        body = LocalityNameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = localities.create_locality(request.user, authority_id, **body.validated_data)
        response = _overview(request, authority_id, created.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class AuthorityLocalityDetail(_LeadLocalities):
    @extend_schema(
        summary="One locality (lead)", tags=TAGS, responses={200: LocalityOverviewSerializer}
    )
    def get(self, request: Request, authority_id: int, locality_id: int) -> Response:
        return Response(
            LocalityOverviewSerializer(self._locality(request, authority_id, locality_id)).data
        )

    @extend_schema(
        summary="Rename a locality (lead)",
        tags=TAGS,
        request=LocalityNameSerializer,
        responses={200: LocalityOverviewSerializer},
    )
    def patch(self, request: Request, authority_id: int, locality_id: int) -> Response:
        locality = self._locality(request, authority_id, locality_id)
        body = LocalityNameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        localities.rename_locality(request.user, locality.pk, **body.validated_data)
        return _overview(request, authority_id, locality_id)


class AuthorityLocalityRetire(_LeadLocalities):
    @extend_schema(
        summary="Retire a locality nobody on the register is in (lead)",
        tags=TAGS,
        request=None,
        responses={200: LocalityOverviewSerializer},
    )
    def post(self, request: Request, authority_id: int, locality_id: int) -> Response:
        locality = self._locality(request, authority_id, locality_id)
        localities.retire_locality(request.user, locality.pk)
        return _overview(request, authority_id, locality_id)


class AuthorityLocalityMovePeople(_LeadLocalities):
    @extend_schema(
        summary="Move people from this locality to another, in one step (lead)",
        tags=TAGS,
        request=MovePeopleSerializer,
        responses={200: MovedSerializer},
    )
    def post(self, request: Request, authority_id: int, locality_id: int) -> Response:
        locality = self._locality(request, authority_id, locality_id)
        body = MovePeopleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        target = self._locality(request, authority_id, data["to_locality"])
        moved = localities.move_people(
            request.user,
            from_locality=locality.pk,
            to_locality=target.pk,
            people=data.get("people"),
            reason=data.get("reason", ""),
        )
        return Response({"moved": moved})
