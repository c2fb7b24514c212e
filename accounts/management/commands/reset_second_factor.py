from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import mfa
from accounts.models import User
from registers import access


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator app (a lost phone): they set up a new one at their next "
        "sign-in. Runs in the audited system scope."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)

    def handle(self, *args, email: str, **options) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with the email address {email}.")
        with transaction.atomic(), access.system_scope(f"reset_second_factor {user.email}"):
            removed = mfa.remove_device(None, user)
        self.stdout.write(f"Removed {removed} device(s) of {user.email}.")
