import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.settings")

# Tasks that may run long and that nobody waits on: the heavy queue (settings.DSR_QUEUE_HEAVY).
# Report jobs choose their queue by kind when queued (reporting.services.queue_for).
HEAVY_TASKS = frozenset(
    {
        "reporting.tasks.take_due_census_snapshots",
        "reporting.tasks.expire_generated_files",
        "reporting.tasks.send_return_reminder",
        "registers.tasks.pseudonymise_leavers",
        "registers.tasks.compact_register_counts",
        "registers.tasks.discard_unconfirmed_imports",
        "registers.tasks.send_reminder_notices",
        "registers.tasks.send_weekly_digests",
    }
)


def route_task(name: str, args: object, kwargs: object, options: dict, task=None, **kw) -> dict:
    """Celery's router: read at send time, so the queue names are the settings' of the moment."""
    from django.conf import settings

    heavy = name in HEAVY_TASKS
    return {"queue": settings.DSR_QUEUE_HEAVY if heavy else settings.DSR_QUEUE_INTERACTIVE}


app = Celery("dsr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids, task metrics and the worker heartbeat (docs/operations.md).
from . import telemetry  # noqa: E402, F401
