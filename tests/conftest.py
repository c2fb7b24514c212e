import uuid

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import Client, override_settings

from dsr.celery import app as celery_app
from tests import db_roles
from tests.factories import (
    AuthorityFactory,
    LocalityFactory,
    PersonFactory,
    UserFactory,
    make_member,
    pass_second_factor,
)

# The real OpenID Connect provider and its configuration (tests/oidc/).
from tests.oidc import identity_provider, organisation  # noqa: F401

# The suite logs in as the owner role: it creates the test database and runs the migrations, and
# it flushes the tables after a transactional test (TRUNCATE is the owner's alone). Everything else
# acts as another role, set on the session: tests arrange their data as the cross-tenant role
# `dsr_system` (as seeding does, in the worker); requests, tasks and services act as the runtime
# role, because every scope they enter names it (DSR_DB_TENANT_ROLE). So what the application does
# in a test, it does with the runtime role's privileges. tests/test_database_roles.py also logs in
# as the runtime and worker roles themselves.
RUNTIME_ROLE = "dsr_app"
# The suite's Celery tasks go to a queue of this run's own, so that a service running on the same
# Redis (`make run`) and the suite never take each other's tasks.
# Both of the service's queues are that one queue, unless a test separates them.
celery_app.conf.task_default_queue = f"dsr-tests-{uuid.uuid4().hex[:12]}"
settings.DSR_QUEUE_INTERACTIVE = settings.DSR_QUEUE_HEAVY = celery_app.conf.task_default_queue
settings.DATABASES["default"].update(db_roles.owner_credentials())
settings.DSR_DB_TENANT_ROLE = RUNTIME_ROLE
_act_as_runtime = False


def _set_role(role: str, *, conn=connection) -> None:
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('role', %s, false)", [role])


@receiver(connection_created, dispatch_uid="dsr_tests_runtime_role")
def _new_connections_act_as_the_runtime_role(sender, connection, **kwargs):
    """Connections opened by the live server's and the Celery worker's threads too."""
    if _act_as_runtime:
        _set_role(RUNTIME_ROLE, conn=connection)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """After the owner has made the test database, every new connection acts as the runtime
    role; the owner drops the database at the end."""
    global _act_as_runtime
    connections.close_all()
    _act_as_runtime = True
    yield
    _act_as_runtime = False
    connections.close_all()


@pytest.fixture(autouse=True)
def _arrange_as_the_system_role(request):
    """Tests arrange their data as the cross-tenant role, as seeding does.

    Requests made through the test client run in the signed-in user's scope as the runtime role
    (the middleware enters it and restores this role afterwards), so row-level security and the
    runtime role's grants still apply to what they do.
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
    _set_role(settings.DSR_DB_SYSTEM_ROLE)

    yield
    if transactional:
        # Django's flush after the test truncates every table: the owner's privilege.
        _set_role("none")


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


@pytest.fixture
def own_redis():
    """A Redis of this test's own (tests/faults.py) that it may stop or hang."""
    from tests.faults import OwnRedis

    server = OwnRedis().start()
    yield server
    server.stop()
