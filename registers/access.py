"""Who may see and change what: the one place that turns a user into a scope.

Two layers apply the same scope:
- the ORM: `Person.objects.visible_to(user)` / `writable_by(user)` filter by the scope built here;
- PostgreSQL row-level security: `activate()` writes the scope's authorities into transaction-local
  settings that every tenant table's policy reads (see dsr/rls.py). A query that forgets the first
  layer still cannot read or write another authority's rows.

Leads see everything in their authority; practitioners read and change people in the localities
granted to them; viewers read there. National analysts get no person rows at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404

if TYPE_CHECKING:
    from accounts.models import ApiClient, User

    from .models import Locality, Person

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
    national: bool = False
    system: bool = False

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
        return self.is_lead_of(locality.authority_id) or locality.pk in self.read_localities

    def can_write_locality(self, locality: Locality) -> bool:
        return self.is_lead_of(locality.authority_id) or locality.pk in self.write_localities

    def filter_people(self, qs: QuerySet, *, write: bool = False) -> QuerySet:
        if self.system:
            return qs
        localities = self.write_localities if write else self.read_localities
        if not (self.lead_authorities or localities):
            return qs.none()
        return qs.filter(Q(authority_id__in=self.lead_authorities) | Q(locality_id__in=localities))

    def filter_tenant_rows(self, qs: QuerySet) -> QuerySet:
        """Rows of any tenant-owned model in the authorities this user belongs to."""
        if self.system:
            return qs
        return qs.filter(authority_id__in=self.authority_ids)

    # The values written into PostgreSQL's transaction-local settings. The system scope is a
    # database role (`dsr_system`), which only the worker role may become: in a web process,
    # entering it fails. Every other scope acts as the role the process logged in as.
    def db_settings(self) -> dict[str, str]:
        mode = "system" if self.system else ("national" if self.national else "user")
        return {
            "role": settings.DSR_DB_SYSTEM_ROLE if self.system else settings.DSR_DB_TENANT_ROLE,
            "dsr.scope": mode,
            "dsr.user_id": str(self.user_id or ""),
            "dsr.authorities": ",".join(str(a) for a in sorted(self.authority_ids)),
        }


NO_ACCESS = Scope()
SYSTEM = Scope(system=True)


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


def api_client_for_token(token: str) -> ApiClient | None:
    """The API client holding `token` (revoked or not), found before any scope is known.

    Row-level security admits a client row by the hash of its token alone (the `token_lookup`
    policy), so this reads nothing but the one row whose token the caller presented.
    """
    from accounts.models import ApiClient

    digest = token_hash(token)
    with _settings({"dsr.api_token_hash": digest}):
        return ApiClient.objects.select_related("service_user").filter(token_hash=digest).first()


def scope_for_api_client(client: ApiClient) -> Scope:
    """An API client reads (and, with the write scope, changes) people in every locality of its
    one authority. It is never a lead: staff, grants and returns workflow stay out of reach."""
    from .models import Locality

    with _settings({"dsr.authorities": str(client.authority_id)}):
        localities = frozenset(
            Locality.objects.filter(authority_id=client.authority_id)
            .order_by()
            .values_list("pk", flat=True)
        )
    scope = Scope(
        user_id=client.service_user_id,
        roles={client.authority_id: API_CLIENT_ROLE},
        read_localities=localities if client.can_read else frozenset(),
        write_localities=localities if client.can_write else frozenset(),
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
    from accounts.models import LocalityUserObjectPermission, Membership

    if user.is_national_analyst:
        # National access is aggregate only: a membership (which the database refuses anyway)
        # is never merged into it, so a national user never receives person rows.
        return Scope(user_id=user.pk, national=True)
    # Memberships are readable by their own user; locality grants then need the authorities.
    with _settings({"dsr.user_id": str(user.pk)}):
        roles = dict(
            Membership.objects.filter(user=user).order_by().values_list("authority_id", "role")
        )
        staff_of = [a for a, role in roles.items() if role != "lead"]
        grants: list[tuple[int, int, str]] = []
        if staff_of:
            with _settings({"dsr.authorities": ",".join(map(str, roles))}):
                grants = list(
                    LocalityUserObjectPermission.objects.filter(
                        user=user,
                        content_object__authority_id__in=staff_of,
                        permission__codename__in=[READ_LOCALITY, WRITE_LOCALITY],
                    ).values_list(
                        "content_object_id", "content_object__authority_id", "permission__codename"
                    )
                )
    # Writing implies reading; only a practitioner's write grant counts.
    return Scope(
        user_id=user.pk,
        roles=roles,
        read_localities=frozenset(loc for loc, _, _ in grants),
        write_localities=frozenset(
            loc
            for loc, authority_id, perm in grants
            if perm == WRITE_LOCALITY and roles.get(authority_id) == "practitioner"
        ),
        national=user.is_national_analyst,
    )


def _apply(values: dict[str, str]) -> dict[str, str]:
    """Set transaction-local settings; return what they were."""
    keys = list(values)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + ", ".join("current_setting(%s, true)" for _ in keys)
            + ", "
            + ", ".join("set_config(%s, %s, true)" for _ in keys),
            [*keys, *[x for k in keys for x in (k, values[k])]],
        )
        previous = cursor.fetchone()[: len(keys)]
    return {k: (v or "") for k, v in zip(keys, previous, strict=True)}


@contextmanager
def _settings(values: dict[str, str]) -> Iterator[None]:
    with transaction.atomic(savepoint=False):
        previous = _apply(values)
        yield
        # Only on a clean exit, and not when the block is marked for rollback (a request that
        # ended in a 500): the rollback undoes the settings anyway, and no query may run before it.
        if not connection.needs_rollback:
            _apply(previous)


def activate(scope: Scope) -> None:
    """Bind the current transaction to `scope` until it ends. Call inside an atomic block."""
    if not connection.in_atomic_block:
        raise RuntimeError("A tenant scope is transaction-local: activate it inside atomic().")
    _apply(scope.db_settings())


@contextmanager
def using_scope(scope: Scope) -> Iterator[Scope]:
    """Run a block (a task, a command) under `scope`, restoring the previous scope after."""
    with _settings(scope.db_settings()):
        yield scope


@contextmanager
def system_scope(reason: str, *, actor: User | None = None) -> Iterator[Scope]:
    """The named scope for work across every tenant: seeding, national aggregation, retention.

    Every use is audited, because it steps around the per-tenant policy.
    """
    from .audit import record_event

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
    from .audit import record_event

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
def transfer_acceptance(transfer_id: int, *, actor: User) -> Iterator[None]:
    """Open the sending record of a pending transfer to the caller's authority, for the rest of
    the block: the person, their history, and the sending authority's audit rows.

    One named operation of the database (`dsr_open_transfer_for_acceptance`, owned by the owner)
    checks, in the actor's own scope, that the transfer is pending and addressed to the actor's
    authority, and grants this transaction those rows only; the grant ends with the block.
    Audited.
    """
    from .audit import record_event

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
    from .audit import record_event

    with transaction.atomic(savepoint=False):
        with using_scope(scope_for(actor)), connection.cursor() as cursor:
            cursor.execute("SELECT dsr_open_return_for_decision(%s)", [return_id])
        record_event(actor, "return.opened_for_decision", changes={"return": return_id})
        yield
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT dsr_close_transaction_grants()")


# Helpers beside the views and the API: the object and the right to act, or 404/403.
def person_for_read(user: User, pk: int, queryset: QuerySet | None = None) -> Person:
    from .models import Person

    qs = queryset if queryset is not None else Person.objects.all()
    person = qs.visible_to(user).filter(pk=pk).first()
    if person is None:
        raise out_of_scope(user, "person", pk, "No such person on your register.")
    return person


def person_for_write(user: User, pk: int, *, lock: bool = False) -> Person:
    """A person the user may change. Out of scope is 404; readable but not writable is 403."""
    from .models import Person

    qs = Person.objects.writable_by(user)
    if lock:
        qs = qs.select_for_update()
    person = qs.filter(pk=pk).first()
    if person is None:
        if Person.objects.visible_to(user).filter(pk=pk).exists():
            raise PermissionDenied("You can read this record but not change it.")
        raise out_of_scope(user, "person", pk, "No such person on your register.")
    return person


def is_national(user: User | None) -> bool:
    """The national analyst: aggregates of every authority, never a person row."""
    return scope_for(user).national


def require_national(user: User | None) -> None:
    """Pages and actions of the national team; anyone else gets 404 (they do not exist for them)."""
    if not is_national(user):
        raise Http404("No such page.")


def require_lead(user: User, authority_id: int) -> None:
    scope = scope_for(user)
    if scope.is_lead_of(authority_id):
        return
    if authority_id in scope.authority_ids:
        raise PermissionDenied("Only the authority's lead can do this.")
    raise out_of_scope(user, "authority", authority_id, "No such authority in your scope.")


def person_for_erasure(user: User, pk: int) -> Person:
    """A register entry the user may erase as added in error: the authority's lead only. Out of
    scope is 404; other staff who can read the record get 403."""
    person = person_for_read(user, pk)
    require_lead(user, person.authority_id)
    return person


def require_locality_write(user: User, locality: Locality) -> None:
    scope = scope_for(user)
    if scope.can_write_locality(locality):
        return
    if scope.can_read_locality(locality):
        raise PermissionDenied("You can read this locality but not add or change people in it.")
    raise out_of_scope(user, "locality", locality.pk, "No such locality in your scope.")
