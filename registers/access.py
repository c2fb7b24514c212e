"""Who may see and change what: the one place that turns a user into a scope.

Two layers apply the same scope:
- the ORM: `visible_people(user)` / `writable_people(user)` narrow the register to the scope built
  here (through the queryset's plain `in_scope`);
- PostgreSQL row-level security: `activate()` writes the scope's authorities into transaction-local
  settings that every tenant table's policy reads (see dsr/rls.py). A query that forgets the first
  layer still cannot read or write another authority's rows.

Leads see everything in their authority; practitioners read and change people in the localities
granted to them; viewers read there. National analysts get no person rows at all.

It is the only door: views, selectors, services, templates and tasks ask it a named question
(`require_national`, `authority_for_member`, `led_authority`, `can_change`, ...) and never test
roles, national flags or authority lists themselves; tests/registers/test_access_door.py keeps
it so. That is also why it stays one module although it is over 600 lines: the guard test and a
reviewer find every access decision in one file. The settings' seals are in dsr/seal.py.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import CharField, IntegerField, Q, QuerySet, Value
from django.db.transaction import TransactionManagementError
from django.http import Http404, HttpRequest

from accounts.models import ApiClient, LocalityUserObjectPermission, Membership, User
from dsr import onerow, prepared
from dsr.routers import REPLICA, reads_from
from dsr.seal import with_seals

from .audit import record_event
from .models import (
    IntegrationAuthority,
    Locality,
    Person,
    PersonQuerySet,
    RegisterCount,
    RegisterCountQuerySet,
)

logger = logging.getLogger(__name__)

READ_LOCALITY = "view_people_in_locality"
WRITE_LOCALITY = "change_people_in_locality"
LEAD_AUTHORITY = "lead_authority"


@dataclass(frozen=True)
class Scope:
    user_id: int | None = None
    roles: dict[int, str] = field(default_factory=dict)  # authority id -> role
    read_localities: frozenset[int] = frozenset()
    write_localities: frozenset[int] = frozenset()
    # Authorities in every locality of which the scope reads (or changes) people without leading
    # them: an API client's own. Named by authority, so no query lists their localities.
    read_authorities: frozenset[int] = frozenset()
    write_authorities: frozenset[int] = frozenset()
    national_analyst: bool = False
    system: bool = False
    # The member authorities' (id, code, name), by name, read with the roles (the header and the
    # authority switcher show them): none for the other scopes, which read them when asked.
    authorities: tuple[tuple[int, str, str], ...] | None = field(default=None, compare=False)

    @property
    def authority_ids(self) -> frozenset[int]:
        return frozenset(self.roles)

    @property
    def lead_authorities(self) -> frozenset[int]:
        return frozenset(a for a, role in self.roles.items() if role == "lead")

    def is_lead_of(self, authority_id: int) -> bool:
        return self.system or authority_id in self.lead_authorities

    def role_in(self, authority_id: int) -> str | None:
        return self.roles.get(authority_id)

    def can_read_locality(self, locality: Locality) -> bool:
        return (
            self.is_lead_of(locality.authority_id)
            or locality.authority_id in self.read_authorities
            or locality.pk in self.read_localities
        )

    def can_write_locality(self, locality: Locality) -> bool:
        return (
            self.is_lead_of(locality.authority_id)
            or locality.authority_id in self.write_authorities
            or locality.pk in self.write_localities
        )

    def is_member_of(self, authority_id: int | None) -> bool:
        return self.system or authority_id in self.authority_ids

    def can_change(self, person: Person) -> bool:
        """Whether this scope may change the person (decided in memory: no query per row)."""
        return (
            self.is_lead_of(person.authority_id)
            or person.authority_id in self.write_authorities
            or person.locality_id in self.write_localities
        )

    def localities(self, *, write: bool = False) -> QuerySet[Locality]:
        """The localities this scope may read in (or, with `write`, add and change people in)."""
        if self.system:
            return Locality.objects.all()
        ids = self.write_localities if write else self.read_localities
        whole = self.write_authorities if write else self.read_authorities
        return Locality.objects.filter(
            Q(authority_id__in=self.lead_authorities | whole) | Q(pk__in=ids)
        )

    def role_names(self) -> set[str]:
        """Every role held, the national analyst's included (what the second-factor rule reads)."""
        return {*self.roles.values(), *(["national_analyst"] if self.national_analyst else [])}

    def filter_tenant_rows(self, qs: QuerySet) -> QuerySet:
        """Rows of any tenant-owned model in the authorities this user belongs to."""
        if self.system:
            return qs
        return qs.filter(authority_id__in=self.authority_ids)

    # The values written into PostgreSQL's transaction-local settings. The system scope is a
    # database role (`dsr_system`), which only the worker role may become: in a web process,
    # entering it fails. Every other scope acts as the role the process logged in as.
    def db_settings(self) -> dict[str, str]:
        mode = "system" if self.system else ("national" if self.national_analyst else "user")
        return {
            "role": settings.DSR_DB_SYSTEM_ROLE if self.system else settings.DSR_DB_TENANT_ROLE,
            "dsr.scope": mode,
            "dsr.user_id": str(self.user_id or ""),
            "dsr.authorities": ",".join(str(a) for a in sorted(self.authority_ids)),
        }


NO_ACCESS = Scope()
SYSTEM = Scope(system=True)


def _one(queryset: QuerySet) -> Any:
    """The first row of a query that matches one row at most (by primary key): no ORDER BY."""
    return next(iter(queryset.order_by()[:1]), None)


def scope_for(user: User | None) -> Scope:
    """The user's scope, read once per user object (i.e. once per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, "_dsr_scope", None)
    if cached is None:
        cached = _resolve(user)
        user._dsr_scope = cached
    return cached


API_CLIENT_ROLE = "api_client"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _client_sql() -> str:
    # Identifiers from the models' own metadata; the token's hash is a bound parameter.
    return (
        f"SELECT {onerow.columns(ApiClient, 'c')}, {onerow.columns(User, 'u')}, "  # noqa: S608
        f"{onerow.columns(IntegrationAuthority, 'a')} "
        'FROM "accounts_apiclient" "c" '
        'INNER JOIN "accounts_user" "u" ON "u"."id" = "c"."service_user_id" '
        'INNER JOIN "registers_integrationauthority" "a" ON "a"."id" = "c"."authority_id" '
        'WHERE "c"."token_hash" = %s LIMIT 1'
    )


def _client_by_token(digest: str) -> ApiClient | None:
    """`ApiClient.objects.select_related("service_user", "authority").filter(token_hash=digest)`
    (its authority, not a tenant table, is what every person the client reads belongs to), read
    with SQL written once (dsr/onerow.py; tests/registers/test_one_row.py compares).

    Row-level security admits a client row by the hash of its token alone (the `token_lookup`
    policy), so this reads nothing but the one row whose token the caller presented."""
    with prepared.cursor() as cursor:
        cursor.execute(_client_sql(), [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    ends = list(accumulate(onerow.width(m) for m in (ApiClient, User, IntegrationAuthority)))
    client = onerow.instance(ApiClient, row[: ends[0]])
    user = onerow.instance(User, row[ends[0] : ends[1]])
    authority = onerow.instance(IntegrationAuthority, row[ends[1] :])
    service_user = ApiClient._meta.get_field("service_user")
    service_user.set_cached_value(client, user)
    service_user.remote_field.set_cached_value(user, client)
    ApiClient._meta.get_field("authority").set_cached_value(client, authority)
    return client


def api_client_for_token(token: str) -> ApiClient | None:
    """The API client holding `token` (revoked or not), found before any scope is known."""
    digest = token_hash(token)
    with _settings({"dsr.api_token_hash": digest}):
        return _client_by_token(digest)


def usable_api_client(client: ApiClient | None) -> bool:
    return client is not None and client.revoked_at is None and client.service_user.is_active


def activate_api_client(token: str) -> ApiClient | None:
    """The usable API client holding `token`, with the transaction bound to its scope until it
    ends; None (and nothing bound) for a token unknown, revoked or of a deactivated client.

    Three statements: admit the token's row, read it, and in one statement bind the client's
    scope and put the token setting back as it was."""
    if not connection.in_atomic_block:
        raise RuntimeError("A tenant scope is transaction-local: activate it inside atomic().")
    digest = token_hash(token)
    previous = _apply({"dsr.api_token_hash": digest})
    client = _client_by_token(digest)
    if not usable_api_client(client):
        _apply(previous, remember=False)
        return None
    _apply({**scope_for_api_client(client).db_settings(), **previous}, remember=False)
    return client


def scope_for_api_client(client: ApiClient) -> Scope:
    """An API client reads (and, with the write scope, changes) people in every locality of its
    one authority. It is never a lead: staff, grants and returns workflow stay out of reach."""
    own = frozenset([client.authority_id])
    scope = Scope(
        user_id=client.service_user_id,
        roles={client.authority_id: API_CLIENT_ROLE},
        read_authorities=own if client.can_read else frozenset(),
        write_authorities=own if client.can_write else frozenset(),
    )
    # Services read the actor's scope through scope_for(user): give the service user this one.
    client.service_user._dsr_scope = scope
    return scope


def forget_scope(user: User) -> None:
    """Drop the cached scope after the user's roles or grants change."""
    user.__dict__.pop("_dsr_scope", None)


NATIONAL_MEMBER_MESSAGE = (
    "This person is a national analyst: national analysts see aggregate returns for every "
    "authority and cannot also be staff of one. Use a separate account for authority work."
)


def refuse_national_member(user: User, *, field: str) -> None:
    """A national analyst never holds a membership (the database refuses one too: migration
    accounts 0004). Every staff service asks this before it creates or changes a membership."""
    if user.is_national_analyst:
        raise ValidationError({field: [NATIONAL_MEMBER_MESSAGE]})


def _resolve(user: User) -> Scope:
    """Read the user's scope inside a transaction bound to another scope, left as it was."""
    with _settings({"dsr.user_id": str(user.pk), "dsr.authorities": ""}):
        if not user.is_national_analyst:
            _bind_member_authorities()
        return _read_scope(user)


def _bind_member_authorities() -> None:
    """Bind the transaction to the authorities the user is an active member of, read from their
    own memberships and sealed by the database in the same statement (registers/0010)."""
    with prepared.cursor() as cursor:
        cursor.execute("SELECT dsr_bind_member_authorities()")


# A user id no user has: the scope's statement is compiled once with it, then run with the
# user's own (the ORM's compiling of this union of joins cost about a millisecond a request).
_NO_USER = -987_654_321


def _scope_query(user_id: int) -> QuerySet:
    """The user's active memberships with their authority's code and name, and their locality
    grants, as one union: (authority id, role, locality id, permission, code, name)."""
    blank_id = Value(None, output_field=IntegerField())
    blank_text = Value(None, output_field=CharField())
    # A deactivated membership keeps its row (history) but grants nothing. Each membership brings
    # its authority's code and name (one statement fewer on every page than asking after).
    memberships = Membership.objects.filter(
        user_id=user_id, deactivated_at__isnull=True
    ).values_list(
        "authority_id", "role", blank_id, blank_text, "authority__code", "authority__name"
    )
    grants = LocalityUserObjectPermission.objects.filter(
        user_id=user_id, permission__codename__in=[READ_LOCALITY, WRITE_LOCALITY]
    ).values_list(
        "content_object__authority_id",
        blank_text,
        "content_object_id",
        "permission__codename",
        blank_text,
        blank_text,
    )
    # By the authorities' names, as the database orders them (the grants' rows have none).
    return memberships.order_by().union(grants.order_by(), all=True).order_by("authority__name")


@cache
def _scope_statement() -> tuple[str, tuple[Any, ...]]:
    return _scope_query(_NO_USER).query.sql_with_params()


def _scope_rows(user_id: int) -> list[tuple[Any, ...]]:
    """`_scope_query(user_id)`'s rows, from its SQL compiled once (no column here needs a
    converter; tests/registers/test_scope_statement.py compares)."""
    sql, params = _scope_statement()
    with prepared.cursor() as cursor:
        cursor.execute(sql, [user_id if p == _NO_USER else p for p in params])
        return cursor.fetchall()


def _read_scope(user: User) -> Scope:
    """The user's memberships and locality grants, in one statement; the transaction must already
    be bound to the user and their authorities (the grants' localities are tenant rows)."""
    if user.is_national_analyst:
        # National access is aggregate only: a membership (which the database refuses anyway)
        # is never merged into it, so a national user never receives person rows.
        return Scope(user_id=user.pk, national_analyst=True)
    rows = _scope_rows(user.pk)
    roles = {authority_id: role for authority_id, role, *_ in rows if role is not None}
    # A lead's grants add nothing; a grant outside the user's authorities counts for nothing.
    grants_held = [
        (locality_id, authority_id, perm)
        for authority_id, role, locality_id, perm, *_ in rows
        if role is None and roles.get(authority_id) not in (None, "lead")
    ]
    # Writing implies reading; only a practitioner's write grant counts.
    return Scope(
        user_id=user.pk,
        roles=roles,
        read_localities=frozenset(loc for loc, _, _ in grants_held),
        write_localities=frozenset(
            loc
            for loc, authority_id, perm in grants_held
            if perm == WRITE_LOCALITY and roles.get(authority_id) == "practitioner"
        ),
        national_analyst=user.is_national_analyst,
        authorities=tuple(
            (authority_id, code, name)
            for authority_id, role, _, _, code, name in rows
            if role is not None
        ),
    )


# The settings' names are the code's own (the scope's, their seals, `role`): written into the
# statement, whose text is then the same for every request (only the values are parameters,
# each quoted client-side by psycopg, which cost as much as the rest of the call).
_SETTING_NAME = re.compile(r"[a-z][a-z_.]*")


@cache
def _settings_sql(keys: tuple[str, ...], remember: bool) -> str:
    if not all(_SETTING_NAME.fullmatch(key) for key in keys):
        raise ValueError(f"Not a setting name: {keys}")
    reads = [f"current_setting('{key}', true)" for key in keys] if remember else []
    return "SELECT " + ", ".join([*reads, *(f"set_config('{key}', %s, true)" for key in keys)])


def _apply(
    values: dict[str, str], *, remember: bool = True, using: str = DEFAULT_DB_ALIAS
) -> dict[str, str] | None:
    """Set transaction-local settings on the `using` connection, each scope setting with its seal
    (dsr/seal.py), in one statement; return what they were (if `remember`)."""
    values = with_seals(values)
    keys = tuple(values)
    with prepared.cursor(using) as cursor:
        cursor.execute(_settings_sql(keys, remember), [values[k] for k in keys])
        previous = cursor.fetchone()[: len(keys)]
    if not remember:
        return None
    return {k: (v or "") for k, v in zip(keys, previous, strict=True)}


@contextmanager
def _settings(
    values: dict[str, str], *, restore: bool | None = None, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    conn = connections[using]
    # A block that opens the transaction itself has nothing to restore: its end discards them.
    if restore is None:
        restore = conn.in_atomic_block
    with transaction.atomic(using=using, savepoint=False):
        previous = _apply(values, remember=restore, using=using)
        yield
        # Only on a clean exit, and not when the block is marked for rollback (a request that
        # ended in a 500): the rollback undoes the settings anyway, and no query may run before it.
        if previous is not None and not conn.needs_rollback:
            _apply(previous, remember=False, using=using)


def activate(scope: Scope) -> None:
    """Bind the current transaction to `scope` until it ends. Call inside an atomic block."""
    if not connection.in_atomic_block:
        raise RuntimeError("A tenant scope is transaction-local: activate it inside atomic().")
    _apply(scope.db_settings())


@contextmanager
def using_scope(scope: Scope, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[Scope]:
    """Run a block (a task, a command) under `scope`, restoring the previous scope after; on the
    `using` connection (each connection is a transaction, and a scope, of its own)."""
    with _settings(scope.db_settings(), using=using):
        yield scope


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _replica_reachable() -> bool:
    """Whether the replica's connection is open or opens now. A standby that is away costs the
    page its connect timeout and no more: its reads go to the primary, with a warning."""
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError:
        logger.warning("read replica unavailable: reading the primary instead", exc_info=True)
        return False
    return True


@contextmanager
def reporting_reads(scope: Scope) -> Iterator[Scope]:
    """Reads in the block go to the read replica, when one is configured, in a transaction there
    bound to the same sealed scope as the primary's: row-level security applies on the replica as
    on the primary, and a connection without a scope sees no tenant rows at all.

    Only for reads that may be a little behind the primary (replication lag) and lead to no write:
    the national figures page's stored releases. Writes in the block still go to the primary;
    without a replica, or with it unreachable, the block changes nothing.
    """
    if not replica_configured() or not _replica_reachable():
        yield scope
        return
    with using_scope(scope, using=REPLICA), reads_from(REPLICA):
        yield scope


@contextmanager
def user_reporting_reads(user: User) -> Iterator[Scope]:
    """`reporting_reads` in the user's own scope (what a page's selector asks)."""
    with reporting_reads(scope_for(user)) as scope:
        yield scope


@contextmanager
def system_scope(reason: str, *, actor: User | None = None) -> Iterator[Scope]:
    """The named scope for work across every tenant: seeding, national aggregation, retention.

    Every use is audited, because it steps around the per-tenant policy.
    """
    with using_scope(SYSTEM):
        record_event(actor, "system_scope", changes={"reason": reason})
        logger.info("system scope entered: %s", reason)
        yield SYSTEM


# Out-of-scope attempts: each 404 on an object outside the user's scope is recorded, in each of the
# user's own authorities (their lead's audit log filters "access refused"), with what was asked
# for. The refused object's own authority is not named: the user was not shown it.
ACCESS_REFUSED = "access.refused"


def out_of_scope(user: User | None, kind: str, pk: object, message: str) -> Http404:
    """Record an out-of-scope attempt and return the 404 to raise."""
    scope = scope_for(user)
    if user is not None and user.is_authenticated and not scope.system:
        for authority_id in sorted(scope.authority_ids) or [None]:
            record_event(
                user,
                ACCESS_REFUSED,
                authority_id=authority_id,
                changes={"object": kind, "id": str(pk)[:40]},
            )
    return Http404(message)


@contextmanager
def user_scope(user: User | None) -> Iterator[Scope]:
    """Run a block (an account event) under the user's own scope, restoring the previous one."""
    with using_scope(scope_for(user)) as scope:
        yield scope


@contextmanager
def request_scope(user: User | None) -> Iterator[Scope]:
    """A request's transaction, bound to the signed-in user's scope.

    As the outermost block (in production) it opens the transaction and binds it to the user while
    it reads their scope, three statements in all, with nothing to restore at the end: the
    transaction's end discards the settings. Inside an enclosing transaction (a test sharing the
    connection) it is a savepoint, and the enclosing scope comes back after.
    """
    restore = connection.in_atomic_block
    with transaction.atomic():
        signed_in = user is not None and user.is_authenticated and user.is_active
        if not signed_in or getattr(user, "_dsr_scope", None) is not None:
            scope = scope_for(user)
            with _settings(scope.db_settings(), restore=restore):
                yield scope
            return
        mode = "national" if user.is_national_analyst else "user"
        values = {
            "role": settings.DSR_DB_TENANT_ROLE,
            "dsr.scope": mode,
            "dsr.user_id": str(user.pk),
            "dsr.authorities": "",
        }
        with _settings(values, restore=restore):
            if not user.is_national_analyst:
                _bind_member_authorities()
            scope = _read_scope(user)
            user._dsr_scope = scope
            yield scope


def task_scope(authority_id: int | None) -> Scope:
    """The scope a background job runs in: one authority as its lead, or (None) national."""
    if authority_id is None:
        return Scope(national_analyst=True)
    return Scope(roles={authority_id: "lead"})


# The register: every read of people starts here.
def visible_people(user: User, queryset: PersonQuerySet | None = None) -> PersonQuerySet:
    """The people this user may read (leavers included)."""
    qs = queryset if queryset is not None else Person.objects.all()
    return qs.in_scope(scope_for(user))


def writable_people(user: User, queryset: PersonQuerySet | None = None) -> PersonQuerySet:
    """The people this user may change."""
    qs = queryset if queryset is not None else Person.objects.all()
    return qs.in_scope(scope_for(user), write=True)


def visible_counts(user: User) -> RegisterCountQuerySet:
    """The register's counts (registers/0022) of the people this user may read, leavers not
    counted: `visible_people(user).on_register()`, counted by the database."""
    return RegisterCount.objects.in_scope(scope_for(user))


def in_member_authorities(user: User, qs: QuerySet) -> QuerySet:
    """Rows of any tenant-owned model in the authorities this user belongs to."""
    return scope_for(user).filter_tenant_rows(qs)


def localities(user: User, *, write: bool = False) -> QuerySet[Locality]:
    """The localities the user may read in (or, with `write`, add and change people in)."""
    return scope_for(user).localities(write=write)


# Named questions: what the views, selectors, services, tasks and templates ask.
def is_national(user: User | None) -> bool:
    """Whether the user is a national analyst (aggregate returns, never a person)."""
    return scope_for(user).national_analyst


def require_national(user: User | None) -> None:
    """Pages and actions of the national team; anyone else gets 404 (they do not exist for them)."""
    if not is_national(user):
        raise Http404("No such page.")


def roles_of(user: User) -> set[str]:
    """Every role the user holds in any authority, and `national_analyst` if they are one."""
    return scope_for(user).role_names()


def organisation_sign_in_refusal(
    user: User, *, authority_ids: set[int], national_team: bool
) -> str | None:
    """Why `user` may not sign in through an organisation's provider serving `authority_ids` (and
    the national analysts when `national_team`), or None when they may: they must be active staff
    of one of those authorities, or a national analyst. Read before the user is signed in, in
    their own scope (their own memberships, deactivated ones included)."""
    scope = scope_for(user)
    if scope.authority_ids & authority_ids or (national_team and scope.national_analyst):
        return None
    with using_scope(scope):
        deactivated = Membership.objects.filter(
            user=user, authority_id__in=authority_ids, deactivated_at__isnull=False
        ).exists()
    return "membership_deactivated" if deactivated else "not_staff_of_its_authorities"


def member_authority_ids(user: User) -> frozenset[int]:
    """The authorities the user works in, in any role."""
    return scope_for(user).authority_ids


def member_authorities(user: User) -> list[IntegrationAuthority]:
    """The authorities the user works in, by name: read with their scope (no statement of its
    own), or else asked for."""
    scope = scope_for(user)
    if scope.authorities is not None:
        return [
            IntegrationAuthority.from_db(DEFAULT_DB_ALIAS, ["id", "code", "name"], row)
            for row in scope.authorities
        ]
    ids = scope.authority_ids
    return list(IntegrationAuthority.objects.filter(pk__in=ids)) if ids else []


def led_authority_ids(user: User) -> frozenset[int]:
    """The authorities the user leads."""
    return scope_for(user).lead_authorities


def is_member(user: User, authority_id: int | None) -> bool:
    return scope_for(user).is_member_of(authority_id)


def is_lead(user: User, authority_id: int | None) -> bool:
    return authority_id is not None and scope_for(user).is_lead_of(authority_id)


def require_member(user: User, authority_id: int | None, *, message: str) -> None:
    """Staff of the authority in any role, or 404 with `message`."""
    if not is_member(user, authority_id):
        raise out_of_scope(user, "authority", authority_id, message)


def authority_for_member(user: User, authority_id: int) -> IntegrationAuthority:
    """An authority the user works in, or 404 (the national analyst works in none)."""
    require_member(user, authority_id, message="No such authority in your scope.")
    return IntegrationAuthority.objects.get(pk=authority_id)


def led_authority(request: HttpRequest) -> IntegrationAuthority:
    """The authority the user is working in, for its lead only: 404 without one, 403 for staff
    who do not lead it."""
    # The current-authority module asks this one for the user's authorities: imported here.
    from .current_authority import current_authority

    authority = current_authority(request)
    if authority is None:
        raise Http404("No authority in your scope.")
    require_lead(request.user, authority.pk)
    return authority


def can_change(user: User, person: Person) -> bool:
    """Whether the user may change this (readable) person."""
    return scope_for(user).can_change(person)


def change_checker(user: User) -> Callable[[Person], bool]:
    """`can_change(user, person)` for the many people of one page: the user's scope found once
    (the user is a lazy object, and finding it again cost about 10 microseconds a row)."""
    return scope_for(user).can_change


def can_see_viewers(user: User, person: Person) -> bool:
    """Who has read a record is shown to the staff who can change it."""
    return can_change(user, person)


def template_flags(user: User | None, authority: IntegrationAuthority | None) -> dict[str, Any]:
    """The named answers the page templates show or hide things by (see context_processors)."""
    scope = scope_for(user)
    is_lead_here = bool(authority and scope.is_lead_of(authority.pk))
    return {
        "dsr_scope": scope,
        "is_national": scope.national_analyst,
        "current_role": scope.role_in(authority.pk) if authority else None,
        "is_lead_here": is_lead_here,
        # The lead here, or staff granted a locality to add people in.
        "can_add_people": is_lead_here or bool(scope.write_localities or scope.write_authorities),
        # A viewer here may read but change nothing: every page they see says so.
        "read_only_here": bool(authority and scope.role_in(authority.pk) == "viewer"),
    }


@contextmanager
def transfer_acceptance(transfer_id: int, *, actor: User) -> Iterator[None]:
    """Open the sending record of a pending transfer to the caller's authority, for the rest of
    the block: the person, their history, and the sending authority's audit rows.

    One named operation of the database (`dsr_open_transfer_for_acceptance`, owned by the owner)
    checks, in the actor's own scope, that the transfer is pending and addressed to the actor's
    authority, and grants this transaction those rows only; the grant ends with the block.
    Audited.
    """
    with transaction.atomic(savepoint=False):
        with using_scope(scope_for(actor)), connection.cursor() as cursor:
            cursor.execute("SELECT dsr_open_transfer_for_acceptance(%s)", [transfer_id])
        record_event(actor, "transfer.sending_record_opened", changes={"transfer": transfer_id})
        yield
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT dsr_close_transaction_grants()")


@contextmanager
def return_decision(return_id: int, *, actor: User) -> Iterator[None]:
    """In the national scope, open one submitted return for the national decision for the rest
    of the block (`dsr_open_return_for_decision`): the return may be updated and its authority's
    audit row appended. Audited."""
    with transaction.atomic(savepoint=False):
        with using_scope(scope_for(actor)), connection.cursor() as cursor:
            cursor.execute("SELECT dsr_open_return_for_decision(%s)", [return_id])
        record_event(actor, "return.opened_for_decision", changes={"return": return_id})
        yield
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT dsr_close_transaction_grants()")


# Helpers beside the views and the API: the object and the right to act, or 404/403.
@cache
def _person_sql(*, scoped: bool, in_authority: bool, lock: bool) -> str:
    table = '"registers_person"'
    where = [f'{table}."id" = %s']
    if scoped:
        where.append(f'({table}."authority_id" = ANY(%s) OR {table}."locality_id" = ANY(%s))')
    if in_authority:
        where.append(f'{table}."authority_id" = %s')
    # Identifiers from the model's own metadata; every value is a bound parameter.
    return (
        f"SELECT {onerow.columns(Person)} FROM {table} "  # noqa: S608
        f"WHERE {' AND '.join(where)} LIMIT 1{' FOR UPDATE' if lock else ''}"
    )


def _person_by_pk(
    scope: Scope,
    pk: int,
    *,
    write: bool = False,
    lock: bool = False,
    authority_id: int | None = None,
) -> Person | None:
    """`Person.objects.in_scope(scope, write=write).filter(pk=pk)` (in `authority_id`, when
    given; locked FOR UPDATE with `lock`), read with SQL written once rather than compiled per
    call (dsr/onerow.py; tests/registers/test_one_row.py checks it finds what the ORM finds)."""
    if lock and not connection.in_atomic_block:
        raise TransactionManagementError("A row is locked only inside a transaction.")
    params: list[Any] = [pk]
    if not scope.system:
        whole = scope.lead_authorities | (
            scope.write_authorities if write else scope.read_authorities
        )
        localities = scope.write_localities if write else scope.read_localities
        if not (whole or localities):
            return None
        params += [sorted(whole), sorted(localities)]
    if authority_id is not None:
        params.append(authority_id)
    sql = _person_sql(scoped=not scope.system, in_authority=authority_id is not None, lock=lock)
    with prepared.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else onerow.instance(Person, row)


def person_for_read(
    user: User,
    pk: int,
    queryset: PersonQuerySet | None = None,
    *,
    authority_id: int | None = None,
) -> Person:
    """A person the user may read (in `authority_id`, when given), from `queryset` when given;
    out of scope is 404."""
    if queryset is None:
        person = _person_by_pk(scope_for(user), pk, authority_id=authority_id)
    else:
        person = _one(visible_people(user, queryset).filter(pk=pk))
        if person is not None and authority_id is not None and person.authority_id != authority_id:
            person = None
    if person is None:
        raise out_of_scope(user, "person", pk, "No such person on your register.")
    return person


def person_for_write(user: User, pk: int, *, lock: bool = False) -> Person:
    """A person the user may change. Out of scope is 404; readable but not writable is 403."""
    person = _person_by_pk(scope_for(user), pk, write=True, lock=lock)
    if person is None:
        if visible_people(user).filter(pk=pk).exists():
            raise PermissionDenied("You can read this record but not change it.")
        raise out_of_scope(user, "person", pk, "No such person on your register.")
    return person


def require_lead(user: User, authority_id: int) -> None:
    scope = scope_for(user)
    if scope.is_lead_of(authority_id):
        return
    if authority_id in scope.authority_ids:
        raise PermissionDenied("Only the authority's lead can do this.")
    raise out_of_scope(user, "authority", authority_id, "No such authority in your scope.")


def require_lead_somewhere(user: User) -> None:
    """Staff who lead no authority are refused (403); the national analyst and strangers pass on
    to a lookup that finds nothing of theirs (404)."""
    scope = scope_for(user)
    if scope.authority_ids and not scope.lead_authorities:
        raise PermissionDenied("Only the authority's lead can do this.")


def person_for_erasure(user: User, pk: int) -> Person:
    """A register entry the user may erase as added in error: the authority's lead only. Out of
    scope is 404; other staff who can read the record get 403."""
    person = person_for_read(user, pk)
    require_lead(user, person.authority_id)
    return person


def localities_for_lead(user: User) -> QuerySet[Locality]:
    """The localities of the authorities the user leads (what the localities page manages)."""
    from .models import Locality

    return Locality.objects.filter(authority_id__in=scope_for(user).lead_authorities)


def authority_task_scope(authority_id: int) -> Scope:
    """The scope of background work confined to one authority (as its lead would see it)."""
    return task_scope(authority_id)


def is_national_administrator(user: User) -> bool:
    """Of the national team: manages the national analysts' accounts (never people's records)."""
    return bool(user.is_authenticated and user.is_active and user.is_national_administrator)


def require_national_administrator(user: User) -> None:
    """The national team's administrators only; anyone else is told there is no such page."""
    if not is_national_administrator(user):
        raise Http404("No such page.")


def require_locality_write(user: User, locality: Locality) -> None:
    scope = scope_for(user)
    if scope.can_write_locality(locality):
        return
    if scope.can_read_locality(locality):
        raise PermissionDenied("You can read this locality but not add or change people in it.")
    raise out_of_scope(user, "locality", locality.pk, "No such locality in your scope.")


def is_national_analyst_account(user: User) -> bool:
    """Whether the account holds the national analyst role (active or not)."""
    return bool(user.is_national_analyst)


def set_national_analyst(user: User, *, granted: bool) -> None:
    """Give the account the national analyst role, or take it away (the caller saves)."""
    user.is_national_analyst = granted
    forget_scope(user)
