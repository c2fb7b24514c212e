from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from accounts.services import invitation_status, send_invitation
from registers import access
from registers.audit import AuditAction, record_event


class Command(BaseCommand):
    help = (
        "Make someone an administrator of the national team: they invite and manage the national "
        "analysts at /staff/national/. Runs in the audited system scope."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--create", action="store_true", help="Create the user if missing")
        parser.add_argument(
            "--revoke", action="store_true", help="Take the administrator role away instead"
        )

    def handle(self, *args, email: str, create: bool, revoke: bool, **options) -> None:
        email = email.strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None and (revoke or not create):
            raise CommandError(f"No user {email}; pass --create to invite them.")
        with transaction.atomic(), access.system_scope(f"national administrator {email}"):
            if user is None:
                user = User(username=email, email=email)
                user.set_unusable_password()
                user.save()
            user.is_national_administrator = not revoke
            if not revoke:
                access.set_national_analyst(user, granted=True)
            user.save()
            record_event(
                None,
                AuditAction.NATIONAL_ADMINISTRATOR_REVOKED
                if revoke
                else AuditAction.NATIONAL_ADMINISTRATOR_APPOINTED,
                obj=user,
                changes={"email": email},
            )
            invite = not revoke and invitation_status(user) != "accepted"
            if invite:
                send_invitation(user, "the national team")
        verb = "is no longer" if revoke else "is now"
        self.stdout.write(f"{email} {verb} an administrator of the national team.")
        if invite:
            self.stdout.write("They have no password yet: an invitation to set one was emailed.")
