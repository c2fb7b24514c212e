"""The main navigation (`{% navigation %}`, registers/templatetags/dsr.py) is written in Python as
its two templates, kept here, wrote it: for every page's name and app, with and without an
authority, the right to add people and the lead's items."""

from __future__ import annotations

import itertools

import pytest
from django.template import Context, Engine, Template
from django.test import RequestFactory
from django.urls import resolve, reverse

# The navigation's templates before they were written in Python.
SLOW_NAVIGATION = """{# The main navigation's items, shown in the header on wide screens and behind "Menu" on narrow ones. #}
{% with here=request.resolver_match.url_name %}
<ul class="ds_site-navigation__list">
  {% if current_authority %}
  {% include "includes/nav_item.html" with name="person_list" url="registers:person_list" label="Register" %}
  {% if can_add_people %}{% include "includes/nav_item.html" with name="person_add" url="registers:person_add" label="Add a person" %}{% endif %}
  {% include "includes/nav_item.html" with name="reviews_due" url="registers:reviews_due" label="Due and overdue" %}
  {% include "includes/nav_item.html" with name="transfers" url="registers:transfers" label="Transfers" %}
  {% if is_lead_here %}
  {% include "includes/nav_item.html" with name="dashboard" url="registers:dashboard" label="Dashboard" %}
  {% include "includes/nav_item.html" with name="staff_list" url="accounts:staff_list" label="Staff" %}
  {% include "includes/nav_item.html" with name="locality_list" url="registers:locality_list" label="Localities" %}
  {% include "includes/nav_item.html" with name="audit_log" url="registers:audit_log" label="Audit log" %}
  {% include "includes/nav_item.html" with name="register_files" url="registers:register_files" label="Import and export" %}
  {% include "includes/nav_item.html" with name="api_client_list" url="accounts:api_client_list" label="API clients" %}
  {% endif %}
  {% endif %}
  {% with reporting=request.resolver_match.app_name %}
  <li class="ds_site-navigation__item"><a class="ds_site-navigation__link{% if reporting == 'reporting' %} ds_current{% endif %}" href="{% url 'reporting:index' %}"{% if reporting == 'reporting' %} aria-current="page"{% endif %}>Census returns</a></li>
  {% endwith %}
</ul>
{% endwith %}
"""  # noqa: E501
SLOW_ITEM = """<li class="ds_site-navigation__item"><a class="ds_site-navigation__link{% if here == name %} ds_current{% endif %}" href="{% url url %}"{% if here == name %} aria-current="page"{% endif %}>{{ label }}</a></li>
"""  # noqa: E501
ENGINE = Engine(
    loaders=[
        (
            "django.template.loaders.locmem.Loader",
            {
                "includes/navigation_items.html": SLOW_NAVIGATION,
                "includes/nav_item.html": SLOW_ITEM,
            },
        )
    ]
)
PAGES = [
    "registers:person_list",
    "registers:person_add",
    "registers:reviews_due",
    "registers:dashboard",
    "accounts:staff_list",
    "accounts:api_client_list",
    "reporting:index",
    "help",
]


def request_for(view: str):
    request = RequestFactory().get(reverse(view))
    request.resolver_match = resolve(request.path)
    return request


@pytest.mark.parametrize("view", PAGES)
@pytest.mark.parametrize(
    "authority,add,lead", list(itertools.product([None, "Glasgow"], [False, True], [False, True]))
)
def test_the_navigation_is_written_as_its_templates_wrote_it(
    view: str, authority: str | None, add: bool, lead: bool
) -> None:
    context = {
        "request": request_for(view),
        "current_authority": authority,
        "can_add_people": add,
        "is_lead_here": lead,
    }
    slow = ENGINE.get_template("includes/navigation_items.html").render(Context(context))
    fast = Template("{% load dsr %}{% navigation %}").render(Context(context))
    assert fast == slow


def test_without_a_request() -> None:
    slow = ENGINE.get_template("includes/navigation_items.html").render(Context({}))
    assert Template("{% load dsr %}{% navigation %}").render(Context({})) == slow
