"""The register's REST API for local case-management systems. Thin: parse, call a selector or a
service, render. Scope, rules, history and audit live in access.py, selectors.py and services/."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiClient
from registers import access, codes, selectors, services
from registers.models import Locality, Person, Review

from . import idempotency
from . import serializers as s
from .auditing import audit_api_call
from .authentication import BearerTokenAuthentication
from .filters import PersonApiFilter
from .permissions import ApiClientScopes, api_client
from .preconditions import check_if_match, etag, not_modified
from .strict import StrictQueryParameters


class Cursor(CursorPagination):
    ordering = ("updated_at", "id")
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        """The default page size, or the one asked for: a whole number from 1 to 500 (anything
        else is a 400, not quietly the default)."""
        self.page_size = settings.DSR_PAGE_SIZE
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Any:
        """A cursor this API did not give is a 400 (DRF's is a 404, and it reads text that is
        not base64 at all as the first page)."""
        encoded = request.query_params.get(self.cursor_query_param)
        invalid = ValidationError(
            {self.cursor_query_param: ["Not a cursor this API gave: follow `next` as given."]}
        )
        if encoded is not None:
            try:
                base64.b64decode(encoded.encode("ascii"), validate=True)
            except (ValueError, binascii.Error) as exc:
                raise invalid from exc
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise invalid from exc

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


class PeopleCursor(Cursor):
    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """The page's positions come from a narrow query on the table alone (which its
        (authority, ordering) index answers in order, stopping at the page); only those rows are
        then read with whatever the view joins. Sorting the whole joined list to return one page
        cost tens of milliseconds for a large authority."""
        fields = ["pk", *(name.lstrip("-") for name in self.ordering)]
        positions = super().paginate_queryset(queryset.values(*fields), request, view)
        if positions is None:
            return None
        found = {row.pk: row for row in queryset.filter(pk__in=[p["pk"] for p in positions])}
        return [found[p["pk"]] for p in positions if p["pk"] in found]


class HistoryCursor(Cursor):
    ordering = ("changed_at", "id")


class ReviewCursor(Cursor):
    ordering = ("recorded_at", "id")


class ApiClientView(StrictQueryParameters, APIView):
    """Base for API-client endpoints: token scopes, and one audit row per call."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [ApiClientScopes]
    # OPTIONS is not part of the API (the schema describes it); DRF's metadata answer would also
    # look a record up by a URL keyword the by-reference routes do not have.
    metadata_class = None

    @property
    def allowed_methods(self) -> list[str]:
        return [method for method in super().allowed_methods if method != "OPTIONS"]

    @property
    def client(self) -> ApiClient:
        return self.request.auth

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "view": self, "api_client": api_client(self.request)}

    # POSTs take an Idempotency-Key (idempotency.py): checked once the token, scopes and rate
    # are, before the view acts; the answer is kept (or the key released) as the response is
    # finished, in the same transaction.
    idempotent_posts = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.idempotency = idempotency.claim(request, self.client)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replayed):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kw: Any):
        response = super().finalize_response(request, response, *args, **kw)
        idempotency.finish(getattr(self, "idempotency", None), response)
        audit_api_call(request, response)
        return response


def _person_response(person: Person, context: dict[str, Any], code: int = 200) -> Response:
    data = s.PersonSerializer(person, context=context).data
    return Response(data, status=code, headers={"ETag": etag(person)})


def _person_read(request: Request, person: Person, context: dict[str, Any]) -> Response:
    """A person's record, or 304 with their ETag and no body when the caller's If-None-Match
    already names this version."""
    if not_modified(request, etag(person)):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag(person)})
    return _person_response(person, context)


NOT_FOUND = "No such person on your register."


@extend_schema_view(
    list=extend_schema(
        summary="List people",
        description="The authority's people (leavers included unless filtered), oldest change "
        "first, by cursor: follow `next` until it is null, then keep the time of your last sync "
        "for `updated_since`.",
    ),
    retrieve=extend_schema(summary="Read a person", description="The `ETag` is their version."),
    create=extend_schema(
        summary="Add a person",
        request=s.PersonSerializer,
        responses={201: s.PersonSerializer},
        examples=[
            OpenApiExample(
                "Someone at risk of breakdown",
                request_only=True,
                value={
                    "locality": 1,
                    "local_reference": "CMS-0042",
                    "given_name": "Morag",
                    "family_name": "Campbell",
                    "date_of_birth": "1988-03-14",
                    "sex": "female",
                    "category": "urgent",
                    "urgent_reason": "at_risk_of_breakdown",
                    "risk_rating": "red",
                    "risk_factors": ["provider_notice"],
                    "referral_source": "social_work",
                    "reason": "Provider has given notice",
                },
            )
        ],
    ),
    update=extend_schema(
        summary="Replace a person's record",
        description="Details, register status (with `reason`), locality and next review due, in "
        "one transaction. Needs `If-Match`.",
    ),
    partial_update=extend_schema(
        summary="Change some of a person's fields",
        description="As PUT, with only the fields to change. Needs `If-Match`.",
        examples=[
            OpenApiExample(
                "New risk rating",
                request_only=True,
                value={"risk_rating": "amber", "reason": "Carer unwell"},
            )
        ],
    ),
)
class PersonViewSet(ApiClientView, viewsets.GenericViewSet):
    serializer_class = s.PersonSerializer
    pagination_class = PeopleCursor
    filter_backends = [DjangoFilterBackend]
    filterset_class = PersonApiFilter
    queryset = Person.objects.none()
    lookup_url_kwarg = "person_id"
    if_match_actions = ("update", "partial_update")
    precondition_actions = ("by_reference",)  # If-Match optional, but checked when needed
    conditional_get_actions = ("retrieve", "retrieve_by_reference")  # If-None-Match, 304
    etag_actions = (
        "retrieve",
        "create",
        "update",
        "partial_update",
        "by_reference",
        "retrieve_by_reference",
    )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Person.objects.none()
        return selectors.api_people(self.request.user, authority_id=self.client.authority_id)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        page = [selectors.with_authority(person, self.client.authority) for person in page]
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, person_id: int) -> Response:
        person = selectors.api_person(request.user, int(person_id), authority=self.client.authority)
        return _person_read(request, person, self.get_serializer_context())

    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields.pop("effective_date", None)
        person = services.add_person(
            request.user,
            locality=fields.pop("locality"),
            reason=fields.pop("reason", ""),
            next_review_due=fields.pop("next_review_due", None),
            **fields,
        )
        response = _person_response(person, self.get_serializer_context(), 201)
        response["Location"] = reverse("api:person-detail", args=[person.pk])
        return response

    def _update(self, request: Request, person_id: int, *, partial: bool) -> Response:
        # Locked as it is read: the service then works on this row without reading it again.
        person = access.person_for_write(request.user, int(person_id), lock=True)
        version = check_if_match(request)
        context = self.get_serializer_context()
        try:
            fields = s.validated_person_changes(request.data, context, partial=partial)
        except ValidationError:
            # A stale version is 412 before anything else, except that a valid body goes on to
            # the service, which answers a replay of this client's own change (its answer lost)
            # with 200 and refuses anything else stale under lock.
            if version != person.version:
                raise services.StaleVersion(person.version) from None
            raise
        person = services.update_person(
            request.user, person, version=version, locked=True, **fields
        )
        person = selectors.with_authority(person, self.client.authority)
        return _person_response(person, context)

    def update(self, request: Request, person_id: int) -> Response:
        return self._update(request, person_id, partial=False)

    def partial_update(self, request: Request, person_id: int) -> Response:
        return self._update(request, person_id, partial=True)

    @extend_schema(summary="Read a person by your reference")
    def retrieve_by_reference(self, request: Request, reference: str) -> Response:
        person = self.get_queryset().filter(local_reference=reference).first()
        if person is None:
            raise Http404(NOT_FOUND)
        return _person_read(request, person, self.get_serializer_context())

    @extend_schema(
        summary="Add or update a person by your reference",
        description="Idempotent upsert keyed by `local_reference`: a new reference adds the "
        "person (201, no If-Match needed); an existing one is updated (200) and needs `If-Match`, "
        "unless nothing would change (a replayed request answers 200 without writing).",
        request=s.PersonUpsertSerializer,
        responses={200: s.PersonSerializer, 201: s.PersonSerializer},
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="The person's ETag; needed to change someone who already exists.",
            )
        ],
    )
    def by_reference(self, request: Request, reference: str) -> Response:
        serializer = s.PersonUpsertSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if fields.pop("local_reference", reference) != reference:
            raise ValidationError({"local_reference": ["Not the reference in the address."]})
        person, created = services.upsert_person(
            request.user,
            self.client.authority_id,
            local_reference=reference,
            version=check_if_match(request, required=False),
            **fields,
        )
        return _person_response(person, self.get_serializer_context(), 201 if created else 200)

    @extend_schema(
        summary="Add or update up to 500 people, all or nothing",
        description="Each item is keyed by `local_reference`; new people are added, existing "
        "ones updated when the item carries their `version`. If any item fails, nothing is "
        "stored and the 400 answer lists every failing item's errors by index.",
        request=s.BulkRequestSerializer,
        responses={200: s.BulkResultSerializer},
    )
    def bulk(self, request: Request) -> Response:
        envelope = s.BulkRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        context = self.get_serializer_context()
        context["localities"] = selectors.localities_by_id(
            request.user, authority_id=self.client.authority_id
        )
        items, errors = s.validate_bulk_items(envelope.validated_data["people"], context)
        stored = services.bulk_upsert_people(
            request.user, self.client.authority_id, items, invalid=errors
        )
        results = [
            {
                "index": index,
                "id": person.pk,
                "local_reference": person.local_reference,
                "created": created,
                "version": person.version,
            }
            for (index, _), (person, created) in zip(items, stored, strict=True)
        ]
        return Response({"results": results})


class PersonNested(ApiClientView, mixins.ListModelMixin, generics.GenericAPIView):
    def person_for_write(self) -> tuple[Person, int]:
        person = access.person_for_write(self.request.user, int(self.kwargs["person_id"]))
        return person, check_if_match(self.request, person)


@extend_schema_view(
    get=extend_schema(summary="A person's history", description="Oldest first, by cursor."),
    post=extend_schema(
        summary="Record a status change",
        description="A new category, urgent reason, risk rating or hospital/placement event, with "
        "its reason. Needs the person's `If-Match`; answers the new history entry and the "
        "person's new `ETag`.",
        request=s.StatusChangeCreateSerializer,
        responses={201: s.StatusChangeSerializer},
    ),
)
class StatusChangeList(PersonNested):
    serializer_class = s.StatusChangeSerializer
    pagination_class = HistoryCursor
    if_match_actions = ("post",)
    etag_actions = ("post",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Person.objects.none()
        return selectors.person_history(self.request.user, int(self.kwargs["person_id"]))

    def get(self, request: Request, person_id: int) -> Response:
        return self.list(request)

    def post(self, request: Request, person_id: int) -> Response:
        person, version = self.person_for_write()
        serializer = s.StatusChangeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.record_status_change(
            request.user, person.pk, version=version, **serializer.validated_data
        )
        return Response(
            s.StatusChangeSerializer(change).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag(change.person)},
        )


@extend_schema_view(
    get=extend_schema(summary="A person's reviews", description="Oldest recorded first."),
    post=extend_schema(
        summary="Record a review",
        description="Needs the person's `If-Match`; answers the review and the person's new "
        "`ETag` (the next review due moves with it).",
        request=s.ReviewSerializer,
        responses={201: s.ReviewSerializer},
    ),
)
class ReviewList(PersonNested):
    serializer_class = s.ReviewSerializer
    pagination_class = ReviewCursor
    if_match_actions = ("post",)
    etag_actions = ("post",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.person_reviews(self.request.user, int(self.kwargs["person_id"]))

    def get(self, request: Request, person_id: int) -> Response:
        return self.list(request)

    def post(self, request: Request, person_id: int) -> Response:
        person, version = self.person_for_write()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.record_review(
            request.user, person.pk, version=version, **serializer.validated_data
        )
        return Response(
            self.get_serializer(review).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag(review.person)},
        )


@extend_schema(summary="The authority's localities")
class LocalityList(ApiClientView, generics.ListAPIView):
    serializer_class = s.LocalitySerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Locality.objects.none()
        return selectors.localities_of(self.request.user, authority_id=self.client.authority_id)


def _choices(choices: Any) -> list[dict[str, str]]:
    return [{"value": c.value, "label": c.label} for c in choices]


@extend_schema(
    summary="Code lists",
    description="Every code value the API accepts, with its label, to validate before sending.",
    responses={200: s.CodesSerializer},
)
class CodesView(ApiClientView):
    def get(self, request: Request) -> Response:
        others = selectors.host_area_authorities(authority_id=self.client.authority_id)
        host_areas = [{"value": c, "label": n} for c, n in sorted(others)]
        host_areas += _choices(codes.HostAreaOutsideScotland)
        return Response(
            {
                "sex": _choices(codes.Sex),
                "category": _choices(codes.Category),
                "urgent_reason": _choices(codes.UrgentReason),
                "risk_rating": _choices(codes.RiskRating),
                "risk_factors": _choices(codes.RiskFactor),
                "referral_source": _choices(codes.ReferralSource),
                "hospital_type": _choices(codes.HospitalType),
                "legal_status": _choices(codes.LegalStatus),
                "delay_reason": _choices(codes.DelayReason),
                "host_area": host_areas,
                "placement_type": _choices(codes.PlacementType),
                "leaving_reason": _choices(codes.LeavingReason),
                "change_kind": _choices(codes.ChangeKind),
            }
        )
