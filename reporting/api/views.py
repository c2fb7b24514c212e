import datetime as dt

from django.http import Http404
from rest_framework.generics import ListAPIView, RetrieveAPIView

from reporting import selectors
from reporting.models import AuthorityReturn

from .serializers import AuthorityReturnSerializer


class AuthorityReturnList(ListAPIView):
    """Every census return of one authority the caller is staff of, newest first."""

    serializer_class = AuthorityReturnSerializer

    def get_queryset(self):
        return selectors.returns_for_authority(
            self.request.user, self.kwargs["authority_id"]
        ).select_related("authority")


class AuthorityReturnDetail(RetrieveAPIView):
    serializer_class = AuthorityReturnSerializer

    def get_object(self) -> AuthorityReturn:
        try:
            census_date = dt.date.fromisoformat(self.kwargs["census_date"])
        except ValueError as exc:
            raise Http404("No return for that date.") from exc
        found = selectors.authority_return(
            self.request.user, self.kwargs["authority_id"], census_date
        )
        if found is None:
            raise Http404("No return for that date.")
        return found
