from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from . import access
from .audit import client_ip


class TenantScopeMiddleware:
    """Runs each request in one transaction bound to the signed-in user's scope.

    Row-level security reads that scope, so even a query that skipped the selectors sees only the
    user's authorities. The API narrows it again after token authentication; the previous scope
    comes back when the request ends (which matters where a test shares the connection).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            with transaction.atomic(), access.using_scope(access.scope_for(request.user)):
                response = self.get_response(request)
                if response.status_code >= 500:
                    # Nothing half-saved when a request fails.
                    transaction.set_rollback(True)
                return response
        finally:
            client_ip.reset(token)
