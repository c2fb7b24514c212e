"""Webhooks: the change feed, pushed (docs/api.md, "Webhooks").

A lead registers one HTTPS address per API client. After a transaction that changed people
commits, a Celery task reads the change feed after the endpoint's position and records one
delivery for what it found: ids, kinds and positions only, never personal data (the receiver reads
the people with its token). A second task sends it, signed, and tries again with exponential
backoff on a failure or timeout, up to `DSR_WEBHOOK_MAX_ATTEMPTS` attempts. The endpoint's
position moves on when a delivery is recorded, not when it arrives: a delivery that failed for good
is shown on the client's page, and the receiver catches up from the feed (each payload names the
positions it covers), so one broken receiver never holds back the next notice.

Signature: `DSR-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with the
endpoint's secret. The secret is shown once at registration; the service derives it from its own
secret key and the endpoint's salt, so the database alone cannot sign.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from requests import certs
from urllib3.exceptions import NewConnectionError

from dsr import cache as dsr_cache

from . import access
from .audit import AuditAction, record_event
from .models import PersonChange, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from .services import changes

if TYPE_CHECKING:
    from accounts.models import ApiClient, User

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "DSR-Signature"
DELIVERY_HEADER = "DSR-Delivery"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not a secret)
BATCH = 100
# How long a process may go on believing an authority has (or has no) webhook; adding or
# removing one drops the belief at once.
HAS_WEBHOOKS_SECONDS = 60


# --- Registration ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    """An HTTPS address on a public host. Plain HTTP only to 127.0.0.1, and only where the
    setting allows it (development and tests)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    local_http = settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP and parts.scheme == "http"
    if local_http and host == "127.0.0.1":
        return url
    if parts.scheme != "https" or not host:
        raise ValidationError({"url": ["Give an address that starts with https://."]})
    if parts.username or parts.password:
        raise ValidationError({"url": ["Leave the user name and password out of the address."]})
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or (address is not None and not address.is_global):
        raise ValidationError({"url": ["Give an address on the internet, not a private one."]})
    return url


def secret_for(endpoint: WebhookEndpoint) -> str:
    derived = hmac.new(
        settings.SECRET_KEY.encode(), f"dsr-webhook:{endpoint.secret_salt}".encode(), "sha256"
    )
    return SECRET_PREFIX + derived.hexdigest()


@transaction.atomic
def register_endpoint(actor: User, client: ApiClient, *, url: str) -> tuple[WebhookEndpoint, str]:
    """The lead registers the client's endpoint; returns it with its secret (shown once). Deliveries
    start from the feed's end: the receiver reads what came before from the feed itself."""
    access.require_lead(actor, client.authority_id)
    url = check_url(url)
    if not client.is_active:
        raise ValidationError("This client has been revoked.")
    if WebhookEndpoint.objects.filter(api_client=client, removed_at__isnull=True).exists():
        raise ValidationError({"url": ["This client already has a webhook: remove it first."]})
    endpoint = WebhookEndpoint.objects.create(
        authority_id=client.authority_id,
        api_client=client,
        url=url,
        secret_salt=secrets.token_hex(32),
        position=max(changes.horizon() - 1, 0),
        created_by=actor,
    )
    record_event(
        actor, AuditAction.WEBHOOK_ADDED, obj=client, changes={"url": url, "webhook": endpoint.pk}
    )
    _forget_has_webhooks(client.authority_id)
    return endpoint, secret_for(endpoint)


@transaction.atomic
def remove_endpoint(actor: User, endpoint: WebhookEndpoint) -> None:
    access.require_lead(actor, endpoint.authority_id)
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, removed_at__isnull=True).update(
        removed_at=timezone.now()
    )
    if updated:
        _forget_has_webhooks(endpoint.authority_id)
        record_event(
            actor,
            AuditAction.WEBHOOK_REMOVED,
            obj=endpoint.api_client,
            changes={"url": endpoint.url, "webhook": endpoint.pk},
        )


def endpoint_of(client: ApiClient) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(api_client=client, removed_at__isnull=True).first()


def recent_deliveries(endpoint: WebhookEndpoint, *, count: int = 20) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(authority_id=endpoint.authority_id, endpoint=endpoint)
        .defer("payload")
        .order_by("-created_at", "-pk")[:count]
    )


# --- After a change commits ------------------------------------------------------------------


def _has_webhooks_key(authority_id: int) -> str:
    return f"dsr:webhooks:{authority_id}"


def _forget_has_webhooks(authority_id: int) -> None:
    """Now, and again once the caller commits (a reader in between may have cached the old
    answer)."""
    key = _has_webhooks_key(authority_id)
    dsr_cache.delete(key)
    transaction.on_commit(lambda: dsr_cache.delete(key))


def _has_webhooks(authority_id: int) -> bool:
    """Whether the authority has a webhook, asked in the caller's transaction and scope. Most
    authorities have none, and a change to a person must not pay a query to find that out each
    time: the answer is cached (HAS_WEBHOOKS_SECONDS at most, dropped when one is added or
    removed); with Redis away it is asked of the database."""
    key = _has_webhooks_key(authority_id)
    cached = dsr_cache.get(key)
    if cached is not None:
        return bool(cached)
    wanted = WebhookEndpoint.objects.filter(
        authority_id=authority_id, removed_at__isnull=True
    ).exists()
    dsr_cache.set(key, int(wanted), HAS_WEBHOOKS_SECONDS)
    return wanted


def announce(authority_id: int) -> None:
    """Once the caller's transaction commits, queue the dispatch of the authority's webhooks (if
    it has any). A broker that is away costs a warning, never the change: the next change, or the
    receiver's own reading of the feed, catches up."""
    if not _has_webhooks(authority_id):
        return

    def queue() -> None:
        from .tasks import dispatch_webhooks

        try:
            dispatch_webhooks.apply_async((authority_id,))
        except Exception:
            logger.warning("webhooks of authority %s could not be queued", authority_id)

    # Once per transaction and authority: a callback already registered at this level or outside
    # it runs whenever this one would (a savepoint rolled back discards both).
    connection = transaction.get_connection()
    current = set(connection.savepoint_ids)
    for savepoints, registered, _ in connection.run_on_commit:
        if getattr(registered, "dsr_webhooks_of", None) == authority_id and savepoints <= current:
            return
    queue.dsr_webhooks_of = authority_id  # type: ignore[attr-defined]
    transaction.on_commit(queue)


def dispatch(authority_id: int) -> list[int]:
    """Record a delivery for each endpoint of the authority with changes past its position; returns
    the deliveries' ids (the caller sends them once this has committed)."""
    created = []
    with transaction.atomic(), access.using_scope(access.authority_task_scope(authority_id)):
        # Locked, waiting for a dispatch already running: it may have read the feed before this
        # task's change showed, and this one must then read after it.
        endpoints = WebhookEndpoint.objects.select_for_update().filter(
            authority_id=authority_id, removed_at__isnull=True
        )
        for endpoint in endpoints:
            while True:
                page = changes.changes_after(authority_id, endpoint.position, limit=BATCH)
                if not page.changes:
                    break
                delivery = WebhookDelivery.objects.create(
                    authority_id=authority_id,
                    endpoint=endpoint,
                    after=endpoint.position,
                    next=page.next,
                    payload=_payload(endpoint, page),
                )
                endpoint.position = page.next
                created.append(delivery.pk)
                if not page.has_more:
                    break
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(position=endpoint.position)
    return created


def waiting(authority_id: int) -> bool:
    """Whether a committed change of the authority is still past an endpoint's position after a
    dispatch: the feed holds it back while a writer that began before it (of any authority) runs.
    The dispatch is then asked again shortly (registers/tasks.py), so the notice does not wait for
    the authority's next change."""
    with access.using_scope(access.authority_task_scope(authority_id)):
        lowest = WebhookEndpoint.objects.filter(
            authority_id=authority_id, removed_at__isnull=True
        ).aggregate(lowest=Min("position"))["lowest"]
        if lowest is None:
            return False
        return PersonChange.objects.filter(authority_id=authority_id, id__gt=lowest).exists()


def _payload(endpoint: WebhookEndpoint, page: changes.Page) -> dict:
    return {
        "type": "changes",
        "webhook": endpoint.pk,
        "after": str(endpoint.position),
        "next": str(page.next),
        "changes": [
            {"position": str(c.position), "kind": c.kind, "person_id": c.person_id}
            for c in page.changes
        ],
    }


# --- Sending ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempts: int) -> int:
    """Seconds before the next attempt, after `attempts` failed ones: doubling from the base."""
    return settings.DSR_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1)


def attempt(delivery_id: int, authority_id: int) -> int | None:
    """Send the delivery once. Returns the seconds to wait before trying again, or None when it
    is done (delivered, failed for good, or its endpoint removed)."""
    with access.using_scope(access.authority_task_scope(authority_id)):
        delivery = (
            WebhookDelivery.objects.select_related("endpoint")
            .filter(authority_id=authority_id, pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (
            WebhookDeliveryStatus.DELIVERED,
            WebhookDeliveryStatus.FAILED,
        ):
            return None
        endpoint = delivery.endpoint
        if endpoint.removed_at is not None:
            _finish(delivery, WebhookDeliveryStatus.FAILED, error="The webhook was removed.")
            return None
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        status_code, error = _post(endpoint, delivery, body)
        delivery.attempts += 1
        if status_code is not None and 200 <= status_code < 300:
            _finish(delivery, WebhookDeliveryStatus.DELIVERED, status_code=status_code)
            return None
        if delivery.attempts >= settings.DSR_WEBHOOK_MAX_ATTEMPTS:
            _finish(delivery, WebhookDeliveryStatus.FAILED, status_code=status_code, error=error)
            return None
        _finish(delivery, WebhookDeliveryStatus.RETRYING, status_code=status_code, error=error)
        return backoff(delivery.attempts)


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def _checked_address(url: str) -> str | None:
    """The one address the notice goes to: the host's name resolved now, at this attempt, and
    refused (None) if any of its addresses is not on the internet. Checked at each attempt, not
    only on registration, since a public name can be pointed at a private address later; and the
    connection is made to this checked address, not to the name resolved again, so that a name
    answering differently the second time (DNS rebinding) cannot lead the worker into the
    service's own network."""
    parts = urlsplit(url)
    if settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP and parts.scheme == "http":
        return parts.hostname if parts.hostname == "127.0.0.1" else None
    # Not resolvable: OSError, and the attempt fails and is tried again like any other.
    found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in found]
    if not addresses or not all(map(_is_public, addresses)):
        return None
    return addresses[0]


def _send(url: str, address: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to `address`, as `url`'s host: TLS names that host (SNI) and its certificate must be
    valid for it, so a pinned address serves only the host it was resolved from. No redirects,
    no retries (the delivery has its own), no proxy (a proxy would resolve the name again)."""
    parts = urlsplit(url)
    timeout = urllib3.Timeout(
        connect=settings.DSR_WEBHOOK_TIMEOUT_SECONDS, read=settings.DSR_WEBHOOK_TIMEOUT_SECONDS
    )
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            parts.port or 443,
            timeout=timeout,
            retries=False,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.DSR_WEBHOOK_CA_BUNDLE or certs.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, parts.port or 80, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        # Only the status is read: a receiver's body, however long, is left unread.
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": parts.netloc},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        response.close()
    return response.status


def _post(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, body: bytes
) -> tuple[int | None, str]:
    try:
        address = _checked_address(endpoint.url)
    except OSError:
        return None, "Could not connect: the name did not resolve."
    if address is None:
        return None, "Refused: the address now leads to a private network."
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "DSR-Webhooks/1",
        SIGNATURE_HEADER: sign(secret_for(endpoint), timestamp, body),
        DELIVERY_HEADER: str(delivery.pk),
    }
    try:
        status = _send(endpoint.url, address, body, headers)
    except NewConnectionError:  # a subclass of urllib3's TimeoutError, but a refusal
        return None, "Could not connect: the connection was refused."
    except urllib3.exceptions.TimeoutError:
        return None, "No answer in time."
    except urllib3.exceptions.SSLError:
        return None, "Could not connect: the certificate is not valid for the address."
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return None, f"Could not connect: {type(exc).__name__}."
    if 200 <= status < 300:
        return status, ""
    return status, f"Answered {status}."


def _finish(
    delivery: WebhookDelivery,
    status: str,
    *,
    status_code: int | None = None,
    error: str = "",
) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        attempts=delivery.attempts,
        last_status_code=status_code,
        last_error=error[:200],
        last_attempt_at=now,
        delivered_at=now if status == WebhookDeliveryStatus.DELIVERED else None,
    )
