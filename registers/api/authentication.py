"""`Authorization: Bearer <token>` for API clients.

A valid token binds the rest of the request (already one transaction, see TenantScopeMiddleware)
to the client's authority, exactly as a signed-in user's scope binds a browser request, and labels
every audit row "API client <name>".
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiClient
from accounts.services import note_api_client_use
from registers import access
from registers.audit import actor_label_override


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as: Authorization: Bearer <token>."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.") from exc
        client = access.activate_api_client(token)
        if client is None:
            raise exceptions.AuthenticationFailed("The token is not valid or has been revoked.")
        actor_label_override.set(str(client))
        note_api_client_use(client)
        return client.service_user, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="dsr"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registers.api.authentication.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token, created by the authority's lead "
            "(Staff > API clients). Shown once; send it as `Authorization: Bearer <token>`.",
        }
