import uuid

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import Client, override_settings

from tests.factories import (
    AuthorityFactory,
    LocalityFactory,
    PersonFactory,
    UserFactory,
    make_member,
    pass_second_factor,
)


def _set_scope(value: str, *, local: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('dsr.scope', %s, %s)", [value, local])


@receiver(connection_created, dispatch_uid="dsr_tests_allow_truncate")
def _allow_flush(sender, connection, **kwargs):
    """Django empties the tables after a transactional test with TRUNCATE, which tenant, history
    and audit tables refuse unless this session setting says so (dsr/rls.py). Every connection of
    the test run gets it (workers' too); the tests of the refusal switch it off for themselves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('dsr.allow_truncate', 'on', false)")


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


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests hash with a fast hasher: each user a test makes would otherwise spend a second of CPU
    on the production hasher's iterations. Checking a password works the same with either."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Each test its own cache namespace in the shared Redis: throttle counters are keyed by
    database ids, which repeat from one test database (or run) to the next."""
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture(autouse=True)
def _force_login_completes_the_second_factor(monkeypatch):
    """`client.force_login(user)` signs in as the sign-in page would end: password and, for the
    roles that need it, a verified authenticator app. Tests of the second factor itself use
    `sign_in_with_password_only` or the real sign-in pages."""
    force_login = Client.force_login

    def force_login_with_second_factor(self, user, backend=None):
        force_login(self, user, backend)
        pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)
    monkeypatch.setattr(Client, "sign_in_with_password_only", force_login, raising=False)


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
