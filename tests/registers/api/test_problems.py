"""What the API refuses, and how: every answer under /api/ is problem details, a 500 included;
nothing a client sends is silently ignored; absent codes are null, as the schema says."""

import datetime as dt

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from registers.api import views
from registers.api.errors import bad_request, permission_denied, server_error
from registers.models import Person
from tests.factories import PersonFactory

from .conftest import new_person

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response, status: int, kind: str = "validation-error") -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:dsr:problem:{kind}"
    assert body["status"] == status
    return body


# --- Absent values are null -------------------------------------------------------------------


def test_history_answers_null_for_codes_a_person_did_not_have(cms, nithsdale):
    body = new_person(nithsdale, category="enhanced_monitoring", urgent_reason=None)
    body["risk_rating"] = "amber"
    response = cms.post("/api/v1/people/", body, format="json")
    assert response.status_code == 201, response.json()["errors"]
    added = response.json()
    url = f"/api/v1/people/{added['id']}/status-changes/"
    (entry,) = cms.get(url).json()["results"]
    assert entry["old_category"] is None
    assert entry["old_urgent_reason"] is None
    assert entry["new_urgent_reason"] is None
    assert entry["old_risk_rating"] is None
    assert entry["new_risk_rating"] == "amber"
    assert entry["new_category"] == "enhanced_monitoring"

    posted = cms.post(
        url,
        {"category": "enhanced_monitoring", "reason": "Reviewed", "risk_rating": "red"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert posted.status_code == 201, posted.json().get("errors")
    change = posted.json()
    assert (change["old_risk_rating"], change["new_risk_rating"]) == ("amber", "red")
    assert (change["old_urgent_reason"], change["new_urgent_reason"]) == (None, None)


# --- 500 and unknown addresses ----------------------------------------------------------------


def test_an_unexpected_error_under_api_is_problem_details_without_a_trace(
    cms, monkeypatch, settings
):
    settings.DEBUG = False

    def broken(self, request):
        raise RuntimeError("secret internals of the failure")

    monkeypatch.setattr(views.CodesView, "get", broken)
    cms.raise_request_exception = False
    response = cms.get("/api/v1/codes/")
    body = problem(response, 500, "server-error")
    text = response.content.decode()
    assert "secret internals" not in text
    assert "Traceback" not in text
    assert body["instance"] == "/api/v1/codes/"


def test_a_request_django_refuses_under_api_is_problem_details(cms, monkeypatch, settings):
    settings.DEBUG = False

    def suspicious(self, request):
        raise SuspiciousOperation("secret detail of the refusal")

    monkeypatch.setattr(views.CodesView, "get", suspicious)
    response = cms.get("/api/v1/codes/")
    problem(response, 400, "validation-error")
    assert "secret detail" not in response.content.decode()


@pytest.mark.parametrize(
    ("handler", "status"), [(server_error, 500), (bad_request, 400), (permission_denied, 403)]
)
def test_django_error_handlers_answer_problem_details_only_under_api(handler, status):
    factory = RequestFactory()
    args = () if handler is server_error else (Exception("x"),)
    api = handler(factory.get("/api/v1/anything/"), *args)
    assert (api.status_code, api["Content-Type"]) == (status, PROBLEM)
    page = handler(factory.get("/register/"), *args)
    assert page.status_code == status
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/people/abc/", "/api/v2/people/", "/api/v1/people"]
)
def test_any_method_to_an_unknown_api_address_is_a_problem_details_404_before_csrf(
    method, path, lead
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(lead)  # a session cookie, and no CSRF token: still a 404, not a 403
    body = {} if method in ("get", "options") else {"data": "{}"}
    response = getattr(browser, method)(path, content_type="application/json", **body)
    problem(response, 404, "not-found")


@pytest.mark.parametrize("method", ["options", "trace", "delete"])
@pytest.mark.parametrize(
    "path", ["/api/v1/people/?ordering=x", "/api/v1/people/by-reference/A-1/", "/api/v1/codes/"]
)
def test_a_method_an_endpoint_does_not_answer_is_a_problem_details_405(cms, method, path):
    response = cms.generic(method.upper(), path)
    problem(response, 405, "method-not-allowed")
    assert method.upper() not in response["Allow"].split(", ")


# --- Unknown body fields ----------------------------------------------------------------------


def _write(cms, person, nithsdale, action: str, extra: dict):
    """One write of each kind the API has, with `extra` fields added to a valid body."""
    detail = f"/api/v1/people/{person.pk}/"
    match = {"HTTP_IF_MATCH": f'"{person.version}"'}
    whole = new_person(nithsdale, "CMS-9") | extra
    today = timezone.localdate().isoformat()
    return {
        "create": lambda: cms.post("/api/v1/people/", whole, format="json"),
        "update": lambda: cms.put(detail, whole, format="json", **match),
        "partial_update": lambda: cms.patch(detail, extra, format="json", **match),
        "upsert": lambda: cms.put("/api/v1/people/by-reference/CMS-9/", whole, format="json"),
        "bulk": lambda: cms.post("/api/v1/people/bulk/", {"people": [whole]}, format="json"),
        "bulk_envelope": lambda: cms.post(
            "/api/v1/people/bulk/",
            {"people": [new_person(nithsdale, "CMS-9")], **extra},
            format="json",
        ),
        "status_change": lambda: cms.post(
            f"{detail}status-changes/",
            {"category": "urgent", "reason": "Placement ending", **extra},
            format="json",
            **match,
        ),
        "review": lambda: cms.post(
            f"{detail}reviews/",
            {"review_date": today, "attendees": "Family", "outcome": "Stable", **extra},
            format="json",
            **match,
        ),
    }[action]()


@pytest.mark.parametrize(
    "action",
    [
        "create",
        "update",
        "partial_update",
        "upsert",
        "bulk",
        "bulk_envelope",
        "status_change",
        "review",
    ],
)
def test_a_misspelt_body_field_is_refused_naming_it_and_nothing_changes(
    cms, person, nithsdale, action
):
    response = _write(cms, person, nithsdale, action, {"keyworker_name": "Iain Ross"})
    body = problem(response, 400, "validation-error")
    errors = body["errors"]["0"] if action == "bulk" else body["errors"]
    assert list(errors) == ["keyworker_name"]
    assert "Unknown field" in errors["keyworker_name"][0]
    person.refresh_from_db()
    assert person.version == 1
    assert not Person.objects.filter(local_reference="CMS-9").exists()


def test_unknown_fields_are_named_alongside_other_errors(cms, nithsdale):
    body = new_person(nithsdale, sex="unknown", keyworker_name="X")
    errors = problem(cms.post("/api/v1/people/", body, format="json"), 400)["errors"]
    assert {"sex", "keyworker_name"} <= set(errors)


def test_a_person_read_and_sent_back_whole_is_accepted_read_only_fields_and_all(cms, person):
    body = cms.get(f"/api/v1/people/{person.pk}/").json()
    body["given_name"] = "Ailsa"
    response = cms.put(f"/api/v1/people/{person.pk}/", body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    assert response.json()["given_name"] == "Ailsa"


def test_an_upsert_body_may_repeat_its_reference_but_not_name_another(cms, nithsdale):
    url = "/api/v1/people/by-reference/CMS-7/"
    other = cms.put(url, new_person(nithsdale, "CMS-8"), format="json")
    assert "local_reference" in problem(other, 400)["errors"]
    same = cms.put(url, new_person(nithsdale, "CMS-7"), format="json")
    assert same.status_code == 201, same.json()


# --- Query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/people/?ordering=family_name", "ordering"),
        ("/api/v1/people/?page=abc", "page"),
        ("/api/v1/people/?keyworker=Ross", "keyworker"),
        ("/api/v1/people/{id}/?category=urgent", "category"),
        ("/api/v1/people/{id}/status-changes/?kind=status", "kind"),
        ("/api/v1/localities/?page_size=10", "page_size"),
        ("/api/v1/codes/?lang=gd", "lang"),
    ],
)
def test_an_unknown_query_parameter_is_refused_naming_it(cms, person, url, name):
    response = cms.get(url.format(id=person.pk))
    errors = problem(response, 400)["errors"]
    assert list(errors) == [name]
    assert "Unknown query parameter" in errors[name][0]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("on_register=maybe", "on_register"),
        ("review_overdue=yes", "review_overdue"),
        ("on_register=", "on_register"),
        ("category=nope", "category"),
        ("category=", "category"),
        ("risk_rating=purple", "risk_rating"),
        ("locality=abc", "locality"),
        ("locality=1.5", "locality"),
        ("page_size=abc", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-13-01T00:00:00Z", "updated_since"),
        ("updated_since=2026-01-01T00:00:00%2B16:00", "updated_since"),
        ("updated_since=2026-01-01T00:00:00-16:00", "updated_since"),
        ("updated_since=2026-01-01T00:00:00%2B23:59", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B01:00", "updated_since"),
    ],
)
def test_an_invalid_filter_value_is_refused_naming_it(cms, person, query, name):
    response = cms.get(f"/api/v1/people/?{query}")
    assert name in problem(response, 400)["errors"]


def test_updated_since_reads_any_offset_postgresql_can(cms, nithsdale):
    recent = PersonFactory(locality=nithsdale)
    for offset in ("+15:59", "-15:59", "+00:00", "Z"):
        since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S") + offset
        response = cms.get("/api/v1/people/", {"updated_since": since})
        assert response.status_code == 200, (offset, response.json())
    listing = cms.get("/api/v1/people/", {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert [p["id"] for p in listing["results"]] == [recent.pk]


def test_on_register_false_lists_only_leavers(cms, nithsdale):
    PersonFactory(locality=nithsdale)
    leaver = PersonFactory(
        locality=nithsdale, date_left=dt.date(2025, 1, 1), leaving_reason="settled_in_community"
    )
    for word in ("false", "False", "0"):
        listing = cms.get("/api/v1/people/", {"on_register": word}).json()
        assert [p["id"] for p in listing["results"]] == [leaver.pk]


def test_an_invalid_cursor_is_a_400_naming_it(cms, person):
    response = cms.get("/api/v1/people/?cursor=not-a-cursor")
    assert "cursor" in problem(response, 400)["errors"]
    history = cms.get(f"/api/v1/people/{person.pk}/status-changes/?cursor=%%%")
    assert "cursor" in problem(history, 400)["errors"]


# --- If-Match ---------------------------------------------------------------------------------


def test_a_malformed_if_match_is_its_own_problem_and_a_stale_one_is_412(cms, person):
    url = f"/api/v1/people/{person.pk}/"
    malformed = cms.patch(url, {"given_name": "Ailsa"}, format="json", HTTP_IF_MATCH="yesterday")
    body = problem(malformed, 400, "if-match-malformed")
    assert body["title"] == "If-Match is malformed"
    stale = cms.patch(url, {"given_name": "Ailsa"}, format="json", HTTP_IF_MATCH='"7"')
    problem(stale, 412, "stale-version")
    person.refresh_from_db()
    assert person.version == 1


def test_an_unauthenticated_call_with_unknown_parameters_is_still_401():
    response = APIClient().get("/api/v1/people/?ordering=x")
    problem(response, 401, "not-authenticated")
