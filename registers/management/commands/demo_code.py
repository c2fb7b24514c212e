from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registers import demo


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo accounts (not in production)."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo codes are not available in production.")
        self.stdout.write(demo.demo_totp_code())
