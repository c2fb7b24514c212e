import pytest
from rest_framework.test import APIClient

from accounts.services import create_api_client


def client_with(token: str | None) -> APIClient:
    api = APIClient()
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    settings.DSR_API_RATE = "10000/min"


@pytest.fixture
def cms(authority, lead):
    """The authority's case-management system: an API client with read and write scopes."""
    client, token = create_api_client(lead, authority, name="Care First", scopes=["read", "write"])
    api = client_with(token)
    api.record = client
    api.token = token
    return api


@pytest.fixture
def reader(authority, lead):
    client, token = create_api_client(lead, authority, name="Dashboard", scopes=["read"])
    api = client_with(token)
    api.record = client
    return api


@pytest.fixture
def other_cms(other_authority, other_lead, leith):
    client, token = create_api_client(
        other_lead, other_authority, name="Edinburgh CMS", scopes=["read", "write"]
    )
    api = client_with(token)
    api.record = client
    return api


def new_person(locality, reference="CMS-0001", **overrides):
    body = {
        "locality": locality.pk,
        "local_reference": reference,
        "given_name": "Morag",
        "family_name": "Campbell",
        "date_of_birth": "1988-03-14",
        "sex": "female",
        "category": "urgent",
        "urgent_reason": "at_risk_of_breakdown",
        "risk_rating": "red",
        "risk_factors": ["provider_notice"],
        "referral_source": "social_work",
        "reason": "Provider has given notice",
    }
    body.update(overrides)
    return body
