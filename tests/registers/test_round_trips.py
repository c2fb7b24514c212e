"""The busiest pages make few round trips to the database, whatever the register's size.

The requests run as in production, each in its own transaction (these tests do not wrap them in
one), and every statement counts, the scope's `set_config` calls included; transaction control
(BEGIN, COMMIT, savepoints) aside.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registers import access
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

REGISTER_LIST_STATEMENTS = 9
QUICK_UPDATE_STATEMENTS = 13


@pytest.fixture
def register(nithsdale):
    return PersonFactory.create_batch(30, locality=nithsdale)


def _statements(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    sent = [query["sql"] for query in captured.captured_queries]
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    return response, [sql for sql in sent if not sql.startswith(control)]


def test_a_practitioners_register_list_takes_at_most_nine_statements(
    client, practitioner, register
):
    client.force_login(practitioner)
    client.get("/register/")  # the session's first page settles the current authority
    response, statements = _statements(lambda: client.get("/register/"))
    assert response.status_code == 200
    assert len(statements) <= REGISTER_LIST_STATEMENTS, "\n".join(statements)


@pytest.mark.parametrize("query", ["", "?page=2", "?sort=review", "?sort=-name&page=3"])
def test_the_register_lists_page_of_ids_is_read_from_the_person_table_alone(
    client, practitioner, register, settings, query
):
    # A join (the locality's name, which only the page's rows need) made the planner sort the
    # whole register for each page instead of walking the sort's index in order.
    settings.DSR_PAGE_SIZE = 10
    client.force_login(practitioner)
    client.get("/register/")
    response, statements = _statements(lambda: client.get(f"/register/{query}"))
    assert response.status_code == 200 and response.context["page"].object_list
    ids = [sql for sql in statements if sql.startswith('SELECT "registers_person"."id" AS "pk"')]
    ordered = [sql for sql in ids if "ORDER BY" in sql and "LIMIT" in sql]
    assert len(ordered) == 1, "\n".join(statements)
    assert " JOIN " not in ordered[0], ordered[0]
    rows = [sql for sql in ids if '"registers_locality"."name"' in sql]
    assert len(rows) == 1 and " JOIN " in rows[0] and "ORDER BY" not in rows[0]


def test_the_scope_is_set_in_one_statement_before_the_requests_own(client, practitioner, register):
    client.force_login(practitioner)
    client.get("/register/")
    _, statements = _statements(lambda: client.get("/register/"))
    binding = ("set_config", "dsr_bind_member_authorities")
    # One statement writes the sealed settings, one binds the member's authorities.
    assert sum(any(b in sql for b in binding) for sql in statements) == 2, "\n".join(statements)


def _known_to_have_no_webhooks(authority_id: int) -> None:
    """As after any change to the authority's people in the last minute (registers.webhooks):
    whether it has a webhook is known without a query. The first change costs one statement more
    (test_whether_an_authority_has_webhooks_is_asked_once_then_known)."""
    from registers import webhooks

    with access.using_scope(access.authority_task_scope(authority_id)):
        assert webhooks._has_webhooks(authority_id) is False


def test_a_quick_status_update_from_the_list_takes_at_most_thirteen_statements(
    client, practitioner, register
):
    person = register[0]
    client.force_login(practitioner)
    client.get("/register/")
    _known_to_have_no_webhooks(person.authority_id)
    response, statements = _statements(
        lambda: client.post(
            f"/register/people/{person.pk}/quick-status/",
            {
                "from": "list",
                "status": "enhanced_monitoring",
                "risk_rating": "red",
                "reason": "Carer unwell",
                "version": person.version,
            },
            HTTP_HX_REQUEST="true",
        )
    )
    assert response.status_code == 200
    assert "Updated" in response.content.decode()
    assert len(statements) <= QUICK_UPDATE_STATEMENTS, "\n".join(statements)


def test_a_quick_status_update_without_javascript_takes_at_most_thirteen_statements(
    client, practitioner, register
):
    person = register[0]
    client.force_login(practitioner)
    client.get("/register/")
    _known_to_have_no_webhooks(person.authority_id)
    response, statements = _statements(
        lambda: client.post(
            f"/register/people/{person.pk}/quick-status/",
            {
                "from": "list",
                "status": "enhanced_monitoring",
                "risk_rating": "amber",
                "reason": "Rising risk",
                "version": person.version,
            },
        )
    )
    assert response.status_code == 302
    assert len(statements) <= QUICK_UPDATE_STATEMENTS, "\n".join(statements)
