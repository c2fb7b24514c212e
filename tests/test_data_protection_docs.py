"""The data protection officer's document says what the service does: every setting it names
with a default has that default in the settings and in `.env.example`."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "data-protection.md"

# Settings whose environment variable names a Django setting of another name.
SETTING_OF = {
    "DSR_SESSION_SECONDS": "SESSION_COOKIE_AGE",
    "DSR_LOGIN_FAILURE_LIMIT": "AXES_FAILURE_LIMIT",
}


def documented_defaults():
    return {
        name: int(value)
        for name, value in re.findall(r"`(DSR_[A-Z_]+)` \((\d+)\)", DOC.read_text())
    }


def test_the_document_names_the_retention_erasure_and_file_settings():
    assert {
        "DSR_RETENTION_YEARS",
        "DSR_FILE_RETENTION_DAYS",
        "DSR_ERASURE_WINDOW_DAYS",
        "DSR_SESSION_SECONDS",
    } <= set(documented_defaults())


def test_every_default_in_the_document_is_the_settings_default():
    env_example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    )
    for name, value in documented_defaults().items():
        assert env_example.get(name) == str(value), name
        setting = getattr(settings, SETTING_OF.get(name, name), None)
        if setting is not None:
            assert setting == value, name


def test_the_beat_tasks_the_document_names_are_scheduled():
    text = DOC.read_text()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in re.findall(r"`((?:registers|reporting)\.tasks\.[a-z_]+)`", text):
        assert task in tasks, task
