"""Webhooks: a lead registers an address per API client; after people change, a signed notice with
ids and positions only goes to it, tried again with a doubling wait after a failure or a timeout,
a bounded number of times. Delivered to a real HTTP receiver on 127.0.0.1."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
import urllib3
from django.core.exceptions import ValidationError

from accounts.services import create_api_client
from dsr.celery import app as celery_app
from registers import access, webhooks
from registers.audit import AuditAction
from registers.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import PersonFactory, added_through_services
from tests.registers.api.conftest import client_with

pytestmark = pytest.mark.django_db(transaction=True)


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (docs/api.md, "Webhooks")."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers from a script; over
    TLS with `certificate` (a PEM file holding the key and certificate)."""

    def __init__(self, answers=(200,), delay: float = 0.0, certificate=None):
        self.answers = list(answers)
        self.delay = delay
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/dsr/hook"
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificate)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _local_http(settings):
    settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP = True
    settings.DSR_WEBHOOK_BACKOFF_SECONDS = 30


@pytest.fixture
def cms_client(lead, authority):
    client, token = create_api_client(lead, authority, name="Care First", scopes=["read", "write"])
    client.token = token
    return client


def wait_for_changes(authority, endpoint, count, timeout=20.0):
    """Dispatch until `count` changes are recorded for the endpoint (the feed shows a change once
    every writer that began before it has ended)."""
    ids = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids += webhooks.dispatch(authority.pk)
        found = WebhookDelivery.objects.filter(endpoint=endpoint).values_list("payload", flat=True)
        if sum(len(p["changes"]) for p in found) >= count:
            return ids
        time.sleep(0.05)
    raise AssertionError("the changes did not reach the feed in time")


def test_a_change_is_delivered_signed_and_carries_ids_and_positions_only(
    lead, authority, nithsdale, cms_client
):
    with Receiver() as receiver:
        endpoint, secret = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        person = PersonFactory(locality=nithsdale, given_name="Morag", family_name="Campbell")
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)

        assert webhooks.attempt(delivery_id, authority.pk) is None

    ((headers, body),) = receiver.received
    assert verify(secret, headers["DSR-Signature"], body)
    assert not verify(secret, headers["DSR-Signature"], body.replace(b"created", b"changed"))
    assert not verify("whsec_" + "0" * 64, headers["DSR-Signature"], body)
    payload = json.loads(body)
    assert payload["changes"] == [
        {"position": payload["next"], "kind": "created", "person_id": person.pk}
    ]
    assert int(payload["after"]) < int(payload["next"])
    assert headers["DSR-Delivery"] == str(delivery_id)
    for identifying in (person.given_name, person.family_name, person.local_reference):
        assert identifying.encode() not in body
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    endpoint.refresh_from_db()
    assert endpoint.position == int(payload["next"])


def test_a_failing_first_answer_is_tried_again_after_a_doubling_wait(
    lead, authority, nithsdale, cms_client
):
    with Receiver(answers=[500, 502, 200]) as receiver:
        endpoint, secret = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)

        waits = [webhooks.attempt(delivery_id, authority.pk) for _ in range(3)]

    assert waits == [30, 60, None]
    assert len(receiver.received) == 3
    bodies = {body for _, body in receiver.received}
    assert len(bodies) == 1  # the same notice each time, each freshly signed
    assert all(verify(secret, h["DSR-Signature"], b) for h, b in receiver.received)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)


def test_attempts_are_bounded_and_a_delivery_that_never_lands_is_marked_failed(
    lead, authority, nithsdale, cms_client, settings
):
    settings.DSR_WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(answers=[503]) as receiver:
        endpoint, _ = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)
        waits = [webhooks.attempt(delivery_id, authority.pk) for _ in range(4)]

    assert waits == [30, 60, None, None]
    assert len(receiver.received) == 3
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 503)
    assert delivery.last_error == "Answered 503."


def test_whether_an_authority_has_webhooks_is_asked_once_then_known(lead, authority, cms_client):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with access.using_scope(access.scope_for(lead)):
        with CaptureQueriesContext(connection) as first:
            assert webhooks._has_webhooks(authority.pk) is False
        with CaptureQueriesContext(connection) as again:
            assert webhooks._has_webhooks(authority.pk) is False
        assert (len(first), len(again)) == (1, 0)
        with transaction.atomic():
            webhooks.register_endpoint(lead, cms_client, url="https://cms.example.scot/hook")
            # Known at once in this transaction, not a minute later.
            assert webhooks._has_webhooks(authority.pk) is True
        with transaction.atomic():
            webhooks.announce(authority.pk)
            assert any(
                getattr(f, "dsr_webhooks_of", None) == authority.pk
                for _, f, _ in connection.run_on_commit
            )
            transaction.set_rollback(True)


def test_an_authority_without_webhooks_queues_nothing(authority):
    from django.db import connection, transaction

    with transaction.atomic():
        webhooks.announce(authority.pk)
        assert connection.run_on_commit == []
        transaction.set_rollback(True)


def test_a_name_that_later_leads_to_a_private_address_gets_no_notice(
    lead, authority, nithsdale, cms_client, settings, monkeypatch
):
    settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP = False
    endpoint, _ = webhooks.register_endpoint(lead, cms_client, url="https://cms.example.scot/hook")
    monkeypatch.setattr(
        webhooks.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("10.0.0.5", port))],
    )
    posted = []
    monkeypatch.setattr(webhooks, "_send", lambda *a, **kw: posted.append(a))
    PersonFactory(locality=nithsdale)
    (delivery_id,) = wait_for_changes(authority, endpoint, 1)
    webhooks.attempt(delivery_id, authority.pk)
    assert posted == []
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert "private network" in delivery.last_error


def resolving(monkeypatch, names: dict[str, list[str]]) -> list[str]:
    """Resolve each of `names` to its addresses in turn (the last one from then on), and anything
    else as before; returns the names looked up, in order."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        answers = names[host]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_the_notice_goes_to_the_address_checked_not_to_the_name_resolved_again(
    lead, authority, nithsdale, cms_client, settings, monkeypatch
):
    """DNS rebinding: a name that answers a public address for the check and a private one a
    moment later must not lead the worker into the private network."""
    settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP = False
    endpoint, _ = webhooks.register_endpoint(lead, cms_client, url="https://cms.example.scot/hook")
    asked = resolving(monkeypatch, {"cms.example.scot": ["93.184.216.34", "10.0.0.5"]})
    dialled = []

    def create_connection(address, *args, **kwargs):
        dialled.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    PersonFactory(locality=nithsdale)
    (delivery_id,) = wait_for_changes(authority, endpoint, 1)
    webhooks.attempt(delivery_id, authority.pk)

    assert asked == ["cms.example.scot"]
    assert dialled == [("93.184.216.34", 443)]
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.last_error == "Could not connect: the connection was refused."


@pytest.fixture
def certificate(tmp_path):
    """A certificate authority's own certificate for cms.example.scot (a PEM file with its key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cms.example.scot")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("cms.example.scot")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "receiver.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


@pytest.mark.parametrize(
    ("host", "delivered"), [("cms.example.scot", True), ("other.example.scot", False)]
)
def test_over_https_the_pinned_address_must_show_a_certificate_for_the_name(
    host, delivered, lead, authority, nithsdale, cms_client, settings, monkeypatch, certificate
):
    """The notice goes to the checked address, but TLS still names the host (SNI) and checks the
    certificate against it: a certificate for another name is refused."""
    settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP = False
    settings.DSR_WEBHOOK_CA_BUNDLE = str(certificate)
    resolving(monkeypatch, {host: ["127.0.0.1"]})
    # The receiver listens on loopback here; count it as public for this test only.
    monkeypatch.setattr(webhooks, "_is_public", lambda address: address == "127.0.0.1")
    with Receiver(certificate=certificate) as receiver:
        endpoint, secret = webhooks.register_endpoint(
            lead, cms_client, url=f"https://{host}:{receiver.port}/dsr/hook?from=dsr"
        )
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)
        webhooks.attempt(delivery_id, authority.pk)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if delivered:
        ((headers, body),) = receiver.received
        assert headers["Host"] == f"{host}:{receiver.port}"
        assert verify(secret, headers["DSR-Signature"], body)
        assert (delivery.status, delivery.last_status_code) == ("delivered", 200)
    else:
        assert receiver.received == []
        assert delivery.status == "retrying"
        assert delivery.last_error == (
            "Could not connect: the certificate is not valid for the address."
        )


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
    lead, authority, nithsdale, cms_client, settings
):
    settings.DSR_WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver(answers=[200], delay=1.0) as receiver:
        endpoint, _ = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)
        assert webhooks.attempt(delivery_id, authority.pk) == 30

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == ("retrying", "No answer in time.")


def test_the_send_task_retries_with_the_wait_the_delivery_gives(
    lead, authority, nithsdale, cms_client, monkeypatch
):
    from celery.exceptions import Retry

    from registers.tasks import send_webhook

    with Receiver(answers=[500, 200]) as receiver:
        endpoint, _ = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)
        asked = {}

        def retry(countdown=None, **kwargs):
            asked["countdown"] = countdown
            return Retry()

        monkeypatch.setattr(send_webhook, "retry", retry)
        with pytest.raises(Retry):
            send_webhook.run(delivery_id, authority.pk)
        send_webhook.run(delivery_id, authority.pk)

    assert asked == {"countdown": 30}
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "delivered"


def test_a_change_through_the_api_is_sent_after_it_commits(lead, authority, nithsdale, cms_client):
    """The whole way: the API's write queues the dispatch on commit; the tasks (run eagerly here,
    the queue itself is not under test) record and send the notice."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with Receiver() as receiver:
            _, secret = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
            api = client_with(cms_client.token)
            person = PersonFactory(locality=nithsdale)
            deadline = time.monotonic() + 20
            etag = api.get(f"/api/v1/people/{person.pk}/")["ETag"]
            while time.monotonic() < deadline:
                answer = api.patch(
                    f"/api/v1/people/{person.pk}/",
                    {"key_worker_name": f"Worker {time.monotonic()}"},
                    format="json",
                    HTTP_IF_MATCH=etag,
                )
                assert answer.status_code == 200
                etag = answer["ETag"]
                if any(b'"changed"' in body for _, body in receiver.received):
                    break
                time.sleep(0.1)
    finally:
        celery_app.conf.task_always_eager = eager
    kinds = [
        (c["kind"], c["person_id"])
        for _, body in receiver.received
        for c in json.loads(body)["changes"]
    ]
    assert ("changed", person.pk) in kinds
    assert all(verify(secret, h["DSR-Signature"], b) for h, b in receiver.received)


@pytest.mark.parametrize(
    "url",
    [
        "http://cms.example.org/hook",
        "ftp://cms.example.org/hook",
        "https://10.1.2.3/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://user:pass@cms.example.org/hook",
        "cms.example.org/hook",
        "",
    ],
)
def test_only_https_addresses_on_the_internet_are_accepted(url):
    with pytest.raises(ValidationError):
        webhooks.check_url(url)


def test_plain_http_to_127_0_0_1_only_where_the_setting_allows_it(settings):
    assert webhooks.check_url("http://127.0.0.1:8123/hook") == "http://127.0.0.1:8123/hook"
    assert webhooks.check_url("https://cms.example.org/hook") == "https://cms.example.org/hook"
    settings.DSR_WEBHOOK_ALLOW_LOCAL_HTTP = False
    with pytest.raises(ValidationError):
        webhooks.check_url("http://127.0.0.1:8123/hook")


def test_registering_and_removing_are_audited_and_one_webhook_per_client(
    lead, authority, cms_client
):
    endpoint, secret = webhooks.register_endpoint(lead, cms_client, url="https://cms.example.org/h")
    assert secret.startswith("whsec_") and secret not in json.dumps(
        list(WebhookEndpoint.objects.values()), default=str
    )
    with pytest.raises(ValidationError):
        webhooks.register_endpoint(lead, cms_client, url="https://cms.example.org/other")
    webhooks.remove_endpoint(lead, endpoint)
    webhooks.remove_endpoint(lead, endpoint)  # once only
    events = list(AuditEvent.objects.filter(action__startswith="webhook.").order_by("at", "id"))
    assert [(e.action, e.authority_id, e.changes["url"]) for e in events] == [
        (AuditAction.WEBHOOK_ADDED, authority.pk, "https://cms.example.org/h"),
        (AuditAction.WEBHOOK_REMOVED, authority.pk, "https://cms.example.org/h"),
    ]
    again, _ = webhooks.register_endpoint(lead, cms_client, url="https://cms.example.org/other")
    assert again.pk != endpoint.pk


def test_a_removed_webhook_gets_no_more_notices(lead, authority, nithsdale, cms_client):
    with Receiver() as receiver:
        endpoint, _ = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        PersonFactory(locality=nithsdale)
        (delivery_id,) = wait_for_changes(authority, endpoint, 1)
        webhooks.remove_endpoint(lead, endpoint)
        assert webhooks.attempt(delivery_id, authority.pk) is None
        PersonFactory(locality=nithsdale)
        assert webhooks.dispatch(authority.pk) == []
    assert receiver.received == []
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "failed"


def test_only_the_lead_of_the_clients_authority_registers(practitioner, other_lead, cms_client):
    for actor in (practitioner, other_lead):
        with pytest.raises(Exception):  # noqa: B017 (refused: permission or not found)
            webhooks.register_endpoint(actor, cms_client, url="https://cms.example.org/h")
    assert not WebhookEndpoint.objects.exists()


def test_services_announce_changes_after_commit(lead, nithsdale, monkeypatch):
    announced = []
    monkeypatch.setattr(webhooks, "announce", announced.append)
    person = added_through_services(lead, nithsdale, local_reference="ANN-1")
    assert announced == [person.authority_id]


def test_one_dispatch_is_queued_per_transaction_and_authority(
    authority, other_authority, monkeypatch
):
    from django.db import connection, transaction

    monkeypatch.setattr(webhooks, "_has_webhooks", lambda authority_id: True)

    with transaction.atomic():
        webhooks.announce(authority.pk)
        with transaction.atomic():
            webhooks.announce(authority.pk)  # already queued outside this savepoint
            webhooks.announce(other_authority.pk)
        queued = [f.dsr_webhooks_of for _, f, _ in connection.run_on_commit]
        transaction.set_rollback(True)
    assert queued == [authority.pk, other_authority.pk]


def test_a_dispatch_queued_inside_a_savepoint_that_rolls_back_is_queued_again(
    authority, monkeypatch
):
    from django.db import connection, transaction

    monkeypatch.setattr(webhooks, "_has_webhooks", lambda authority_id: True)

    with transaction.atomic():
        try:
            with transaction.atomic():
                webhooks.announce(authority.pk)
                raise RuntimeError
        except RuntimeError:
            pass
        webhooks.announce(authority.pk)
        queued = [f.dsr_webhooks_of for _, f, _ in connection.run_on_commit]
        transaction.set_rollback(True)
    assert queued == [authority.pk]


@pytest.fixture
def worker(monkeypatch):
    """A real Celery worker on the suite's own Redis queue (tests/reporting/test_celery_worker)."""
    from celery.contrib.testing.worker import start_worker
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('role', 'dsr_system', false)")
            yield
    finally:
        celery_app.conf.task_always_eager = eager


@pytest.mark.celery
def test_a_worker_retries_a_failed_notice_after_the_backoff_until_it_lands(
    worker, lead, authority, nithsdale, cms_client, settings
):
    from registers.tasks import dispatch_webhooks

    settings.DSR_WEBHOOK_BACKOFF_SECONDS = 1
    with Receiver(answers=[500, 200]) as receiver:
        endpoint, secret = webhooks.register_endpoint(lead, cms_client, url=receiver.url)
        person = PersonFactory(locality=nithsdale)
        deadline = time.monotonic() + 60
        delivered = None
        while time.monotonic() < deadline and delivered is None:
            dispatch_webhooks.apply_async((authority.pk,))
            time.sleep(0.5)
            delivered = WebhookDelivery.objects.filter(
                endpoint=endpoint, status="delivered"
            ).first()
    assert delivered is not None, list(WebhookDelivery.objects.values("status", "attempts"))
    assert (delivered.attempts, delivered.last_status_code) == (2, 200)
    first, second = (body for _, body in receiver.received)
    assert first == second  # the same notice, tried again
    assert all(verify(secret, h["DSR-Signature"], b) for h, b in receiver.received)
    assert json.loads(receiver.received[-1][1])["changes"][0]["person_id"] == person.pk


def test_a_change_held_back_by_another_authoritys_running_writer_is_looked_for_again(
    lead, authority, nithsdale, cms_client, monkeypatch
):
    """Authority B's long write holds the feed's horizon; A's change, committed meanwhile, is not
    handed out yet. The dispatch says so and queues itself again, rather than leave A's notice
    until A's next change."""
    from django.db import connection

    from registers.tasks import dispatch_webhooks
    from tests import db_roles

    queued = []
    monkeypatch.setattr(
        dispatch_webhooks, "apply_async", lambda args, **kw: queued.append((args, kw))
    )
    endpoint, _ = webhooks.register_endpoint(lead, cms_client, url="https://cms.example.org/h")
    settings_dict = connection.settings_dict
    writer = psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        **{k.lower(): v for k, v in db_roles.credentials("owner").items()},
    )
    try:
        with writer.cursor() as cursor:  # B's writer, marked and still running
            cursor.execute("SELECT dsr_change_feed_mark()")
        PersonFactory(locality=nithsdale)
        assert webhooks.dispatch(authority.pk) == []
        dispatch_webhooks.run(authority.pk)
        assert queued == [((authority.pk,), {"countdown": 2})]
    finally:
        writer.rollback()
        writer.close()
    assert len(wait_for_changes(authority, endpoint, 1)) == 1
    assert not webhooks.waiting(authority.pk)
