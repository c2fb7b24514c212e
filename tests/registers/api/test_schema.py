"""The OpenAPI schema, its documentation pages, and schema-driven fuzzing of the live API."""

import os
import subprocess
import sys

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import create_api_client
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/v1/people/",
    "/api/v1/people/{person_id}/",
    "/api/v1/people/by-reference/{reference}/",
    "/api/v1/people/bulk/",
    "/api/v1/people/{person_id}/status-changes/",
    "/api/v1/people/{person_id}/reviews/",
    "/api/v1/people/{person_id}/leave/",
    "/api/v1/people/{person_id}/transfers/",
    "/api/v1/localities/",
    "/api/v1/codes/",
    "/api/v1/changes/",
    "/api/v1/me/",
    "/api/v1/authorities/{authority_id}/returns/",
    "/api/v1/authorities/{authority_id}/returns/{census_date}/",
    "/api/v1/authorities/by-code/{authority_code}/returns/",
    "/api/v1/authorities/by-code/{authority_code}/returns/{census_date}/",
    "/api/v1/authorities/{authority_id}/localities/",
    "/api/v1/authorities/{authority_id}/localities/{locality_id}/",
    "/api/v1/authorities/{authority_id}/localities/{locality_id}/retire/",
    "/api/v1/authorities/{authority_id}/localities/{locality_id}/move-people/",
}


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_openapi_3_and_covers_every_endpoint(openapi):
    assert openapi["openapi"].startswith("3.")
    assert set(openapi["paths"]) == API_PATHS
    assert openapi["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_every_operation_documents_its_errors_as_problem_details_with_examples(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "401", "403", "404", "429"):
                content = responses[code]["content"]["application/problem+json"]
                assert content["schema"]["$ref"] == "#/components/schemas/Problem"
                assert content["examples"], (method, path, code)
            assert "Retry-After" in responses["429"]["headers"]
            if method in ("put", "patch") and path.endswith("{person_id}/"):
                assert {"412", "428"} <= set(responses)
                assert any(p["name"] == "If-Match" for p in operation["parameters"])


def test_person_responses_document_their_etag(openapi):
    read = openapi["paths"]["/api/v1/people/{person_id}/"]["get"]["responses"]["200"]
    assert read["headers"]["ETag"]["required"] is True


def test_the_change_feed_is_typed_with_an_example(openapi):
    get = openapi["paths"]["/api/v1/changes/"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"after", "limit"}
    ok = get["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"] == "#/components/schemas/ChangePage"
    assert ok["examples"]
    change = openapi["components"]["schemas"]["Change"]
    assert set(change["properties"]) == {
        "position",
        "kind",
        "person_id",
        "reference",
        "occurred_at",
    }


def test_person_reads_document_if_none_match_and_304_with_the_etag(openapi):
    for path in ("/api/v1/people/{person_id}/", "/api/v1/people/by-reference/{reference}/"):
        read = openapi["paths"][path]["get"]
        assert any(p["name"] == "If-None-Match" for p in read["parameters"])
        assert read["responses"]["304"]["headers"]["ETag"]["required"] is True
        assert "content" not in read["responses"]["304"]


def test_every_answer_documents_the_rate_limit_headers(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                assert {"RateLimit", "RateLimit-Policy"} <= set(response["headers"]), (
                    method,
                    path,
                    code,
                )


def test_leaving_and_transfers_need_if_match_in_the_schema(openapi):
    for path in ("/api/v1/people/{person_id}/leave/", "/api/v1/people/{person_id}/transfers/"):
        post = openapi["paths"][path]["post"]
        assert any(p["name"] == "If-Match" and p["required"] for p in post["parameters"])
        assert {"400", "404", "412", "428"} <= set(post["responses"])


def test_every_api_client_post_documents_idempotency_key_and_422(openapi):
    posts = {
        path: operations["post"]
        for path, operations in openapi["paths"].items()
        if "post" in operations and "/localities/" not in path  # the lead's, by session
    }
    assert {"/api/v1/people/", "/api/v1/people/bulk/", "/api/v1/people/{person_id}/leave/"} <= set(
        posts
    )
    for path, post in posts.items():
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"]), path
        assert "422" in post["responses"], path


def test_me_is_typed_in_the_schema(openapi):
    me = openapi["components"]["schemas"]["Me"]
    assert set(me["properties"]) == {"client", "scopes", "authority", "rate_limit"}


def test_the_documentation_page_loads_its_assets_from_this_site(client):
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html
    assert "unpkg" not in html


def test_the_browsable_api_is_off_in_production():
    env = {
        **os.environ,
        "DSR_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "dsr.example.scot",
        "DJANGO_SETTINGS_MODULE": "dsr.settings",
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "BrowsableAPIRenderer" not in out
    assert "JSONRenderer" in out


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.django_db(transaction=True)
def test_fuzzing_the_live_api_finds_no_server_error_and_no_response_off_schema(
    live_server, lead, authority, nithsdale, leith
):
    """Schemathesis generates requests from the schema, valid and invalid, against the live
    server (its own thread and database connection, so row-level security is in play) with a
    real token; every answer must be a documented status, shape, content type and headers."""
    person = PersonFactory(locality=nithsdale)
    _, token = create_api_client(lead, authority, name="Fuzzer", scopes=["read", "write"])
    raw = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    auth = {"Authorization": f"Bearer {token}"}
    known_ids = {"id": person.pk, "person_id": person.pk, "authority_id": authority.pk}
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        own = {k: v for k, v in known_ids.items() if k in operation.path}
        plans = [
            (GenerationMode.POSITIVE, own or None, 5),
            (GenerationMode.POSITIVE, None, 2),
            (GenerationMode.NEGATIVE, own or None, 3),
        ]
        for mode, path_parameters, examples in plans:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                nonlocal calls
                calls += 1
                headers = {**auth, **(case.headers or {})}
                headers["Authorization"] = auth["Authorization"]
                case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

            run()
    assert calls > 50
