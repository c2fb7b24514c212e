"""Every form page, found from the URL configuration, submitted empty: its error summary names
each field it complains about and links to an input that is on the page; Django's bare "This
field is required." never appears."""

import datetime as dt
import re

import pytest

from reporting.census import latest_census_date
from tests.browser.test_small_and_large_screens import NOT_PAGES, _fill, _ids, _routes

pytestmark = pytest.mark.django_db

ITEM = re.compile(r"<li>(.*?)</li>", re.S)
LINK = re.compile(r'^<a href="#([^"]+)">[^<]+</a>$')


def summary_items(body: str) -> list[str]:
    start = body.index('id="error-summary"')
    return [item.strip() for item in ITEM.findall(body[start : body.index("</ul>", start)])]


def test_every_error_summary_names_and_links_its_fields(
    client, lead, practitioner, person, authority
):
    census = latest_census_date(dt.date.today())
    ids = _ids(person, lead, practitioner, authority, census)
    paths = sorted({_fill(r, ids) for r in _routes() if not NOT_PAGES.search(r)})
    client.force_login(lead)
    summaries = 0
    for path in paths:
        if client.get(path).status_code != 200:
            continue
        response = client.post(path, {"version": person.version})
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        body = response.content.decode()
        assert "This field is required." not in body, path
        if 'id="error-summary"' not in body:
            continue
        summaries += 1
        for item in summary_items(body):
            link = LINK.match(item)
            if link:  # a field's error: its input is on the page
                assert f'id="{link.group(1)}"' in body, (path, item)
            else:  # the form's own errors, about no one field
                assert "This field" not in item, (path, item)
    assert summaries >= 8
