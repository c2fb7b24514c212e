"""Every URL that names an object, asked by every role: found from the URL configuration.

The URL patterns are walked with `get_resolver()`, never listed here, so a new page is checked
the day it is added. Each URL parameter is filled by a builder in `BUILDERS`, keyed by the
parameter's name (`pk` by the word before it: `people/<pk>`, `jobs/<pk>`, ...); a parameter no
builder knows fails `test_every_url_parameter_has_a_builder`, so no page escapes the check.

For every URL, role and method (GET and POST) the answers must follow the design:
- nothing answers 500;
- a role the object is out of scope for gets exactly the answer an object that does not exist
  gets, and for a signed-in member of staff (or an API client on the API) that is 404 (or 405
  when the method is refused before any lookup): never a 403 that confirms the object exists;
- a role that may see the object but lacks the role the page needs (for example a practitioner on
  the lead's pages) is refused with 403 or 404, again the same answer as for a missing object;
- a viewer is refused (403 or 404) on every page that changes something;
- at least one role the object belongs to gets through, so the refusals above are about a real,
  reachable object.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import create_api_client
from registers import services
from registers.models import ImportBatch
from reporting.models import AuthorityReturn, JobKind, JobStatus, ReportJob, ReturnStatus
from tests.factories import (
    AuthorityFactory,
    LocalityFactory,
    PersonFactory,
    UserFactory,
    make_member,
    pass_second_factor,
)

pytestmark = pytest.mark.django_db

CENSUS = dt.date(2025, 9, 25)
MISSING_ID = "987654321"

# Signed-in members of staff (browser sessions), API clients (bearer tokens) and nobody.
STAFF = (
    "lead",
    "practitioner",
    "viewer",
    "practitioner_elsewhere",
    "analyst",
    "other_lead",
    "receiving_lead",
)
API_CLIENTS = ("api_client", "other_api_client")
ROLES = (*STAFF, *API_CLIENTS, "anonymous")
# The authority A's staff: the lead, a practitioner and a viewer granted Nithsdale, and a
# practitioner granted Stewartry only (Nithsdale's people are out of their scope).
STAFF_OF_A = {"lead", "practitioner", "viewer", "practitioner_elsewhere"}
READERS_OF_THE_PERSON = {"lead", "practitioner", "viewer", "api_client"}


# --- The URL configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str  # "namespace:name", or the route when the pattern has no name
    route: str
    params: tuple[str, ...]
    keys: tuple[str, ...]  # the builder key of each parameter

    def path(self, values: dict[str, str]) -> str:
        path = self.route
        for param, value in values.items():
            path = re.sub(rf"\(\?P<{param}>[^)]*\)", value, path)
            path = re.sub(rf"<(?:\w+:)?{param}>", value, path)
        path = path.replace("^", "").replace("$", "").replace("\\.", ".")
        return "/" + path

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


def _parameter_keys(route: str, params: tuple[str, ...]) -> tuple[str, ...]:
    """`pk` is named by the literal segment before it (`people/<pk>`); other parameters by their
    own name; the admin site's parameters by `admin <name>`."""
    if route.startswith("admin/"):
        return tuple(f"admin {param}" for param in params)
    keys = []
    for param in params:
        if param != "pk":
            keys.append(param)
            continue
        before = re.split(r"<(?:\w+:)?pk>", route)[0].rstrip("/").split("/")
        keys.append(f"{before[-1]}/<pk>")
    return tuple(keys)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Endpoint]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from _walk(pattern, route, inner)
            continue
        assert isinstance(pattern, URLPattern)
        params = tuple(pattern.pattern.regex.groupindex)
        if not params:
            continue
        name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or route)
        yield Endpoint(name, route, params, _parameter_keys(route, params))


ENDPOINTS = sorted(_walk(get_resolver()), key=lambda endpoint: endpoint.route)


# --- Who each object belongs to ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a parameter stands for: its value, a value naming nothing, and who it is for.

    `parties` may reach it (some pages within reach of a party still refuse some of them, as the
    transfer decision page refuses the sending side); `refused` are staff of the same authority
    whom the page refuses for want of a role (403 or 404); every other role is out of scope.
    `anyone` marks parameters that are not tenant objects (a sign-in link); `admin` the admin
    site's, which has its own test."""

    value: str
    missing: str
    parties: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()
    anyone: bool = False
    admin: bool = False
    # Asking for a file (a return's CSV, a retried build) is a read: viewers may do it.
    viewers_may_ask_for_files: bool = False


@dataclass
class World:
    objects: dict[str, object] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)


def _tenant(value: object, parties: set[str], refused: set[str] = frozenset()) -> Target:
    return Target(str(value), MISSING_ID, frozenset(parties), frozenset(refused))


LEAD_ONLY = {"practitioner", "viewer", "practitioner_elsewhere"}


def _nithsdale(world: World) -> int:
    return world.objects["authority"].localities.get(name="Nithsdale").pk


# Every URL parameter of the project, by key: a function of the built world giving the targets.
BUILDERS: dict[str, Callable[[World], dict[str, Target]]] = {
    "people/<pk>": lambda w: {"person": _tenant(w.objects["person"].pk, READERS_OF_THE_PERSON)},
    "person_id": lambda w: {"person": _tenant(w.objects["person"].pk, READERS_OF_THE_PERSON)},
    "reference": lambda w: {
        "person": Target(
            w.objects["person"].local_reference, "NO-SUCH-REF", frozenset({"api_client"})
        )
    },
    "transfers/<pk>": lambda w: {
        "transfer": _tenant(
            w.objects["transfer"].pk, {"lead", "practitioner", "viewer", "receiving_lead"}
        )
    },
    "imports/<pk>": lambda w: {"import": _tenant(w.objects["import"].pk, {"lead"}, LEAD_ONLY)},
    "staff/<pk>": lambda w: {"member": _tenant(w.objects["membership"].pk, {"lead"}, LEAD_ONLY)},
    "api-clients/<pk>": lambda w: {
        "api client": _tenant(w.objects["api client"].pk, {"lead"}, LEAD_ONLY)
    },
    # The lead's own register, whichever authority they lead: not an object of authority A.
    "file_format": lambda w: {
        "register file": Target(
            "csv", "csv", frozenset({"lead", "other_lead", "receiving_lead"}), frozenset(LEAD_ONLY)
        )
    },
    "authority_id": lambda w: {
        "authority": Target(
            str(w.objects["authority"].pk),
            MISSING_ID,
            frozenset(STAFF_OF_A | {"api_client"}),
            viewers_may_ask_for_files=True,
        )
    },
    # The same authority by its HSCP code (the returns API); a code no authority has is missing.
    "authority_code": lambda w: {
        "authority": Target(
            w.objects["authority"].code,
            "S37999999",
            frozenset(STAFF_OF_A | {"api_client"}),
            viewers_may_ask_for_files=True,
        )
    },
    "census_date": lambda w: {
        # Alone it names the national page, for the national analyst; beside an authority it is
        # that authority's return (the authority decides who may see it).
        "census date": Target(CENSUS.isoformat(), CENSUS.isoformat(), frozenset({"analyst"}))
    },
    "returns/<pk>": lambda w: {"return": _tenant(w.objects["return"].pk, {"analyst"})},
    # The national analyst reminds any authority's lead; nobody else may.
    "remind/<pk>": lambda w: {"authority": _tenant(w.objects["authority"].pk, {"analyst"})},
    "jobs/<pk>": lambda w: {
        "authority file": Target(
            str(w.objects["authority job"].pk),
            MISSING_ID,
            frozenset(STAFF_OF_A),
            viewers_may_ask_for_files=True,
        ),
        "person profile": Target(
            str(w.objects["profile job"].pk),
            MISSING_ID,
            frozenset({"lead", "practitioner", "viewer"}),
            viewers_may_ask_for_files=True,
        ),
        "national file": _tenant(w.objects["national job"].pk, {"analyst"}),
    },
    "localities/<pk>": lambda w: {"locality": _tenant(_nithsdale(w), {"lead"}, LEAD_ONLY)},
    "locality_id": lambda w: {"locality": _tenant(_nithsdale(w), {"lead"}, LEAD_ONLY)},
    # National analysts' accounts are managed by the national team's administrators, none of
    # whom is among these roles (tests/accounts/test_staff_lifecycle.py has them): all get 404.
    "national/<pk>": lambda w: {"analyst": _tenant(w.users["analyst"].pk, set())},
    # The one-step actions on a member of staff or an analyst: a word, not an object.
    "action": lambda w: {"action": Target("deactivate", "deactivate", anyone=True)},
    "uidb64": lambda w: {"sign-in link": Target("MQ", "MQ", anyone=True)},
    "token": lambda w: {"sign-in link": Target("set-password", "set-password", anyone=True)},
    # An organisation's sign-in (service configuration, not a tenant's object): open to anyone.
    "slug": lambda w: {
        "organisation sign-in": Target("no-such-organisation", "no-such-organisation", anyone=True)
    },
    # The admin site: its own sign-in for the superuser, before any object is looked up.
    **{
        f"admin {param}": (lambda w: {"admin": Target("1", "1", admin=True)})
        for param in ("object_id", "content_type_id", "pk", "url")
    },
    "admin app_label": lambda w: {"admin": Target("auth", "auth", admin=True)},
}
ADMIN_KEYS = {key for key in BUILDERS if key.startswith("admin ")}
ADMIN_ENDPOINTS = [e for e in ENDPOINTS if set(e.keys) & ADMIN_KEYS]


def test_every_url_parameter_has_a_builder():
    unknown = {
        key: endpoint.route
        for endpoint in ENDPOINTS
        for key in endpoint.keys
        if key not in BUILDERS
    }
    assert not unknown, (
        "URL parameters with no builder in BUILDERS (add one, with who may reach the object): "
        f"{unknown}"
    )


def test_the_walk_finds_the_pages_of_every_app():
    names = {endpoint.name for endpoint in ENDPOINTS}
    for name in (
        "registers:person_detail",
        "registers:transfer_decide",
        "registers:import_batch",
        "accounts:staff_member",
        "accounts:api_client_revoke",
        "reporting:return",
        "reporting:job_download",
        "api:person-detail",
        "api-authority-return",
    ):
        assert name in names


# --- The data, built once for the module ------------------------------------------------------


def _build_world() -> World:
    world = World()
    a = AuthorityFactory(code="S37000006", name="Dumfries and Galloway")
    c = AuthorityFactory(code="S37000012", name="Edinburgh")
    h = AuthorityFactory(code="S37000017", name="Highland")
    nithsdale = LocalityFactory(authority=a, name="Nithsdale")
    stewartry = LocalityFactory(authority=a, name="Stewartry")
    LocalityFactory(authority=c, name="Leith")
    LocalityFactory(authority=h, name="Inverness")
    users = world.users
    users["lead"] = make_member(a, "lead", email="lead@dg.example.scot")
    users["practitioner"] = make_member(a, "practitioner", [nithsdale], email="p@dg.example.scot")
    users["viewer"] = make_member(a, "viewer", [nithsdale], email="v@dg.example.scot")
    users["practitioner_elsewhere"] = make_member(
        a, "practitioner", [stewartry], email="p2@dg.example.scot"
    )
    users["analyst"] = UserFactory(email="analyst@phs.example.scot", is_national_analyst=True)
    users["other_lead"] = make_member(c, "lead", email="lead@edinburgh.example.scot")
    users["receiving_lead"] = make_member(h, "lead", email="lead@highland.example.scot")

    person = PersonFactory(locality=nithsdale, local_reference="DG-0001")
    moving = PersonFactory(locality=nithsdale, local_reference="DG-0002")
    world.objects["person"] = person
    world.objects["authority"] = a
    world.objects["transfer"] = services.request_transfer(
        users["lead"], moving, version=moving.version, to_authority=h, reason="Family moved"
    )
    world.objects["import"] = ImportBatch.objects.create(
        authority=a,
        uploaded_by=users["lead"],
        filename="register.csv",
        file_format="csv",
        size=10,
        sha256="0" * 64,
        errors=[[2, "chi_number", "check digit is wrong"]],
    )
    world.objects["membership"] = Membership.objects.get(user=users["practitioner"], authority=a)
    client_a, world.tokens["api_client"] = create_api_client(
        users["lead"], a, name="Care First", scopes=["read", "write"]
    )
    world.objects["api client"] = client_a
    _, world.tokens["other_api_client"] = create_api_client(
        users["other_lead"], c, name="Edinburgh CMS", scopes=["read", "write"]
    )
    world.objects["return"] = AuthorityReturn.objects.create(
        authority=a,
        census_date=CENSUS,
        status=ReturnStatus.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=users["lead"],
    )

    def job(**fields) -> ReportJob:
        made = ReportJob.objects.create(status=JobStatus.DONE, census_date=CENSUS, **fields)
        made.filename = f"job-{made.pk}.csv"
        # Stored where a build stores it (reporting.services), in the database by default.
        made.output.name = default_storage.save(
            f"reports/{made.pk}/{made.filename}", ContentFile(b"a,b\n1,2\n")
        )
        made.save()
        return made

    world.objects["authority job"] = job(kind=JobKind.AUTHORITY_CSV, authority=a)
    world.objects["profile job"] = job(kind=JobKind.PERSON_PROFILE, authority=a, person=person)
    world.objects["national job"] = job(kind=JobKind.NATIONAL_CSV)
    for role, user in users.items():  # signed in once, with the second factor where needed
        client = Client()
        client.force_login(user)
        pass_second_factor(client, user)
        session = client.session
        session.set_expiry(24 * 3600)  # outlives a slow run; each request's renewal is undone
        session.save()
        world.sessions[role] = session.session_key
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Built once in a transaction that is rolled back after the module; each test runs in a
    savepoint inside it, so what a POST changes is undone before the next test."""
    media = tempfile.TemporaryDirectory()
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media.name):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with connection.cursor() as cursor:
                # Arranged as the cross-tenant role, as tests/conftest.py does.
                cursor.execute("SELECT set_config('role', 'dsr_system', false)")
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    media.cleanup()


# --- Asking ----------------------------------------------------------------------------------


def _client(world: World, role: str) -> Client:
    """A fresh client in the role: signed-in staff carry the session made for them once."""
    if role in API_CLIENTS:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[role]}")
        return api
    client = Client()
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _ask(client: Client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.post(path, {})


def _methods_taken(client: Client, path: str) -> frozenset[str] | None:
    """The methods a page takes, when it says (`require_http_methods` / `require_POST` answer
    another method with 405 and an Allow header); None for pages that answer any method alike."""
    response = client.put(path)
    if response.status_code != 405:
        return None
    return frozenset(m.strip() for m in response.get("Allow", "").split(",") if m.strip())


CHECKED = [e for e in ENDPOINTS if e not in ADMIN_ENDPOINTS and all(k in BUILDERS for k in e.keys)]


def _targets(world: World, endpoint: Endpoint) -> Iterator[tuple[str, dict, dict, Target]]:
    """Each combination of the parameters' targets; the subject is the object the URL names (the
    first tenant object among the parameters, else the first parameter)."""
    per_param = [
        (param, BUILDERS[key](world))
        for param, key in zip(endpoint.params, endpoint.keys, strict=True)
    ]
    combos: list[tuple[str, dict[str, Target]]] = [("", {})]
    for param, options in per_param:
        combos = [
            (f"{label} {option}".strip(), chosen | {param: target})
            for label, chosen in combos
            for option, target in options.items()
        ]
    for label, chosen in combos:
        subject_param = next(
            (p for p, t in chosen.items() if t.parties and t.missing == MISSING_ID),
            next(iter(chosen)),
        )
        values = {p: t.value for p, t in chosen.items()}
        missing = values | {subject_param: chosen[subject_param].missing}
        yield label, values, missing, chosen[subject_param]


def _problems(world: World, endpoint: Endpoint, role: str, reached: dict) -> Iterator[str]:
    """What is wrong with the answers `endpoint` gives `role`; records the parties' answers in
    `reached` (method and target label -> role -> status)."""
    client = _client(world, role)
    for label, values, missing, target in _targets(world, endpoint):
        path = endpoint.path(values)
        taken = _methods_taken(client, path)
        change_page = taken is not None and "POST" in taken
        for method in ("GET", "POST"):
            seen = f"{method} {path} ({label}) as {role}"
            answer = _ask(client, method, path).status_code
            if answer == 500:
                yield f"{seen}: 500"
                continue
            if taken is not None and method not in taken:
                if answer != 405:
                    yield f"{seen}: answered {answer} to a method the page does not take"
                continue
            if target.anyone:
                continue
            if role in target.parties:
                reached.setdefault((method, label), {})[role] = answer
                viewer_refused = (
                    role == "viewer" and change_page and not target.viewers_may_ask_for_files
                )
                if viewer_refused and answer not in (403, 404):
                    yield f"{seen}: answered {answer}; a viewer changes nothing"
                continue
            not_found = _ask(client, method, endpoint.path(missing)).status_code
            if answer != not_found:
                yield f"{seen}: answered {answer} but {not_found} for an object that does not exist"
                continue
            if role in target.refused:
                allowed, why = (403, 404), "the page is not for this role"
            elif role in STAFF and not endpoint.is_api:
                allowed, why = (404,), "out of scope must be not found"
            elif role in API_CLIENTS and endpoint.is_api:
                # The API refuses a method its token's scopes or its view do not allow (403, 405)
                # before any lookup: the same answer as for an object that does not exist.
                allowed, why = (403, 404, 405), "out of scope must be not found"
            else:
                continue  # a browser page to a token, the API to a session: refused alike
            if answer not in allowed:
                yield f"{seen}: answered {answer}; {why}"


@pytest.mark.parametrize("endpoint", CHECKED, ids=lambda e: e.route)
def test_each_role_gets_the_right_answer_from_every_url_that_names_an_object(world, endpoint):
    """Each role in its own savepoint, so what one role's POST changes is not what the next sees.

    The refusals are about real objects: for each method the page takes, some role the object
    belongs to gets through (a redirect counts; a refusal or a 404 does not). On the API an empty
    POST is refused before any lookup (no write scope, no If-Match, no such method), so there the
    read must get through."""
    problems: list[str] = []
    reached: dict[tuple[str, str], dict[str, int]] = {}
    for role in ROLES:
        with transaction.atomic():
            problems.extend(_problems(world, endpoint, role, reached))
            transaction.set_rollback(True)
    for (method, label), answers in reached.items():
        if (endpoint.is_api and method != "GET") or set(answers.values()) == {405}:
            continue
        if not any(status < 400 for status in answers.values()):
            problems.append(
                f"{method} {endpoint.route} ({label}): no one it belongs to reaches it: {answers}"
            )
    assert not problems, "\n".join(problems)


def test_the_admin_site_sends_every_role_to_its_sign_in(world):
    """No role is staff of the admin site: every admin URL that names an object redirects them to
    its sign-in page, before looking at the object."""
    problems = []
    for role in ROLES:
        client = _client(world, role)
        for endpoint in ADMIN_ENDPOINTS:
            path = endpoint.path(
                {
                    p: BUILDERS[k](world)["admin"].value
                    for p, k in zip(endpoint.params, endpoint.keys, strict=True)
                }
            )
            for method in ("GET", "POST"):
                response = _ask(client, method, path)
                if response.status_code != 302 or not response["Location"].startswith(
                    "/admin/login/"
                ):
                    problems.append(f"{method} {path} as {role}: {response.status_code}")
    assert not problems, "\n".join(problems)
