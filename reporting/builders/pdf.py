"""PDFs rendered by WeasyPrint from templates under templates/reporting/pdf/."""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML

# WeasyPrint reports every rendering step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()
