"""Reads for the account pages: an authority's staff and their locality grants, its API clients,
and the national analysts. Each takes the acting user first; the caller has already obtained the
authority from the access module (`access.led_authority`), which is what limits these reads to
the authority's lead."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet
from django.http import Http404

from registers import access
from registers.models import IntegrationAuthority, Locality

from .models import ApiClient, IdentityProvider, LocalityUserObjectPermission, Membership, User


def staff(actor: User, *, authority: IntegrationAuthority) -> list[tuple[Membership, list[str]]]:
    """Every member of the authority's staff with the names of the localities granted to them."""
    members = Membership.objects.filter(authority=authority).select_related("user")
    grants = _granted_names(authority)
    return [(member, grants.get(member.user_id, [])) for member in members]


def _granted_names(authority: IntegrationAuthority) -> dict[int, list[str]]:
    grants: dict[int, set[str]] = defaultdict(set)
    rows = LocalityUserObjectPermission.objects.filter(
        content_object__authority=authority
    ).values_list("user_id", "content_object__name")
    for user_id, name in rows:
        grants[user_id].add(name)
    return {user_id: sorted(names) for user_id, names in grants.items()}


def staff_member(actor: User, *, authority: IntegrationAuthority, pk: int) -> Membership:
    """One member of the authority's staff; any other is 404 (and recorded as out of scope)."""
    membership = (
        Membership.objects.filter(authority=authority, pk=pk).select_related("user").first()
    )
    if membership is None:
        raise access.out_of_scope(actor, "membership", pk, "No such member of your staff.")
    return membership


def granted_localities(actor: User, membership: Membership) -> QuerySet[Locality]:
    """The localities of the membership's authority granted to its user."""
    return Locality.objects.filter(
        authority_id=membership.authority_id, localityuserobjectpermission__user=membership.user
    ).distinct()


def api_clients(actor: User, *, authority: IntegrationAuthority) -> QuerySet[ApiClient]:
    return ApiClient.objects.filter(authority=authority).select_related("created_by")


def api_client(actor: User, *, authority: IntegrationAuthority, pk: int) -> ApiClient:
    """One of the authority's API clients; any other is 404 (and recorded as out of scope)."""
    client = ApiClient.objects.filter(authority=authority, pk=pk).first()
    if client is None:
        raise access.out_of_scope(actor, "api_client", pk, "No such API client in your authority.")
    return client


def national_analysts(actor: User) -> QuerySet[User]:
    """The national analysts, by name (for the national administrators, checked by the caller)."""
    return User.objects.filter(is_national_analyst=True).order_by("last_name", "email")


def analyst_by_id(actor: User, pk: int) -> User:
    analyst = User.objects.filter(pk=pk, is_national_analyst=True).first()
    if analyst is None:
        raise Http404("No such national analyst.")
    return analyst


def identity_providers(
    actor: User, *, authority: IntegrationAuthority
) -> QuerySet[IdentityProvider]:
    """The organisations' providers whose staff sign in to the authority (service configuration,
    not a tenant table: docs/sign-in.md)."""
    return IdentityProvider.objects.filter(authorities=authority).order_by("name")
