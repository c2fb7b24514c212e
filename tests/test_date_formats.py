"""One date format for display: templates name the formats set in dsr/formats/en/formats.py
("17 December 2026", "17 Dec 2026"), never a format of their own."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR) / "templates"
NAMED = {"DATE_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"}
# A time on its own; the audit trail's entries to the second; a date typed back into a form.
ALLOWED = {"H:i", "j M Y H:i:s", "d/m/Y"}


def test_templates_show_dates_in_the_one_format():
    found = {}
    for template in ROOT.rglob("*"):
        if template.suffix not in (".html", ".txt"):
            continue
        for fmt in re.findall(r"\|date:[\"']([^\"']*)[\"']", template.read_text()):
            if fmt not in NAMED | ALLOWED:
                found.setdefault(str(template.relative_to(ROOT)), []).append(fmt)
    assert found == {}


def test_the_named_formats_read_as_words():
    import datetime as dt

    from django.utils import formats, translation

    day = dt.date(2026, 12, 17)
    with translation.override("en-gb"):
        assert formats.date_format(day) == "17 December 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "17 Dec 2026"
    with translation.override(None):
        assert formats.date_format(day) == "17 December 2026"
