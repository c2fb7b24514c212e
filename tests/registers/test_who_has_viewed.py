"""Who has viewed a record: listed for staff who can change it, not found out of scope."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_person_page_lists_who_has_viewed_the_record(client, lead, practitioner, person):
    client.force_login(practitioner)
    client.get(f"/register/people/{person.pk}/")
    client.force_login(lead)
    page = client.get(f"/register/people/{person.pk}/").content.decode()
    assert f'hx-get="/register/people/{person.pk}/viewers/"' in page
    viewers = client.get(f"/register/people/{person.pk}/viewers/", HTTP_HX_REQUEST="true")
    html = viewers.content.decode()
    assert practitioner.email in html and lead.email in html
    assert "<html" not in html  # the fragment for htmx
    assert "Who has viewed" in client.get(f"/register/people/{person.pk}/viewers/").content.decode()


def test_viewers_of_a_record_cannot_see_who_else_read_it(client, viewer, person):
    client.force_login(viewer)
    assert "Who has viewed" not in client.get(f"/register/people/{person.pk}/").content.decode()
    assert client.get(f"/register/people/{person.pk}/viewers/").status_code == 403


def test_who_has_viewed_is_404_outside_the_scope(client, practitioner, other_person):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{other_person.pk}/viewers/").status_code == 404
