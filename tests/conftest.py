import pytest
from django.db import connection

from tests.factories import (
    AuthorityFactory,
    LocalityFactory,
    PersonFactory,
    UserFactory,
    make_member,
)


def _set_scope(value: str, *, local: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('dsr.scope', %s, %s)", [value, local])


@pytest.fixture(autouse=True)
def _setup_in_system_scope(request):
    """Tests arrange their data in the system scope, as seeding does.

    Requests made through the test client run in the signed-in user's scope (the middleware sets
    it and restores this one afterwards), so row-level security still applies to what they do.
    """
    marker = request.node.get_closest_marker("django_db")
    wants_db = marker is not None or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not wants_db:
        yield
        return
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction", False))
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    _set_scope("system", local=False)
    yield
    if transactional:
        _set_scope("", local=False)


@pytest.fixture
def authority():
    return AuthorityFactory(code="S37000006", name="Dumfries and Galloway")


@pytest.fixture
def other_authority():
    return AuthorityFactory(code="S37000012", name="Edinburgh")


@pytest.fixture
def nithsdale(authority):
    return LocalityFactory(authority=authority, name="Nithsdale")


@pytest.fixture
def stewartry(authority):
    return LocalityFactory(authority=authority, name="Stewartry")


@pytest.fixture
def leith(other_authority):
    return LocalityFactory(authority=other_authority, name="Leith")


@pytest.fixture
def lead(authority):
    return make_member(authority, "lead", email="lead@dg.example.scot")


@pytest.fixture
def practitioner(authority, nithsdale):
    return make_member(authority, "practitioner", [nithsdale], email="prac@dg.example.scot")


@pytest.fixture
def viewer(authority, nithsdale):
    return make_member(authority, "viewer", [nithsdale], email="viewer@dg.example.scot")


@pytest.fixture
def analyst():
    return UserFactory(email="analyst@phs.example.scot", is_national_analyst=True)


@pytest.fixture
def other_lead(other_authority):
    return make_member(other_authority, "lead", email="lead@edinburgh.example.scot")


@pytest.fixture
def no_role_user():
    return UserFactory(email="nobody@example.scot")


@pytest.fixture
def person(nithsdale):
    return PersonFactory(locality=nithsdale)


@pytest.fixture
def other_person(leith):
    return PersonFactory(locality=leith)
