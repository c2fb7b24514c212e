"""One audit row per API call (method, path, status), written as the response is finished by
every API view, the returns API included. A call whose transaction failed records nothing here:
there is nothing left to write in."""

from __future__ import annotations

from django.db import connection
from rest_framework.request import Request
from rest_framework.response import Response

from registers.audit import AuditAction, record_event

from .permissions import api_client


def audit_api_call(request: Request, response: Response) -> None:
    client = api_client(request)
    if client is None or connection.needs_rollback:
        return
    record_event(
        client.service_user,
        AuditAction.API_CALL,
        authority_id=client.authority_id,
        changes={
            "method": request.method,
            "path": request.get_full_path()[:300],
            "status": response.status_code,
        },
    )
