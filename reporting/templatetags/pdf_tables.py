"""Template filters for the PDF templates under templates/reporting/pdf/."""

from __future__ import annotations

from django import template

from reporting.builders import pdf
from reporting.documents import Sheet

register = template.Library()


@register.filter
def column_widths(sheet: Sheet, orientation: str | None) -> list[float]:
    """The sheet's column widths in mm (see pdf.column_widths)."""
    return pdf.column_widths(
        sheet.header, sheet.all_rows, sheet.label_columns, orientation or "portrait"
    )
