"""Who may open the person's pages: not found outside the scope, refused to viewers."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "",
        "edit/",
        "status/",
        "quick-status/",
        "review/",
        "leave/",
        "locality/",
        "transfer/",
    ],
)
def test_every_person_page_is_not_found_outside_the_users_scope(client, lead, other_person, path):
    client.force_login(lead)
    assert client.get(f"/register/people/{other_person.pk}/{path}").status_code == 404
    assert client.post(f"/register/people/{other_person.pk}/{path}", {}).status_code in (404, 405)


@pytest.mark.parametrize("path", ["edit/", "status/", "quick-status/", "review/", "leave/"])
def test_a_viewer_cannot_open_the_change_pages(client, viewer, person, path):
    client.force_login(viewer)
    response = client.get(f"/register/people/{person.pk}/{path}")
    assert response.status_code == 403
    assert "You cannot do this" in response.content.decode()
