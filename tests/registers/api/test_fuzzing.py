"""Schemathesis, in process (WSGI), with every check it has: for each operation, requests built
from the schema, valid and invalid, must never meet a server error, and every answer must be a
documented status, content type, header set and shape. Bounded: a few examples per operation."""

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from accounts.services import create_api_client
from tests.factories import PersonFactory

# The schema cannot say that a locality id must be one of the caller's, a version current or a
# reference unused: such well-formed requests are refused with 400, 409, 412 or 428, by rule.
MAX_EXAMPLES = 15
ACCEPTED_BY_RULE = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "428", "429"]


@pytest.fixture
def _requests_in_the_test_transaction():
    """In process, each request ends by closing 'old' connections, which would end the test's
    transaction: as Django's test client does, the signal is held off while the test runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _schema():
    """The schema as generated (no request, no database: this runs at collection), served to
    Schemathesis with the site's WSGI application to call in process."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    raw = json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))
    config = SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_BY_RULE}},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {
                # Every boundary case and undeclared method of every operation: it passes, but
                # takes about a minute, so it runs only when asked (DSR_FUZZ_COVERAGE=1).
                "coverage": {"enabled": os.environ.get("DSR_FUZZ_COVERAGE") == "1"},
                "stateful": {"enabled": False},
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(raw, config=config)
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture
def world(db, _requests_in_the_test_transaction, lead, authority, nithsdale):
    person = PersonFactory(locality=nithsdale)
    _, token = create_api_client(lead, authority, name="Fuzzer", scopes=["read", "write"])
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "path": {
            "person_id": person.pk,
            "authority_id": authority.pk,
            "authority_code": authority.code,
        },
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_schema_under_every_check(case, world):
    # Valid cases reach real records (the person, the caller's authority), not only 404s.
    if case.meta is not None and case.meta.generation.mode.is_positive:
        for name, value in world["path"].items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    case.call_and_validate(headers=world["headers"])
