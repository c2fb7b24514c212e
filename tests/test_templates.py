"""Templates stay ready for a Content-Security-Policy without 'unsafe-inline'."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR) / "templates"
# PDF templates are rendered by WeasyPrint on the server, never served to a browser.
TEMPLATES = sorted(p for p in ROOT.rglob("*.html") if "pdf" not in p.relative_to(ROOT).parts)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_script_style_or_event_handlers(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"<style\b", html), "inline <style>"
    assert not re.search(r"\sstyle=\"", html), "style attribute"
    assert not re.search(r"\son[a-z]+=\"", html), "inline event handler"


def test_no_page_loads_anything_from_another_site():
    for template in TEMPLATES:
        assert not re.search(r"(src|href)=\"(https?:)?//", template.read_text()), template.name
