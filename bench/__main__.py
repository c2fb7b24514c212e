"""`python -m bench`: run the benchmarks on the database in DATABASE_URL."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.settings")
django.setup()

from bench.harness import main  # noqa: E402 - after django.setup()

main()
