from django.core.management.base import BaseCommand, CommandParser

from registers import demo


class Command(BaseCommand):
    help = "Create synthetic registers for every authority, demo staff and a national analyst."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="1 = Scotland's real volume (about 1,490 people); 100 for benchmarks.",
        )
        parser.add_argument("--quiet", action="store_true", help="Only print the totals.")
        parser.add_argument(
            "--no-returns",
            action="store_true",
            help="Build no demo census returns and queue no national builds (always so above "
            "--scale 2, as for benchmarks).",
        )

    def handle(self, *args, scale: float, quiet: bool, no_returns: bool, **options) -> None:
        if scale <= 0:
            self.stderr.write("--scale must be more than 0.")
            raise SystemExit(2)
        result = demo.seed(scale=scale, stdout=None if quiet else self.stdout)
        from reporting.demo import MAX_RETURNS_SCALE, queue_national_builds, seed_returns

        returns = builds = 0
        if no_returns or scale > MAX_RETURNS_SCALE:
            self.stdout.write("No demo census returns built (--no-returns, or --scale above 2).")
        else:
            returns = seed_returns(stdout=None if quiet else self.stdout)
            builds = queue_national_builds()
        if result.authorities_seeded == 0:
            self.stdout.write("Demo data already present: nothing changed.")
        else:
            self.stdout.write(
                f"Seeded {result.authorities_seeded} authorities: {result.people} people, "
                f"{result.status_changes} history entries, {result.reviews} reviews."
            )
        if returns:
            self.stdout.write(
                f"Built {returns} census returns from the history, submitted and (all but the "
                "latest few) accepted."
            )
        if builds:
            self.stdout.write(
                f"Queued {builds} national builds for the earlier census dates: the worker "
                "builds them in the background (seconds each at full size), and the "
                "national figures page shows each date once its release is built."
            )
        self.stdout.write(
            "\nDemo sign-ins (password for all: "
            f"{demo.DEMO_PASSWORD}):\n"
            f"  national analyst: {demo.NATIONAL_ANALYST_EMAIL}\n"
            f"  authority lead:   lead.dumfries-and-galloway@{demo.DEMO_EMAIL_DOMAIN}\n"
            f"  practitioner:     practitioner.dumfries-and-galloway@{demo.DEMO_EMAIL_DOMAIN}\n"
            f"  viewer:           viewer.dumfries-and-galloway@{demo.DEMO_EMAIL_DOMAIN}\n"
            "  (every authority has lead., practitioner. and viewer. users named after it)\n"
            "Leads and the analyst also enter a code from an authenticator app: add the key "
            f"{demo.demo_totp_base32()} to one, or run `python manage.py demo_code`."
        )
