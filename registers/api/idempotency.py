"""`Idempotency-Key` on the API's POSTs (draft-ietf-httpapi-idempotency-key-header): a client
that sends a POST again because it never saw the answer gets the first answer (status, body,
`ETag` and `Location`, and `Idempotent-Replayed: true`) and nothing is done twice.

- The key is the client's own (1 to 255 visible ASCII characters), kept per API client for
  `DSR_IDEMPOTENCY_KEY_HOURS` (24), then purged (`purge_expired_keys`, hourly beat task).
- The request is fingerprinted (method, path, `If-Match` and the parsed JSON body, so key order
  and spacing do not matter): the same key with a different request is 422 and nothing is done.
- The key's row is inserted as the request starts, inside the request's transaction; a second
  request with the same key waits on that row until the first ends, then replays its answer. So
  two concurrent requests never both act.
- Only a successful (2xx) answer is kept. A refused request (400, 404, 412, ...) changed nothing,
  and its key is released with it, so the client may correct the request and send the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ApiClient
from registers import access
from registers.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location")
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, no spaces


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was used with a different request (method, path, If-Match or "
        "body). Use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


class Replayed(Exception):
    """Raised before the view acts: the answer to give is the stored one."""

    def __init__(self, response: Response) -> None:
        super().__init__("replayed")
        self.response = response


@dataclass
class Claim:
    row: IdempotencyKey


def fingerprint(request: Request) -> str:
    canonical = json.dumps(
        {
            "method": request.method,
            "path": request.path,
            "if_match": (request.headers.get("If-Match") or "").strip(),
            "body": request.data,
        },
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_of(request: Request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None or request.method != "POST":
        return None
    key = raw.strip()
    if not VALID_KEY.match(key):
        raise ValidationError(
            {HEADER: ["Send 1 to 255 visible ASCII characters (a UUID, for example)."]}
        )
    return key


def claim(request: Request, client: ApiClient) -> Claim | None:
    """Take the request's key for this request (waiting for another request holding it), or
    raise Replayed with the answer already given, or KeyReused. None without a key."""
    key = _key_of(request)
    if key is None:
        return None
    digest = fingerprint(request)
    now = timezone.now()
    mine = IdempotencyKey.objects.filter(
        authority_id=client.authority_id, api_client=client, key=key
    )
    mine.filter(expires_at__lte=now).delete()
    # INSERT ... ON CONFLICT DO NOTHING waits while another transaction holds an uncommitted row
    # with this key; afterwards the row is either that request's kept answer or ours.
    IdempotencyKey.objects.bulk_create(
        [
            IdempotencyKey(
                authority_id=client.authority_id,
                api_client=client,
                key=key,
                fingerprint=digest,
                created_at=now,
                expires_at=now + dt.timedelta(hours=settings.DSR_IDEMPOTENCY_KEY_HOURS),
            )
        ],
        ignore_conflicts=True,
    )
    row = mine.select_for_update().get()
    if row.status_code is None:
        if row.fingerprint != digest:  # a row left unfinished: this request takes it over
            row.fingerprint = digest
        return Claim(row)
    if row.fingerprint != digest:
        raise KeyReused()
    headers = {**row.response_headers, REPLAYED_HEADER: "true"}
    raise Replayed(Response(row.response_body, status=row.status_code, headers=headers))


def finish(found: Claim | None, response: Response) -> None:
    """Keep a successful answer under the key; release the key of any other."""
    if found is None or connection.needs_rollback:
        return
    row = found.row
    if 200 <= response.status_code < 300:
        row.status_code = response.status_code
        row.response_body = response.data
        row.response_headers = {name: response[name] for name in KEPT_HEADERS if name in response}
        row.save(update_fields=["fingerprint", "status_code", "response_body", "response_headers"])
    else:
        row.delete()


def purge_expired_keys() -> int:
    """Delete every authority's expired keys (hourly, Celery beat), in the audited system
    scope: the stored answers may name people, and are kept no longer than the window."""
    with transaction.atomic(), access.system_scope("purge expired API idempotency keys"):
        deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
