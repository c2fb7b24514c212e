"""The OpenAPI schema tells the truth a generated client relies on: it is valid OpenAPI, absent
values are declared null, every parameter has the type it is parsed as, names are readable, and
every answer is described with an example that matches its own schema."""

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer
    from rest_framework.utils import json

    with django_db_blocker.unblock():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    # Through JSON, as a client reads it (no lazy strings or tuples).
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


def operations(openapi):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_passes_openapi_spec_validator(openapi):
    validate(openapi)


def test_info_names_the_servers_and_a_contact(openapi):
    assert openapi["servers"][0]["url"].startswith("http")
    contact = openapi["info"]["contact"]
    assert contact["name"]
    assert "@" in contact["email"]


def test_a_person_is_person_id_in_every_path(openapi):
    assert not [path for path in openapi["paths"] if "{id}" in path or "{pk}" in path]
    assert "/api/v1/people/{person_id}/" in openapi["paths"]


def test_absent_codes_in_history_are_declared_nullable(openapi):
    change = openapi["components"]["schemas"]["StatusChange"]["properties"]
    for name in (
        "old_category",
        "old_urgent_reason",
        "new_urgent_reason",
        "old_risk_rating",
        "new_risk_rating",
    ):
        assert change[name]["nullable"] is True, name
        assert {"$ref": "#/components/schemas/NullEnum"} in change[name]["oneOf"], name
    person = openapi["components"]["schemas"]["Person"]["properties"]
    assert person["urgent_reason"]["nullable"] is True
    assert person["risk_rating"]["nullable"] is True


def test_list_filters_are_typed_as_they_are_parsed(openapi):
    parameters = {
        p["name"]: p["schema"]
        for p in openapi["paths"]["/api/v1/people/"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert parameters["locality"]["type"] == "integer"
    assert parameters["on_register"]["type"] == "boolean"
    assert parameters["review_overdue"]["type"] == "boolean"
    assert parameters["updated_since"] == {"type": "string", "format": "date-time"}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert parameters["risk_rating"]["type"] == "array"
    assert set(parameters["category"]["enum"]) == {
        "urgent",
        "enhanced_monitoring",
        "appropriate_out_of_area",
    }


def test_bulk_items_are_typed_and_bodies_have_readable_names(openapi):
    schemas = openapi["components"]["schemas"]
    bulk = schemas["BulkRequestRequest"]["properties"]["people"]["items"]
    assert bulk == {"$ref": "#/components/schemas/BulkPersonRequest"}
    assert "version" in schemas["BulkPersonRequest"]["properties"]
    upsert = openapi["paths"]["/api/v1/people/by-reference/{reference}/"]["put"]
    ref = upsert["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/PersonUpsertRequest"
    for path, method, operation in operations(openapi):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = body.get("schema", {}).get("$ref", "")
        if method != "patch":
            assert "/Patched" not in ref, (method, path, ref)


def _validator(openapi, schema):
    # The components beside the schema, so its "#/components/..." references resolve.
    return OAS30Validator({**schema, "components": openapi["components"]})


def test_every_success_answer_is_described_with_an_example_matching_its_schema(openapi):
    for path, method, operation in operations(openapi):
        for code, response in operation["responses"].items():
            if not code.startswith(("2", "3")):
                continue
            assert response["description"], (method, path, code)
            for media in response.get("content", {}).values():
                assert media.get("examples"), (method, path, code)
                for example in media["examples"].values():
                    _validator(openapi, media["schema"]).validate(example["value"])


def test_every_error_example_is_problem_details_at_an_address_of_its_own_path(openapi):
    for path, method, operation in operations(openapi):
        prefix = path.split("{", 1)[0]
        for code in ("400", "401", "403", "404", "429", "500"):
            media = operation["responses"][code]["content"]["application/problem+json"]
            for example in media["examples"].values():
                value = example["value"]
                assert value["status"] == int(code)
                assert value["instance"].startswith(prefix), (method, path, value["instance"])
                assert "{" not in value["instance"]
                _validator(openapi, media["schema"]).validate(value)


def test_a_malformed_if_match_is_documented_as_its_own_problem_type(openapi):
    patch = openapi["paths"]["/api/v1/people/{person_id}/"]["patch"]
    examples = patch["responses"]["400"]["content"]["application/problem+json"]["examples"]
    types = {example["value"]["type"] for example in examples.values()}
    assert "urn:dsr:problem:if-match-malformed" in types
    assert "urn:dsr:problem:validation-error" in types
