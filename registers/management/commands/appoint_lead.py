from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from accounts.services import hand_over_lead, invitation_status, send_invitation
from registers import access
from registers.codes import REPLACED_AUTHORITY_CODES
from registers.models import IntegrationAuthority


class Command(BaseCommand):
    help = "Appoint an authority's named lead (the first one, or a handover without the old lead)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--authority", required=True, help="HSCP code, e.g. S37000006")
        parser.add_argument("--email", required=True, help="The new lead's email")
        parser.add_argument("--create", action="store_true", help="Create the user if missing")

    def handle(self, *args, authority: str, email: str, create: bool, **options) -> None:
        code = REPLACED_AUTHORITY_CODES.get(authority.upper(), authority.upper())
        ia = IntegrationAuthority.objects.filter(code=code).first()
        if ia is None:
            raise CommandError(f"No integration authority with code {authority}.")
        email = email.strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None and not create:
            raise CommandError(f"No user {email}; pass --create to invite them.")
        with transaction.atomic(), access.system_scope(f"appoint_lead {code} {email}"):
            if user is None:
                user = User(username=email, email=email)
                user.set_unusable_password()
                user.save()
            hand_over_lead(None, ia, to_user=user)
            invite = invitation_status(user) != "accepted"
            if invite:
                send_invitation(user, ia.name)
        self.stdout.write(f"{email} is now the named lead for {ia.name}.")
        if invite:
            self.stdout.write("They have no password yet: an invitation to set one was emailed.")
