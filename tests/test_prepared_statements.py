"""A request's fixed statements are prepared once per connection (dsr/prepared.py): run again,
they are not parsed or planned anew, still bound by the row-level policies of the scope they run
in, logged and counted as Django's own, and their errors are Django's."""

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext

from dsr import prepared
from registers import access, selectors
from tests.factories import long_gone

pytestmark = pytest.mark.django_db


def prepared_statements() -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: their text, and how often each ran a generic plan
    and a custom one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {text: (generic, custom) for text, generic, custom in cursor.fetchall()}


def runs(statements: dict[str, tuple[int, int]], beginning: str) -> int:
    (found,) = [sum(plans) for text, plans in statements.items() if text.startswith(beginning)]
    return found


def test_the_session_and_scope_statements_are_prepared_once_and_run_again(client, practitioner):
    client.force_login(practitioner)
    assert client.get("/help/").status_code == 200
    before = prepared_statements()
    for _ in range(3):
        assert client.get("/help/").status_code == 200
    after = prepared_statements()

    assert after.keys() == before.keys()  # nothing new prepared
    for beginning in (
        'SELECT "django_session"."session_key"',
        "SELECT set_config('role', $1, true), set_config('dsr.scope', $2, true)",
        "SELECT dsr_bind_member_authorities()",
        '(SELECT "accounts_membership"."authority_id"',
    ):
        assert runs(after, beginning) == runs(before, beginning) + 3, beginning


def test_the_person_pages_reads_are_prepared(client, practitioner, person):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{person.pk}/").status_code == 200
    statements = prepared_statements()
    for beginning in (
        'SELECT "registers_person"."id"',
        '\nSELECT "l"."id"',
        '\nSELECT h."id"',
        '\nSELECT r."id"',
        '\nSELECT t."id"',
        'INSERT INTO "registers_auditevent"',
    ):
        assert runs(statements, beginning) >= 1, beginning


def test_a_prepared_read_keeps_to_the_scope_it_runs_in(practitioner, other_lead, other_person):
    """The same prepared statement, run in one authority's scope then another's: the row-level
    policies are applied at each run, not fixed when it was planned."""
    for _ in range(7):  # past the runs after which PostgreSQL may keep a generic plan
        with access.request_scope(other_lead):
            assert access.person_for_read(other_lead, other_person.pk) == other_person
    name = _name('FROM "registers_person"')
    arguments = [other_person.pk, [other_person.authority_id], [other_person.locality_id]]
    with access.request_scope(other_lead), connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name} (%s, %s, %s)", arguments)
        assert len(cursor.fetchall()) == 1
    # The practitioner's own scope, asking for the other authority's person by its own ids.
    with access.request_scope(practitioner), connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name} (%s, %s, %s)", arguments)
        assert cursor.fetchall() == []


def _name(fragment: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        (name,) = [name for name, text in cursor.fetchall() if fragment in text]
    return name


def test_a_prepared_statement_is_logged_with_its_values_as_django_logs_its_own():
    sql, params = "SELECT %s::int + %s::int, %s::text", [1, 2, "it's"]
    with CaptureQueriesContext(connection) as captured, prepared.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchone() == (3, "it's")
    assert [q["sql"] for q in captured.captured_queries] == [
        connection.ops.compose_sql(sql, params)
    ]


def test_a_prepared_statements_error_is_djangos(settings):
    with pytest.raises(DataError), prepared.cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int", [0])


def test_prepared_statements_can_be_turned_off(settings, client, practitioner):
    settings.DSR_DB_PREPARED_STATEMENTS = False
    client.force_login(practitioner)
    before = prepared_statements()
    assert client.get("/help/").status_code == 200
    assert prepared_statements() == before
    assert type(prepared.cursor().cursor) is type(connection.cursor().cursor)


def test_the_person_pages_prepared_raw_reads_find_what_the_orm_finds(lead, nithsdale):
    person = long_gone(lead, nithsdale)
    with access.request_scope(lead):
        page = selectors.person_page(lead, person.pk)
        assert len(page.history) > 2 and page.reviews
        assert [c.pk for c in page.history] == list(
            person.status_changes.order_by("-effective_date", "-changed_at", "-id").values_list(
                "pk", flat=True
            )
        )
        assert page.history[0].changes == person.status_changes.get(pk=page.history[0].pk).changes
        assert [r.pk for r in page.reviews] == list(
            person.reviews.order_by("-review_date", "-id").values_list("pk", flat=True)
        )
