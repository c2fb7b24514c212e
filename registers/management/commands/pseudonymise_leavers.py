from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from registers import access, data_protection
from registers.models import Person


class Command(BaseCommand):
    help = (
        "Pseudonymise people who left the register more than DSR_RETENTION_YEARS ago "
        "(what the daily retention task does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the people who are due"
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        today = timezone.localdate()
        cutoff = data_protection.retention_cutoff(today)
        if dry_run:
            with access.system_scope("retention: count people due for pseudonymisation"):
                due = Person.objects.filter(data_protection.due_for_pseudonymisation(today))
                count = due.count()
            self.stdout.write(
                f"{count} people left before {cutoff} and are due for pseudonymisation "
                f"(retention {settings.DSR_RETENTION_YEARS} years)."
            )
            return
        done = data_protection.pseudonymise_leavers(today=today)
        self.stdout.write(f"Pseudonymised {len(done)} people who left before {cutoff}.")
