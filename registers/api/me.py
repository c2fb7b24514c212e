"""`GET /api/v1/me/`: who the caller is, as the service sees its token. A client configures itself
from it (its authority's HSCP code and id for the returns, its scopes, its rate limit)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ApiScope

from .throttling import ApiClientRateThrottle
from .views import ApiClientView


class MeClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeAuthoritySerializer(serializers.Serializer):
    id = serializers.IntegerField(
        help_text="The authority's id in this service (returns: authorities/{id}/returns/)."
    )
    code = serializers.CharField(
        help_text="The Scottish Government HSCP code (returns: authorities/by-code/{code}/...)."
    )
    name = serializers.CharField()


class MeRateLimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(help_text="Requests allowed in each window.")
    window_seconds = serializers.IntegerField(help_text="The window's length, in seconds.")


class MeSerializer(serializers.Serializer):
    client = MeClientSerializer()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiScope.choices))
    authority = MeAuthoritySerializer()
    rate_limit = MeRateLimitSerializer()


class MeView(ApiClientView):
    @extend_schema(
        summary="Who am I",
        description="The calling API client, its scopes, its authority (HSCP code, name and id) "
        "and its rate limit.",
        responses={200: MeSerializer},
    )
    def get(self, request: Request) -> Response:
        client = self.client
        authority = client.authority
        throttle = ApiClientRateThrottle()
        return Response(
            MeSerializer(
                {
                    "client": {"id": client.pk, "name": client.name},
                    "scopes": sorted(client.scopes),
                    "authority": {
                        "id": authority.pk,
                        "code": authority.code,
                        "name": authority.name,
                    },
                    "rate_limit": {
                        "limit": throttle.num_requests,
                        "window_seconds": throttle.duration,
                    },
                }
            ).data
        )
