from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import SECRET_ENV_PREFIX, IdentityProvider
from registers import access
from registers.audit import AuditAction, record_event
from registers.codes import REPLACED_AUTHORITY_CODES
from registers.models import IntegrationAuthority


def _bool(value: str) -> bool:
    if value.lower() in {"yes", "true", "1"}:
        return True
    if value.lower() in {"no", "false", "0"}:
        return False
    raise ValueError(value)


class Command(BaseCommand):
    help = (
        "Add or change an organisation's OpenID Connect provider (docs/sign-in.md), or --list "
        "them. "
        "Runs in the audited system scope, with the worker role's credentials. The client secret "
        f"is never given here: name the environment variable ({SECRET_ENV_PREFIX}...) that holds "
        "it in the web server's environment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="List the providers and stop")
        parser.add_argument("--slug", help="Short name in addresses, e.g. nhs-dg")
        parser.add_argument("--name", help='The organisation, as in "Sign in with <name>"')
        parser.add_argument("--issuer", help="Issuer URL (discovery is read from it)")
        parser.add_argument("--client-id")
        parser.add_argument("--secret-env", help=f"{SECRET_ENV_PREFIX}... variable name")
        parser.add_argument("--domains", help="Comma-separated email domains")
        parser.add_argument(
            "--authority", action="append", default=None, help="HSCP code served (repeatable)"
        )
        parser.add_argument("--national-team", type=_bool, help="yes/no: national analysts")
        parser.add_argument("--trust-mfa", type=_bool, help="yes/no: its MFA replaces ours")
        parser.add_argument("--mfa-acr", help="Comma-separated acr values that mean MFA")
        parser.add_argument("--email-verified-claim", help="e.g. email_verified, xms_edov")
        parser.add_argument("--enabled", type=_bool, help="yes/no")

    def handle(self, *args, **options) -> None:
        if options["list"]:
            for p in IdentityProvider.objects.prefetch_related("authorities"):
                served = ", ".join(a.code for a in p.authorities.all())
                self.stdout.write(
                    f"{p.slug}: {p.name} {p.issuer} client {p.client_id}"
                    f" secret ${p.client_secret_env}"
                    f" domains {','.join(p.email_domains)} authorities [{served}]"
                    f" national {p.national_team} trusts MFA {p.trusts_provider_mfa}"
                    f" enabled {p.enabled}"
                )
            return
        if not options["slug"]:
            raise CommandError("Give --slug (or --list).")
        with transaction.atomic(), access.system_scope(f"identity_provider {options['slug']}"):
            provider = IdentityProvider.objects.filter(slug=options["slug"]).first()
            created = provider is None
            provider = provider or IdentityProvider(slug=options["slug"])
            fields = {
                "name": options["name"],
                "issuer": options["issuer"],
                "client_id": options["client_id"],
                "client_secret_env": options["secret_env"],
                "national_team": options["national_team"],
                "trusts_provider_mfa": options["trust_mfa"],
                "email_verified_claim": options["email_verified_claim"],
                "enabled": options["enabled"],
            }
            for name, value in fields.items():
                if value is not None:
                    setattr(provider, name, value)
            if options["domains"] is not None:
                provider.email_domains = _list(options["domains"])
            if options["mfa_acr"] is not None:
                provider.mfa_acr_values = [v.strip() for v in options["mfa_acr"].split(",") if v]
            try:
                provider.full_clean(exclude=["authorities"])
            except ValidationError as error:
                raise CommandError(f"Not saved: {error.message_dict}") from error
            provider.save()
            if options["authority"] is not None:
                provider.authorities.set(_authorities(options["authority"]))
            changes = {
                "slug": provider.slug,
                "issuer": provider.issuer,
                "client_id": provider.client_id,
                "email_domains": provider.email_domains,
                "national_team": provider.national_team,
                "trusts_provider_mfa": provider.trusts_provider_mfa,
                "enabled": provider.enabled,
            }
            for authority in provider.authorities.all() or [None]:
                record_event(
                    None,
                    AuditAction.IDENTITY_PROVIDER_ADDED
                    if created
                    else AuditAction.IDENTITY_PROVIDER_CHANGED,
                    authority_id=authority.pk if authority else None,
                    obj=provider,
                    changes=changes,
                )
        self.stdout.write(f"{'Added' if created else 'Changed'} {provider.slug}: {provider.name}.")


def _list(value: str) -> list[str]:
    return sorted({v.strip().lower() for v in value.split(",") if v.strip()})


def _authorities(codes: list[str]) -> list[IntegrationAuthority]:
    found = []
    for code in codes:
        code = REPLACED_AUTHORITY_CODES.get(code.upper(), code.upper())
        authority = IntegrationAuthority.objects.filter(code=code).first()
        if authority is None:
            raise CommandError(f"No integration authority with code {code}.")
        found.append(authority)
    return found
