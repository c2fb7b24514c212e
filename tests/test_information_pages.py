"""The help, accessibility, privacy and cookies pages: open to anyone, linked from every page."""

import pytest

from dsr.urls import INFORMATION_PAGES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", INFORMATION_PAGES)
def test_an_information_page_is_readable_without_signing_in(client, page):
    response = client.get(f"/{page}/")
    assert response.status_code == 200
    assert "Dynamic Support Register" in response.text


def test_every_page_links_to_the_information_pages_from_its_footer(client, lead):
    client.force_login(lead)
    footer = client.get("/register/").text.split('<footer class="ds_site-footer', 1)[1]
    for page in INFORMATION_PAGES:
        assert f'href="/{page}/"' in footer


def test_the_cookies_page_names_every_cookie_the_service_sets(client, settings):
    text = client.get("/cookies/").text
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, "messages"):
        assert f"<td>{name}</td>" in text
