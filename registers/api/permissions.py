from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.models import ApiClient


def api_client(request: Request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None


class ApiClientScopes(BasePermission):
    """An API client's token with the read scope for reading, the write scope for changes."""

    message = "This endpoint needs an API client's token with the right scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = api_client(request)
        if client is None:
            return False
        if request.method in SAFE_METHODS:
            if not client.can_read:
                self.message = "This token does not have the read scope."
            return client.can_read
        if not client.can_write:
            self.message = "This token is read-only: it does not have the write scope."
        return client.can_write


class ReadScopeOrSignedIn(BasePermission):
    """Reads for a signed-in user (the browser) or an API client with the read scope."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in SAFE_METHODS:
            return False
        client = api_client(request)
        if client is not None:
            return client.can_read
        return bool(request.user and request.user.is_authenticated)
