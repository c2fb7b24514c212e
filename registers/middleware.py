from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from . import access
from .audit import client_ip


class TenantScopeMiddleware:
    """Runs each request in one transaction bound to the signed-in user's scope.

    Row-level security reads that scope, so even a query that skipped the selectors sees only the
    user's authorities. The API sets the scope again after token authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            with transaction.atomic():
                access.activate(access.scope_for(request.user))
                return self.get_response(request)
        finally:
            client_ip.reset(token)
