"""The lead's webhook page of an API client: register (secret shown once), the last deliveries,
remove after confirming; labelled, and refused to anyone but the authority's lead."""

import re

import pytest

from accounts.services import create_api_client
from registers import webhooks
from registers.models import AuditEvent, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def care_first(lead, authority):
    client, _ = create_api_client(lead, authority, name="Care First", scopes=["read"])
    return client


def _page(client, care_first, suffix=""):
    return client.get(f"/staff/api-clients/{care_first.pk}/webhook/{suffix}")


def test_the_clients_list_links_to_each_clients_webhook(client, lead, care_first):
    client.force_login(lead)
    html = client.get("/staff/api-clients/").content.decode()
    assert f'href="/staff/api-clients/{care_first.pk}/webhook/"' in html
    assert 'Webhook<span class="visually-hidden"> of Care First</span>' in html


def test_a_lead_registers_a_webhook_and_sees_its_secret_once(client, lead, care_first):
    client.force_login(lead)
    form = _page(client, care_first).content.decode()
    assert '<label class="ds_label" for="id_url">Address</label>' in form or 'for="id_url"' in form

    page = client.post(
        f"/staff/api-clients/{care_first.pk}/webhook/", {"url": "https://cms.example.org/dsr"}
    )

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    secret = re.search(r'value="(whsec_[0-9a-f]{64})"', page.content.decode()).group(1)
    assert '<label for="secret">Secret</label>' in page.content.decode()
    endpoint = WebhookEndpoint.objects.get(api_client=care_first)
    assert webhooks.secret_for(endpoint) == secret
    assert AuditEvent.objects.filter(action="webhook.added", actor=lead).exists()
    again = _page(client, care_first).content.decode()
    assert "https://cms.example.org/dsr" in again
    assert secret not in again
    assert "Nothing has been sent yet" in again


def test_an_address_that_is_not_https_is_refused_with_an_error_summary(client, lead, care_first):
    client.force_login(lead)
    page = client.post(
        f"/staff/api-clients/{care_first.pk}/webhook/", {"url": "http://cms.example.org/dsr"}
    )
    html = page.content.decode()
    assert "<title>Error:" in html
    assert "Give an address that starts with https://." in html
    assert not WebhookEndpoint.objects.exists()


def test_the_last_deliveries_show_their_status_answer_and_failure(client, lead, care_first):
    endpoint, _ = webhooks.register_endpoint(lead, care_first, url="https://cms.example.org/dsr")
    WebhookDelivery.objects.create(
        authority_id=endpoint.authority_id,
        endpoint=endpoint,
        after=10,
        next=14,
        payload={},
        status="failed",
        attempts=6,
        last_status_code=503,
        last_error="Answered 503.",
    )
    WebhookDelivery.objects.create(
        authority_id=endpoint.authority_id,
        endpoint=endpoint,
        after=14,
        next=15,
        payload={},
        status="delivered",
        attempts=1,
        last_status_code=200,
    )
    client.force_login(lead)
    html = _page(client, care_first).content.decode()
    assert "<caption" in html and "Last deliveries to the webhook of Care First" in html
    assert "Failed, no more attempts" in html and "503 Answered 503." in html
    assert "Delivered" in html and "After 14 up to 15" in html


def test_removing_asks_first_then_stops_the_notices(client, lead, care_first):
    webhooks.register_endpoint(lead, care_first, url="https://cms.example.org/dsr")
    client.force_login(lead)
    confirm = _page(client, care_first, "remove/").content.decode()
    assert "Are you sure you want to remove the webhook of Care First?" in confirm
    assert WebhookEndpoint.objects.filter(removed_at__isnull=True).exists()

    done = client.post(f"/staff/api-clients/{care_first.pk}/webhook/remove/")

    assert done.status_code == 302
    assert not WebhookEndpoint.objects.filter(removed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="webhook.removed", actor=lead).exists()
    assert "has no webhook" in client.get(done.url).content.decode()


def test_only_the_clients_lead_reaches_the_page(client, care_first, practitioner, other_lead):
    for user in (practitioner, other_lead):
        client.force_login(user)
        assert _page(client, care_first).status_code in (403, 404)
        response = client.post(
            f"/staff/api-clients/{care_first.pk}/webhook/", {"url": "https://evil.example.org/"}
        )
        assert response.status_code in (403, 404)
    assert not WebhookEndpoint.objects.exists()
