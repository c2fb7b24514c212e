"""An endpoint marked `@deprecated(...)` carries `Deprecation`, `Sunset` and `Link` on its answers
(RFC 9745, RFC 8594) and is marked deprecated in the schema; other endpoints carry none."""

import datetime as dt

import pytest
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.response import Response

from registers.api.headers import deprecated
from registers.api.views import ApiClientView

pytestmark = pytest.mark.django_db


@deprecated(dt.date(2027, 1, 4), sunset_on=dt.date(2027, 7, 5), link="/help/api-changes/")
class OldCodes(ApiClientView):
    def get(self, request: Request) -> Response:
        return Response({"codes": []})


urlpatterns = [
    path("api/v1/old-codes/", OldCodes.as_view(), name="old-codes"),
    path("api/v1/", include("registers.api.urls")),
]


@pytest.mark.urls(__name__)
def test_a_deprecated_endpoint_answers_with_deprecation_sunset_and_link(cms):
    response = cms.get("/api/v1/old-codes/")
    assert response.status_code == 200
    assert response["Deprecation"] == "@1799020800"  # 2027-01-04T00:00:00Z
    assert response["Sunset"] == "Mon, 05 Jul 2027 00:00:00 GMT"
    assert response["Link"] == (
        '</help/api-changes/>; rel="deprecation"; type="text/html", '
        '</help/api-changes/>; rel="sunset"; type="text/html"'
    )


@pytest.mark.urls(__name__)
def test_errors_from_a_deprecated_endpoint_carry_the_headers_too(client):
    response = client.get("/api/v1/old-codes/")
    assert response.status_code == 401
    assert "Deprecation" in response and "Sunset" in response


def test_endpoints_not_marked_carry_no_deprecation_headers(cms):
    response = cms.get("/api/v1/codes/")
    assert response.status_code == 200
    assert "Deprecation" not in response and "Sunset" not in response


@pytest.mark.urls(__name__)
def test_the_schema_marks_a_deprecated_endpoint_and_documents_its_headers():
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/old-codes/"]["get"]
    assert operation["deprecated"] is True
    assert {"Deprecation", "Sunset", "Link"} <= set(operation["responses"]["200"]["headers"])
    assert "deprecated" not in schema["paths"]["/api/v1/codes/"]["get"]
