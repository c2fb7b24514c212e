"""Staff, roles and grants. Roles live in `Membership`; what each role may touch is stored as
django-guardian object permissions on the authority (lead) and on localities (staff)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from guardian.shortcuts import assign_perm, remove_perm

from registers import access
from registers.audit import AuditAction, record_event
from registers.models import IntegrationAuthority, Locality
from registers.validation import (
    CONTROL_CHARACTER_MESSAGE,
    has_control_characters,
    refuse_control_characters,
)

from . import mfa
from .emails import send_email, site_link
from .models import ApiClient, ApiScope, LocalityUserObjectPermission, Membership, Role, User

LEAD_PERM = f"registers.{access.LEAD_AUTHORITY}"
READ_PERM = f"registers.{access.READ_LOCALITY}"
WRITE_PERM = f"registers.{access.WRITE_LOCALITY}"


def _locality_perms(role: str) -> list[str]:
    return [READ_PERM, WRITE_PERM] if role == Role.PRACTITIONER else [READ_PERM]


def _strip_locality_grants(user: User, authority: IntegrationAuthority) -> None:
    LocalityUserObjectPermission.objects.filter(
        user=user, content_object__authority=authority
    ).delete()


def _own_locality(authority: IntegrationAuthority, locality: Locality) -> None:
    if locality.authority_id != authority.pk:
        raise ValidationError({"localities": ["Choose localities in your own authority."]})
    if locality.retired_at is not None:
        raise ValidationError({"localities": [f"{locality.name} is retired: choose another."]})


@transaction.atomic
def add_staff_member(
    actor: User,
    authority: IntegrationAuthority,
    *,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    localities: Iterable[Locality] = (),
) -> Membership:
    """Add someone to the authority's staff, inviting them by email if they are new."""
    access.require_lead(actor, authority.pk)
    if role not in (Role.PRACTITIONER, Role.VIEWER):
        raise ValidationError(
            {"role": ["Add staff as practitioner or viewer; hand over the lead role separately."]}
        )
    email = User.objects.normalize_email(email.strip()).lower()
    if not email:
        raise ValidationError({"email": ["Enter an email address."]})
    refuse_control_characters(email=email, first_name=first_name, last_name=last_name)
    user = User.objects.filter(email__iexact=email).first()
    invited = user is None
    if user is not None:
        access.refuse_national_member(user, field="email")
    if invited:
        user = User(
            username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip()
        )
        user.set_unusable_password()
        user.save()
    elif Membership.objects.filter(user=user, authority=authority).exists():
        raise ValidationError({"email": ["This person is already on your staff."]})
    membership = Membership.objects.create(user=user, authority=authority, role=role)
    for locality in localities:
        _own_locality(authority, locality)
        for perm in _locality_perms(role):
            assign_perm(perm, user, locality)
    record_event(
        actor,
        AuditAction.STAFF_ADDED,
        authority_id=authority.pk,
        obj=membership,
        changes={"email": email, "role": role, "localities": [loc.name for loc in localities]},
    )
    if invited:
        send_invitation(user, authority.name)
    access.forget_scope(user)
    return membership


def set_password_link(user: User) -> str:
    """The one-use link that sets the user's password (invitations and forgotten passwords)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return site_link(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def _valid_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def send_invitation(user: User, team: str) -> None:
    """Note the invitation's time and email the set-password link once the transaction
    commits (`team`: the authority's name, or the national team)."""
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    link = set_password_link(user)
    context = {"team": team, "link": link, "valid_days": _valid_days()}
    transaction.on_commit(lambda: send_email(user.email, "invitation", context))


def invitation_status(user: User) -> str:
    """`accepted` (a password is set), `sent` (waiting, the link still works) or `expired`."""
    if user.has_usable_password():
        return "accepted"
    if user.invited_at is None:
        return "expired"
    age = (timezone.now() - user.invited_at).total_seconds()
    return "sent" if age < settings.PASSWORD_RESET_TIMEOUT else "expired"


@transaction.atomic
def resend_invitation(actor: User, membership: Membership) -> None:
    """A new invitation (a new link) for a member who has not set their password yet."""
    access.require_lead(actor, membership.authority_id)
    user = membership.user
    if invitation_status(user) == "accepted":
        raise ValidationError("They have already accepted the invitation and set a password.")
    send_invitation(user, membership.authority.name)
    record_event(
        actor,
        AuditAction.STAFF_INVITATION_RESENT,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"email": user.email},
    )


@transaction.atomic
def deactivate_staff_member(actor: User, membership: Membership) -> Membership:
    """Stop a member's access at once while keeping them listed (their history stays theirs);
    they can be reactivated. Removal drops the membership and its grants."""
    access.require_lead(actor, membership.authority_id)
    if membership.role == Role.LEAD:
        raise ValidationError("Hand over the lead role before deactivating the lead.")
    if membership.deactivated_at is not None:
        raise ValidationError("This member of staff is already deactivated.")
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["deactivated_at", "updated_at"])
    record_event(
        actor,
        AuditAction.STAFF_DEACTIVATED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"email": membership.user.email},
    )
    access.forget_scope(membership.user)
    return membership


@transaction.atomic
def reactivate_staff_member(actor: User, membership: Membership) -> Membership:
    access.require_lead(actor, membership.authority_id)
    if membership.deactivated_at is None:
        raise ValidationError("This member of staff is active.")
    membership.deactivated_at = None
    membership.save(update_fields=["deactivated_at", "updated_at"])
    record_event(
        actor,
        AuditAction.STAFF_REACTIVATED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"email": membership.user.email},
    )
    access.forget_scope(membership.user)
    return membership


def _reset_second_factor(actor: User, user: User) -> int:
    removed = mfa.remove_device(actor, user)
    user.second_factor_reset_at = timezone.now()
    user.save(update_fields=["second_factor_reset_at"])
    context = {"reset_by": str(actor)}
    transaction.on_commit(lambda: send_email(user.email, "second_factor_reset", context))
    return removed


@transaction.atomic
def reset_member_second_factor(actor: User, membership: Membership) -> int:
    """A member lost their phone: remove their authenticator app. They are told by email and must
    set up a new one at their next sign-in; sessions verified by the old one stop at once."""
    access.require_lead(actor, membership.authority_id)
    if membership.user_id == actor.pk:
        raise ValidationError("Replace your own authenticator app from 'Your account'.")
    return _reset_second_factor(actor, membership.user)


@transaction.atomic
def set_role(actor: User, membership: Membership, *, role: str) -> Membership:
    access.require_lead(actor, membership.authority_id)
    if membership.role == Role.LEAD or role == Role.LEAD:
        raise ValidationError({"role": ["Use 'hand over the lead role' to change the lead."]})
    if role not in (Role.PRACTITIONER, Role.VIEWER):
        raise ValidationError({"role": ["Choose practitioner or viewer."]})
    access.refuse_national_member(membership.user, field="role")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    # Keep every granted locality, with the rights of the new role.
    granted = Locality.objects.filter(
        localityuserobjectpermission__user=membership.user,
        authority_id=membership.authority_id,
    ).distinct()
    for locality in granted:
        remove_perm(WRITE_PERM, membership.user, locality)
        for perm in _locality_perms(role):
            assign_perm(perm, membership.user, locality)
    record_event(
        actor,
        AuditAction.STAFF_ROLE_CHANGED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"role": [old, role]},
    )
    access.forget_scope(membership.user)
    return membership


@transaction.atomic
def grant_locality(actor: User, membership: Membership, locality: Locality) -> None:
    access.require_lead(actor, membership.authority_id)
    _own_locality(membership.authority, locality)
    if membership.role == Role.LEAD:
        raise ValidationError("The lead already has every locality.")
    access.refuse_national_member(membership.user, field="localities")
    for perm in _locality_perms(membership.role):
        assign_perm(perm, membership.user, locality)
    record_event(
        actor,
        AuditAction.STAFF_LOCALITY_GRANTED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"locality": locality.name},
    )
    access.forget_scope(membership.user)


@transaction.atomic
def revoke_locality(actor: User, membership: Membership, locality: Locality) -> None:
    access.require_lead(actor, membership.authority_id)
    if locality.authority_id != membership.authority_id:
        raise ValidationError({"localities": ["Choose localities in your own authority."]})
    LocalityUserObjectPermission.objects.filter(
        user=membership.user, content_object=locality
    ).delete()
    record_event(
        actor,
        AuditAction.STAFF_LOCALITY_REVOKED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"locality": locality.name},
    )
    access.forget_scope(membership.user)


@transaction.atomic
def remove_staff_member(actor: User, membership: Membership) -> None:
    access.require_lead(actor, membership.authority_id)
    if membership.role == Role.LEAD:
        raise ValidationError("Hand over the lead role before removing the lead.")
    _strip_locality_grants(membership.user, membership.authority)
    record_event(
        actor,
        AuditAction.STAFF_REMOVED,
        authority_id=membership.authority_id,
        obj=membership,
        changes={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()
    access.forget_scope(membership.user)


@transaction.atomic
def hand_over_lead(
    actor: User | None, authority: IntegrationAuthority, *, to_user: User
) -> Membership:
    """Make `to_user` the authority's one named lead.

    The outgoing lead stays on the staff as a practitioner with every locality, so no work is cut
    off; the new lead can narrow that. `actor=None` is the system appointing a first lead (seeding,
    the `appoint_lead` command) and needs the system scope.
    """
    if actor is not None:
        access.require_lead(actor, authority.pk)
    elif not _in_system_scope():
        raise PermissionDenied("Only the system scope may appoint a lead without an actor.")
    access.refuse_national_member(to_user, field="to_user")
    current = Membership.objects.filter(authority=authority, role=Role.LEAD).first()
    if current and current.user_id == to_user.pk:
        raise ValidationError({"to_user": ["This person is already the lead."]})
    if current:
        current.role = Role.PRACTITIONER
        current.save(update_fields=["role", "updated_at"])
        remove_perm(LEAD_PERM, current.user, authority)
        for locality in authority.localities.active():
            for perm in _locality_perms(Role.PRACTITIONER):
                assign_perm(perm, current.user, locality)
        access.forget_scope(current.user)
    membership, _ = Membership.objects.update_or_create(
        user=to_user, authority=authority, defaults={"role": Role.LEAD}
    )
    _strip_locality_grants(to_user, authority)
    assign_perm(LEAD_PERM, to_user, authority)
    record_event(
        actor,
        AuditAction.STAFF_LEAD_HANDED_OVER,
        authority_id=authority.pk,
        obj=membership,
        changes={"from": current.user.email if current else None, "to": to_user.email},
    )
    access.forget_scope(to_user)
    return membership


def _in_system_scope() -> bool:
    """Acting as the cross-tenant database role, which only the worker role may become."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0] == settings.DSR_DB_SYSTEM_ROLE


# API clients: a lead's local case-management systems. The token is returned once, by creation and
# rotation; only its hash is kept.
TOKEN_PREFIX = "dsr_"  # noqa: S105 (a label, not a secret)


def _new_token() -> tuple[str, str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token[: len(TOKEN_PREFIX) + 8], access.token_hash(token)


def _api_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = set(scopes)
    if not wanted or not wanted <= {s.value for s in ApiScope}:
        raise ValidationError({"scopes": ["Choose read, or read and write."]})
    # Writing implies reading: a client that changes records must see what it changes.
    return [ApiScope.READ.value] + ([ApiScope.WRITE.value] if ApiScope.WRITE in wanted else [])


@transaction.atomic
def create_api_client(
    actor: User, authority: IntegrationAuthority, *, name: str, scopes: Iterable[str]
) -> tuple[ApiClient, str]:
    """A new API client for the authority; returns it with its token (shown once)."""
    access.require_lead(actor, authority.pk)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the system that will use this client."]
    elif has_control_characters(name):
        errors["name"] = [CONTROL_CHARACTER_MESSAGE]
    elif ApiClient.objects.filter(authority=authority, name__iexact=name).exists():
        errors["name"] = ["Your authority already has an API client with this name."]
    try:
        chosen = _api_scopes(scopes)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    token, prefix, digest = _new_token()
    marker = secrets.token_hex(8)
    service_user = User(
        username=f"api-client-{marker}",
        email=f"api-client-{marker}@api-clients.invalid",
        first_name="API client",
        last_name=name,
    )
    service_user.set_unusable_password()
    service_user.save()
    client = ApiClient.objects.create(
        authority=authority,
        name=name,
        scopes=chosen,
        token_prefix=prefix,
        token_hash=digest,
        service_user=service_user,
        created_by=actor,
    )
    record_event(
        actor, AuditAction.API_CLIENT_CREATED, obj=client, changes={"name": name, "scopes": chosen}
    )
    return client, token


def _lead_of_client(actor: User, client: ApiClient) -> ApiClient:
    access.require_lead(actor, client.authority_id)
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if locked.revoked_at is not None:
        raise ValidationError("This API client has been revoked.")
    return locked


@transaction.atomic
def rotate_api_client_token(actor: User, client: ApiClient) -> tuple[ApiClient, str]:
    """Replace the client's token; the old one stops working at once. Returns the new token."""
    client = _lead_of_client(actor, client)
    token, client.token_prefix, client.token_hash = _new_token()
    client.rotated_at = timezone.now()
    client.save(update_fields=["token_prefix", "token_hash", "rotated_at"])
    record_event(actor, AuditAction.API_CLIENT_ROTATED, obj=client, changes={"name": client.name})
    return client, token


@transaction.atomic
def revoke_api_client(actor: User, client: ApiClient) -> ApiClient:
    """The client's token stops working for good; the client stays listed, marked revoked."""
    client = _lead_of_client(actor, client)
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    User.objects.filter(pk=client.service_user_id).update(is_active=False)
    record_event(actor, AuditAction.API_CLIENT_REVOKED, obj=client, changes={"name": client.name})
    return client


def note_api_client_use(client: ApiClient) -> None:
    """Keep `last_used_at` roughly current without writing on every call."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


# The national analysts, managed by the national team's administrators: the same lifecycle as an
# authority's staff (invitation, resend, deactivate, remove, second-factor reset). Their events
# belong to no authority.
NATIONAL_TEAM = "the national team"


def _analyst(actor: User, analyst: User) -> User:
    access.require_national_administrator(actor)
    found = User.objects.select_for_update().filter(pk=analyst.pk, is_national_analyst=True)
    locked = found.first()
    if locked is None:
        raise ValidationError("This person is not a national analyst.")
    return locked


@transaction.atomic
def invite_national_analyst(
    actor: User, *, email: str, first_name: str = "", last_name: str = ""
) -> User:
    """Make someone a national analyst, inviting them by email if they are new."""
    access.require_national_administrator(actor)
    email = User.objects.normalize_email((email or "").strip()).lower()
    if not email:
        raise ValidationError({"email": ["Enter an email address."]})
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and access.is_national_analyst_account(user):
        raise ValidationError({"email": ["This person is already a national analyst."]})
    invited = user is None
    if invited:
        user = User(
            username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip()
        )
        user.set_unusable_password()
    access.set_national_analyst(user, granted=True)
    user.save()
    record_event(actor, AuditAction.NATIONAL_ANALYST_ADDED, obj=user, changes={"email": email})
    if invited:
        send_invitation(user, NATIONAL_TEAM)
    access.forget_scope(user)
    return user


@transaction.atomic
def resend_national_invitation(actor: User, analyst: User) -> None:
    analyst = _analyst(actor, analyst)
    if invitation_status(analyst) == "accepted":
        raise ValidationError("They have already accepted the invitation and set a password.")
    send_invitation(analyst, NATIONAL_TEAM)
    record_event(
        actor, AuditAction.NATIONAL_INVITATION_RESENT, obj=analyst, changes={"email": analyst.email}
    )


@transaction.atomic
def deactivate_national_analyst(actor: User, analyst: User) -> User:
    """Stop their sign-in at once; the account and its history stay."""
    analyst = _analyst(actor, analyst)
    if analyst.pk == actor.pk:
        raise ValidationError("You cannot deactivate your own account.")
    if not analyst.is_active:
        raise ValidationError("This analyst is already deactivated.")
    analyst.is_active = False
    analyst.save(update_fields=["is_active"])
    record_event(
        actor,
        AuditAction.NATIONAL_ANALYST_DEACTIVATED,
        obj=analyst,
        changes={"email": analyst.email},
    )
    return analyst


@transaction.atomic
def reactivate_national_analyst(actor: User, analyst: User) -> User:
    analyst = _analyst(actor, analyst)
    if analyst.is_active:
        raise ValidationError("This analyst is active.")
    analyst.is_active = True
    analyst.save(update_fields=["is_active"])
    record_event(
        actor,
        AuditAction.NATIONAL_ANALYST_REACTIVATED,
        obj=analyst,
        changes={"email": analyst.email},
    )
    return analyst


@transaction.atomic
def remove_national_analyst(actor: User, analyst: User) -> User:
    """They are no longer a national analyst (their account stays for its history)."""
    analyst = _analyst(actor, analyst)
    if analyst.pk == actor.pk:
        raise ValidationError("You cannot remove yourself.")
    access.set_national_analyst(analyst, granted=False)
    analyst.save(update_fields=["is_national_analyst"])
    record_event(
        actor, AuditAction.NATIONAL_ANALYST_REMOVED, obj=analyst, changes={"email": analyst.email}
    )
    access.forget_scope(analyst)
    return analyst


@transaction.atomic
def reset_national_analyst_second_factor(actor: User, analyst: User) -> int:
    analyst = _analyst(actor, analyst)
    if analyst.pk == actor.pk:
        raise ValidationError("Replace your own authenticator app from 'Your account'.")
    return _reset_second_factor(actor, analyst)
