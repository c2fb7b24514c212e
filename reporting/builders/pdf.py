"""PDFs rendered by WeasyPrint from templates under templates/reporting/pdf/."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import cssselect2
import weasyprint
from defusedxml import DefusedXmlException, ElementTree
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

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
    def __init__(self, string: str) -> None:
        """Parse `string` as XML when it is well-formed, else as HTML.

        WeasyPrint's HTML parser is written in Python: for the national PDF's 6,000 table cells
        it took a tenth of the time. Our templates are also well-formed XML (void elements
        closed, `<!DOCTYPE html>`), which the C parser reads to the same tree (defused: a document
        declaring entities goes to the HTML parser). The attributes set are HTML.__init__'s.
        """
        try:
            root = ElementTree.fromstring(string)
        except (ElementTree.ParseError, DefusedXmlException):
            super().__init__(string=string)
            return
        self.base_url = None
        self.url_fetcher = URLFetcher()
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_UA_STYLESHEET, *super()._ua_stylesheets(forms)[1:]]


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    return _HTML(string=html).write_pdf()


# Column widths for the tables of templates/reporting/pdf/_part.html --------------------------
#
# The tables use `table-layout: fixed`: WeasyPrint's automatic layout measures the smallest and
# largest width of every cell's text before laying anything out, which on the national PDF (about
# 5,500 cells) was a sixth of its time. Instead the widths are worked out here, the way the
# automatic layout would: each column gets its text's width, a column whose header wraps gives
# way first, and spare room goes to every column in proportion. The text widths are estimated
# from DejaVu Sans Bold's average advances (em per character), a little generously, so that a
# label never runs into its neighbour if the font differs.

_CONTENT_WIDTH_MM = {"portrait": 210 - 2 * 14, "landscape": 297 - 2 * 14}  # @page margins
_FONT_MM = 8.5 * 25.4 / 72  # th, td { font-size: 8.5pt }
_PADDING_MM = 2 * 1.5 + 0.5  # th, td { padding: 0 1.5mm } and the border


def _em(text: str) -> float:
    """The width of `text` set in bold, in em, rounded up."""
    width = 0.0
    for char in text:
        if char.isdigit():
            width += 0.70
        elif char.isupper():
            width += 0.78
        elif char.islower():
            width += 0.66
        elif char == " ":
            width += 0.35
        else:
            width += 0.5
    return width * 1.05


def column_widths(
    header: list[str], rows: list[list[Any]], label_columns: int, orientation: str = "portrait"
) -> list[float]:
    """Each column's width in mm, together the page's width. Label columns do not wrap (their
    width is their longest text); a value column may wrap its header between words. When even
    the narrowest widths do not fit, the table is wider than the page, as it would be with the
    automatic layout (squeezing it would set words over each other)."""
    available = _CONTENT_WIDTH_MM[orientation]
    longest, narrowest = [], []
    for index, title in enumerate(header):
        cells = [str(row[index]) for row in rows]
        widest = max([_em(title), *map(_em, cells)])
        if index < label_columns:
            least = widest
        else:
            least = max([*map(_em, title.split()), *map(_em, cells)])
        longest.append(widest * _FONT_MM + _PADDING_MM)
        narrowest.append(least * _FONT_MM + _PADDING_MM)
    if sum(longest) <= available:
        widths = [w * available / sum(longest) for w in longest]
    elif sum(narrowest) >= available:
        widths = narrowest
    else:
        spare = (available - sum(narrowest)) / (sum(longest) - sum(narrowest))
        widths = [
            least + (most - least) * spare for least, most in zip(narrowest, longest, strict=True)
        ]
    return [math.floor(w * 100) / 100 for w in widths]
