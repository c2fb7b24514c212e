import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.settings")

app = Celery("dsr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids, task metrics and the worker heartbeat (docs/operations.md).
from . import telemetry  # noqa: E402, F401
