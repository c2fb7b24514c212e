from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from . import access
from .audit import actor_label_override, client_ip, client_ip_of


class TenantScopeMiddleware:
    """Runs each request in one transaction bound to the signed-in user's scope.

    Row-level security reads that scope, so even a query that skipped the selectors sees only the
    user's authorities. The API narrows it again after token authentication. The scope opens the
    transaction and ends with it; inside an enclosing transaction (a test sharing the connection)
    the previous scope comes back when the request ends.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set(client_ip_of(request))
        # An API client's token sets the audit label for its own request only.
        label = actor_label_override.set(None)
        try:
            with access.request_scope(request.user):
                response = self.get_response(request)
                if response.status_code >= 500:
                    # Nothing half-saved when a request fails (the scope's restore then skips
                    # itself: the rollback undoes it).
                    transaction.set_rollback(True)
                return response
        finally:
            actor_label_override.reset(label)
            client_ip.reset(token)
