"""`{% url %}` (dsr/urltags.py, a builtin) remembers URLs and prints what Django's tag prints."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.test import RequestFactory
from django.urls import set_script_prefix

from dsr.urltags import CachedStaticNode, CachedURLNode, _static

CASES = [
    ("'help'", {}),
    ("'registers:person_list'", {}),
    ("'registers:person_detail' pk", {"pk": 7}),
    ("'registers:person_quick_status' pk", {"pk": "12"}),
    ("'registers:person_detail' pk=pk", {"pk": 31}),
    ("'registers:transfer_cancel' pk", {"pk": 1}),
]


def django_tag(source: str, context: dict) -> str:
    engine = Engine(builtins=[])  # the default builtins only: Django's own {% url %}
    return engine.from_string(source).render(Context(context))


@pytest.mark.parametrize("tag,context", CASES)
def test_the_same_url_as_djangos_tag_twice_over(tag: str, context: dict) -> None:
    source = "{% url " + tag + " %}"
    template = Template(source)
    assert isinstance(template.nodelist[0], CachedURLNode)
    expected = django_tag(source, context)
    assert template.render(Context(context)) == expected
    assert template.render(Context(context)) == expected  # remembered


def test_the_script_prefix_is_part_of_the_key() -> None:
    template = Template("{% url 'registers:person_detail' 5 %}")
    before = template.render(Context())
    set_script_prefix("/dsr/")
    try:
        assert template.render(Context()) == "/dsr/" + before.lstrip("/")
    finally:
        set_script_prefix("/")
    assert template.render(Context()) == before


def test_as_variables_and_other_arguments_go_the_usual_way() -> None:
    request = RequestFactory().get("/")
    source = "{% url 'registers:person_detail' pk as link %}[{{ link }}]{% url 'help' %}"
    context = {"pk": 3.0, "request": request}
    assert Template(source).render(Context(context)) == django_tag(source, context)


@pytest.mark.parametrize("path", ["'css/dsr.css'", "'js/dsr.js'", "name"])
def test_static_urls_as_djangos_tag_writes_them(path: str) -> None:
    source = "{% static " + path + " %}"
    context = {"name": "images/sg-logo.svg"}
    template = Template(source)
    assert isinstance(template.nodelist[0], CachedStaticNode)
    expected = Engine(builtins=["django.templatetags.static"]).from_string(source)
    assert template.render(Context(context)) == expected.render(Context(context))
    hits = _static.cache_info().hits
    assert template.render(Context(context)) == expected.render(Context(context))
    assert _static.cache_info().hits == hits + 1  # a literal path (a SafeString) remembered too
