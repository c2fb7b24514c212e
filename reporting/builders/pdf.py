"""PDFs rendered by WeasyPrint from templates under templates/reporting/pdf/."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import weasyprint
from django.template.loader import render_to_string
from weasyprint import CSS, HTML

# WeasyPrint reports every rendering step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _user_agent_stylesheet() -> CSS:
    """WeasyPrint's own HTML stylesheet without its rules for every element's footnote and note
    pseudo-elements, and with list markers for list items only.

    Those rules (`::footnote-call`, `::marker`, ...) match every element, so WeasyPrint computes a
    style for six pseudo-elements of each table cell: on the national PDF (about 6,000 cells) that
    was a third of its time. Our documents use no footnotes or notes, and only list items have
    markers, so the pages are the same.
    """
    source = (Path(weasyprint.__file__).parent / "css" / "html5_ua.css").read_text()
    trimmed = re.sub(r"^::(?:footnote|note)-[^\n]*\n", "", source, flags=re.MULTILINE)
    trimmed = trimmed.replace("\n::marker {", "\nli::marker {")
    return CSS(string=trimmed)


# Parsed once per process: the stylesheet is WeasyPrint's, not any document's data.
_UA_STYLESHEET = _user_agent_stylesheet()


class _HTML(HTML):
    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_UA_STYLESHEET, *super()._ua_stylesheets(forms)[1:]]


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    return _HTML(string=html).write_pdf()
