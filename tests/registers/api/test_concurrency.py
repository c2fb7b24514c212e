"""No lost updates: two systems change the same person from the same version."""

import pytest

from registers.models import Person

from .conftest import client_with

pytestmark = pytest.mark.django_db


def test_the_second_writer_with_the_old_etag_gets_412_and_the_first_write_stands(
    cms, person, authority, lead
):
    from accounts.services import create_api_client

    _, token = create_api_client(lead, authority, name="Second CMS", scopes=["read", "write"])
    second = client_with(token)
    url = f"/api/v1/people/{person.pk}/"
    etag_first = cms.get(url)["ETag"]
    etag_second = second.get(url)["ETag"]
    assert etag_first == etag_second == '"1"'

    first = cms.patch(
        url,
        {"key_worker_name": "First", "risk_rating": "amber", "reason": "Rising risk"},
        format="json",
        HTTP_IF_MATCH=etag_first,
    )
    assert first.status_code == 200
    late = second.patch(
        url,
        {"key_worker_name": "Second", "risk_rating": "red", "reason": "Crisis"},
        format="json",
        HTTP_IF_MATCH=etag_second,
    )
    assert late.status_code == 412
    assert f"ETag {first['ETag']}" in late.json()["detail"]

    stored = Person.objects.get(pk=person.pk)
    assert stored.key_worker_name == "First"
    assert stored.risk_rating == "amber"
    assert f'"{stored.version}"' == first["ETag"]
    assert cms.get(url).json() == first.json()
    assert not stored.status_changes.filter(reason="Crisis").exists()
