import datetime as dt

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView, RetrieveAPIView

from registers import selectors as register_selectors
from registers.api.auditing import audit_api_call
from registers.api.permissions import ReadScopeOrSignedIn
from registers.api.strict import StrictQueryParameters
from reporting import selectors
from reporting.models import AuthorityReturn

from .serializers import AuthorityReturnSerializer


class ReturnsView(StrictQueryParameters):
    """Readable by the authority's staff in the browser and by its API clients (read scope),
    addressed by the authority's id or by its HSCP code: an unknown code is answered as another
    authority's id is (404, the same message)."""

    permission_classes = [ReadScopeOrSignedIn]
    kwargs: dict

    def authority_id(self) -> int:
        if "authority_id" in self.kwargs:
            return self.kwargs["authority_id"]
        found = register_selectors.authority_by_code(self.kwargs["authority_code"])
        if found is None:
            raise Http404("No such authority in your scope.")
        return found.pk

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        audit_api_call(request, response)
        return response


@extend_schema(summary="The authority's census returns", tags=["returns"])
class AuthorityReturnList(ReturnsView, ListAPIView):
    """Every census return of one authority the caller is staff of, newest first."""

    serializer_class = AuthorityReturnSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuthorityReturn.objects.none()
        return selectors.returns_for_authority(
            self.request.user, self.authority_id()
        ).select_related("authority")


@extend_schema(
    summary="One census return",
    tags=["returns"],
    parameters=[
        OpenApiParameter("census_date", str, OpenApiParameter.PATH, description="ISO date")
    ],
)
class AuthorityReturnDetail(ReturnsView, RetrieveAPIView):
    serializer_class = AuthorityReturnSerializer

    def get_object(self) -> AuthorityReturn:
        try:
            census_date = dt.date.fromisoformat(self.kwargs["census_date"])
        except ValueError as exc:
            raise Http404("No return for that date.") from exc
        found = selectors.authority_return(self.request.user, self.authority_id(), census_date)
        if found is None:
            raise Http404("No return for that date.")
        return found
