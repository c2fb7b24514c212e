"""PDFs rendered by WeasyPrint from templates under templates/reporting/pdf/."""

from __future__ import annotations

import gc
import io
import logging
import math
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import cssselect2
import weasyprint
from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from reporting.documents import Sheet

# WeasyPrint reports every rendering step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)


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


_pauses = 0
_enable_after = False
_pauses_lock = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while WeasyPrint lays out and draws a document.

    A layout allocates hundreds of thousands of boxes, and each collection on the way walks the
    ever larger heap of boxes still in use: on the national PDF (about 6,000 table cells) that
    was a third of its time. Nothing is collected while paused; the document's garbage goes at
    the collector's first run after it (about a tenth of the time saved), and peak memory stays
    that of one document. Pauses nest across threads: the collector comes back when the last
    one ends, and only if it was on when the first began.
    """
    global _pauses, _enable_after
    with _pauses_lock:
        if _pauses == 0:
            _enable_after = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _enable_after:
                gc.enable()


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    with gc_paused():
        return _HTML(string=html).write_pdf()


# Long documents in pieces, in parallel ------------------------------------------------------
#
# The national PDF (about 6,000 table cells) is WeasyPrint's work cell by cell, on one core. Its
# by-authority tables each start a page of their own (`.topic + .topic` in summary.html), so the
# document can be cut before any of them into pieces that are runs of whole pages. Each piece is
# rendered on its own (the first here, the others in forked processes at the same time), the
# pieces' PDFs are joined, and the pages are numbered once the whole document's length is known.
# The pages are the same however many processes render them: where a process cannot be forked,
# or fails, or does not finish in time, its piece is rendered here instead.

PIECE_SECONDS = 120  # a forked render not done by then is stopped, and its piece rendered here


def processes() -> int:
    """How many processes render one document's pieces at the same time: four where there are
    two processors or more (more pieces than processors balances the load, since the pieces are
    of uneven size and the processors share what is left), unless DSR_PDF_PROCESSES says."""
    configured = getattr(settings, "DSR_PDF_PROCESSES", 0)
    if configured:
        return max(1, configured)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return 4 if cpus >= 2 else 1


def pieces(topics: list[list[Sheet]], count: int) -> list[list[list[Sheet]]]:
    """The topics (each a run of table parts starting a page) cut into at most `count` runs of
    about as many table cells each, in order."""
    weights = [sum(len(part.header) * (len(part.all_rows) + 1) for part in t) for t in topics]
    total, runs, run, done = sum(weights), [], [], 0
    for topic, weight in zip(topics, weights, strict=True):
        target = total * (len(runs) + 1) / count
        # Cut before this topic if that leaves the run nearer its share than taking it would.
        if run and len(runs) < count - 1 and abs(done - target) <= abs(done + weight - target):
            runs.append(run)
            run = []
        run.append(topic)
        done += weight
    return [*runs, run] if run else runs


def render_pdf_in_pieces(
    template: str, context: dict[str, Any], topics: list[list[Sheet]]
) -> bytes:
    """`template` rendered with `topics` (context["topics"]) cut into pieces rendered in
    parallel, joined, with every page numbered "Page n of N" (templates/reporting/pdf/_page.css).
    The template shows its opening only in the first piece (`later_piece`) and its closing only
    in the last (`earlier_piece`)."""
    runs = pieces(topics, processes())

    def html(index: int) -> str:
        piece = {
            "topics": runs[index],
            "later_piece": index > 0,
            "earlier_piece": index < len(runs) - 1,
            "numbered_after": True,
        }
        return render_to_string(template, {**context, **piece})

    with gc_paused():
        rendered = _render_in_parallel(html, len(runs))
    return _joined_and_numbered(rendered, context.get("orientation", "portrait"))


def _write_pdf(html: str) -> bytes:
    return _HTML(string=html).write_pdf()


def _render_in_parallel(html: Callable[[int], str], count: int) -> list[bytes]:
    """Each of the `count` pieces' PDF (`html(index)` its HTML): the first rendered here, the
    others in forked processes meanwhile, each writing its own HTML too."""
    children: dict[int, tuple[int, Any]] = {}  # piece: (process, its output)
    running: set[int] = set()
    with ExitStack() as stack:
        try:
            # Forking copies only the thread that forks. Another thread of this process that is
            # rendering a PDF too could hold a lock of the font and text libraries, which the
            # child would then wait on: only the one render may fork (no other may begin while
            # it does). A job's heartbeat thread only touches its own database connection.
            with _pauses_lock:
                if _pauses == 1 and hasattr(os, "fork"):
                    for index in range(1, count):
                        output = stack.enter_context(tempfile.TemporaryFile())
                        try:
                            pid = os.fork()
                        except OSError:
                            break  # no more processes: the rest are rendered here
                        if pid == 0:  # pragma: no cover - the child, which never returns
                            _child(lambda index=index: html(index), output)
                        children[index] = (pid, output)
                        running.add(pid)
            results = [_write_pdf(html(0))]
            for index in range(1, count):
                pid, output = children.get(index, (0, None))
                if pid and _exited(pid, time.monotonic() + PIECE_SECONDS, running) == 0:
                    output.seek(0)
                    results.append(output.read())
                    continue
                if pid:
                    logger.warning("a PDF piece's process failed or took too long; rendering here")
                results.append(_write_pdf(html(index)))
            return results
        finally:
            # Only children not yet reaped: a reaped child's number may be another process's.
            for pid in running:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _child(html: Callable[[], str], output: Any) -> None:  # pragma: no cover - forked process
    """Render one piece into `output`, then leave at once: os._exit, so that nothing of the
    parent's (its database connection, its task, atexit) is run or closed from here."""
    status = 1
    try:
        output.write(_write_pdf(html()))
        output.flush()
        status = 0
    finally:
        os._exit(status)


def _exited(pid: int, deadline: float, running: set[int]) -> int | None:
    """The child's exit code, once it has exited (and been reaped: it leaves `running`), or
    None if it is still running at `deadline`."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            running.discard(pid)
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _joined_and_numbered(documents: list[bytes], orientation: str) -> bytes:
    """The pieces' pages in order, each stamped with its number and the total, set in a page of
    the same size and margins as theirs (templates/reporting/pdf/page_numbers.html)."""
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(data)) for data in documents]
    parent = None
    for reader in readers:
        offset = len(writer.pages)
        writer.append(reader, import_outline=False)
        # A later piece's headings come under the document's title, as they would in one piece.
        added = _copy_outline(writer, reader, reader.outline, offset, parent)
        if parent is None and added:
            parent = added[-1]
    if readers[0].metadata:
        writer.add_metadata(dict(readers[0].metadata))
    html = render_to_string(
        "reporting/pdf/page_numbers.html",
        {"pages": range(len(writer.pages)), "orientation": orientation},
    )
    numbers = PdfReader(io.BytesIO(_write_pdf(html)))
    for page, number in zip(writer.pages, numbers.pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Column widths for the tables of templates/reporting/pdf/_part.html --------------------------
#
# The tables use `table-layout: fixed`: WeasyPrint's automatic layout measures the smallest and
# largest width of every cell's text before laying anything out, which on the national PDF (about
# 5,500 cells) was a sixth of its time. Instead the widths are worked out here, the way the
# automatic layout would: each column gets its text's width, a column whose header wraps gives
# way first, and spare room goes to every column in proportion. Text is measured with the
# advances of DejaVu Sans Bold (the sans-serif font of our images; labels, headers and totals are
# bold, and bold is the wider).

# The page's width less its margins (@page) and the body's (WeasyPrint's 8px).
_CONTENT_WIDTH_MM = {
    orientation: width - 2 * 14 - 2 * 8 * 25.4 / 96
    for orientation, width in (("portrait", 210), ("landscape", 297))
}
_FONT_MM = 8.5 * 25.4 / 72  # th, td { font-size: 8.5pt }
_PADDING_MM = 2 * 1.5 + 0.3  # th, td { padding: 0 1.5mm }, and a little to spare
# DejaVu Sans Bold's advance of each character from " " to "~", in thousandths of an em.
_ADVANCES = dict(
    zip(
        map(chr, range(32, 127)),
        (
            [348, 456, 520, 837, 695, 1001, 872, 306, 457, 457, 522, 837, 379, 415, 379, 365]
            + [695] * 10
            + [399, 399, 837, 837, 837, 580, 1000, 773, 762, 733, 830, 683, 683, 820, 836, 372]
            + [372, 774, 637, 995, 836, 850, 732, 850, 770, 720, 682, 812, 773, 1103, 770, 724]
            + [725, 457, 365, 457, 837, 500, 500, 674, 715, 592, 715, 678, 435, 715, 711, 342]
            + [342, 665, 342, 1041, 711, 687, 715, 715, 493, 595, 478, 711, 651, 923, 645, 651]
            + [582, 711, 365, 711, 837]
        ),
        strict=True,
    )
)


def _em(text: str) -> float:
    """The width of `text` set in DejaVu Sans Bold, in em (an em for any other character)."""
    return sum(_ADVANCES.get(char, 1000) for char in text) / 1000


def _bounds(
    header: list[str], rows: list[list[Any]], label_columns: int
) -> tuple[list[float], list[float]]:
    """Each column's widest and narrowest width in mm: label columns do not wrap (both are their
    longest text); a value column may wrap its header between words."""
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
    return longest, narrowest


def fits(header: list[str], rows: list[list[Any]], label_columns: int, orientation: str) -> bool:
    """Whether a table with these columns fits the page's width without cutting a word."""
    return sum(_bounds(header, rows, label_columns)[1]) <= _CONTENT_WIDTH_MM[orientation]


def column_widths(
    header: list[str], rows: list[list[Any]], label_columns: int, orientation: str = "portrait"
) -> list[float]:
    """Each column's width in mm, together the page's width. Label columns do not wrap (their
    width is their longest text); a value column may wrap its header between words. A table too
    wide for the page even so (a single value column with long labels: `Sheet.parts` cuts wider
    tables so that each fits) is wider than the page, as with the automatic layout (squeezing it
    would break words or set them over each other)."""
    available = _CONTENT_WIDTH_MM[orientation]
    longest, narrowest = _bounds(header, rows, label_columns)
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


def _copy_outline(
    writer: PdfWriter, reader: PdfReader, items: list[Any], offset: int, parent: Any
) -> list[Any]:
    """Copy `reader`'s bookmarks (a list in which a nested list holds the children of the item
    before it) into `writer` under `parent`, their pages moved on by `offset`; returns the
    top-level items added."""
    added: list[Any] = []
    for item in items:
        if isinstance(item, list):
            if added:
                _copy_outline(writer, reader, item, offset, added[-1])
            continue
        page = reader.get_destination_page_number(item) + offset
        added.append(writer.add_outline_item(item.title, page, parent=parent))
    return added
