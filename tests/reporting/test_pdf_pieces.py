"""The national PDF is rendered in pieces, runs of whole pages, in parallel processes, joined and
numbered: its pages are the same however many processes render it, and whether or not one of
them fails (reporting/builders/pdf.py)."""

import datetime as dt
import io
import os

import pytest
from pypdf import PdfReader

from reporting import documents, services
from reporting.builders import pdf
from reporting.documents import Sheet
from tests.factories import PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_release(known_register, authority, lead, leith, other_lead, analyst, census):
    PersonFactory.create_batch(7, locality=leith)
    PersonFactory.create_batch(3, locality=leith, in_hospital=True)
    for ret, who in ((build_return(authority), lead), (build_return(leith.authority), other_lead)):
        services.submit_return(who, ret)
    job = run("national_pdf", census_date=census, user=analyst)
    assert job.status == "done", job.error
    return job.release


def render(release, *, processes, settings):
    """The national PDF of `release` as the job renders it, with a fixed time of generation."""
    settings.DSR_PDF_PROCESSES = processes
    doc = documents.release_document(release)
    topics = services.pdf_topics(services.pdf_parts(doc, services.LANDSCAPE_COLUMNS, "landscape"))
    context = {
        "doc": doc,
        "orientation": "landscape",
        "generated_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    return pdf.render_pdf_in_pieces("reporting/pdf/summary.html", context, topics)


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def outline(data: bytes) -> list:
    reader = PdfReader(io.BytesIO(data))

    def walk(items):
        return [
            walk(item)
            if isinstance(item, list)
            else (item.title, reader.get_destination_page_number(item))
            for item in items
        ]

    return walk(reader.outline)


@pytest.fixture
def forks(monkeypatch):
    """The processes forked (their numbers)."""
    forked = []
    real = os.fork

    def fork():
        pid = real()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(pdf.os, "fork", fork)
    return forked


def test_the_national_pdf_has_the_same_pages_rendered_by_one_process_or_three(
    national_release, settings, forks
):
    alone = render(national_release, processes=1, settings=settings)
    assert forks == []
    shared = render(national_release, processes=3, settings=settings)
    assert len(forks) == 2  # three pieces: the first rendered here, two in their own processes

    assert pages(shared) == pages(alone)
    assert outline(shared) == outline(alone)
    total = len(pages(alone))
    assert total > 3
    for number, text in enumerate(pages(alone), start=1):
        assert text.rstrip().endswith(f"Page {number} of {total}")
    title, headings = outline(alone)[0], outline(alone)[1]
    assert title == ("Dynamic Support Register: national return", 0)
    assert [name for name, _ in headings] == ["Tables", "Notes"]
    assert headings[-1][1] == total - 1


def test_a_piece_whose_process_fails_is_rendered_here_with_the_same_pages(
    national_release, settings, forks, monkeypatch, caplog
):
    alone = render(national_release, processes=1, settings=settings)
    parent, real = os.getpid(), pdf._write_pdf

    def failing_in_a_child(html):
        if os.getpid() != parent:
            raise MemoryError
        return real(html)

    monkeypatch.setattr(pdf, "_write_pdf", failing_in_a_child)
    shared = render(national_release, processes=2, settings=settings)

    assert len(forks) == 1
    assert pages(shared) == pages(alone)
    assert "rendering here" in caplog.text
    for pid in forks:  # reaped: none is left behind
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_no_process_is_forked_while_another_thread_renders_a_pdf(national_release, settings, forks):
    alone = render(national_release, processes=1, settings=settings)
    with pdf.gc_paused():  # as a render in another thread would hold it
        shared = render(national_release, processes=3, settings=settings)
    assert forks == []
    assert pages(shared) == pages(alone)


def test_every_per_authority_table_starts_a_page(national_release, settings):
    texts = pages(render(national_release, processes=2, settings=settings))
    doc = documents.release_document(national_release)
    titles = [sheet.title for sheet in doc.sheets if sheet.per_authority]
    assert len(titles) > 3
    for title in titles:
        assert len([text for text in texts if text.startswith(title)]) == 1, title


def sheet(key: str, cells: int) -> Sheet:
    return Sheet(key=key, title=key, header=["Code", "Name", "n"], rows=[["a", "b", 1]] * cells)


def test_pieces_are_runs_of_whole_topics_in_order_of_about_equal_size():
    topics = [[sheet("scotland", 10)], *[[sheet(f"ia_{n}", 10)] for n in range(7)]]
    for count in (1, 2, 3, 4, 8, 20):
        runs = pdf.pieces(topics, count)
        assert [topic for run in runs for topic in run] == topics
        assert 1 <= len(runs) <= count
        assert all(runs)
    assert [len(run) for run in pdf.pieces(topics, 2)] == [4, 4]
    assert [len(run) for run in pdf.pieces(topics, 4)] == [2, 2, 2, 2]


def test_the_pdf_topics_start_at_each_per_authority_table():
    parts = [
        sheet("scotland_a", 1),
        sheet("scotland_b", 1),
        sheet("ia_a", 1),
        sheet("ia_a", 1),
        sheet("ia_b", 1),
    ]
    assert [[p.key for p in topic] for topic in services.pdf_topics(parts)] == [
        ["scotland_a", "scotland_b"],
        ["ia_a", "ia_a"],
        ["ia_b"],
    ]


def synthetic(rows: int) -> documents.Document:
    """A national-like document of per-authority tables `rows` long: as `rows` grows, each table's
    last page fills to its foot and then spills onto another."""
    header = ["Code", "Integration Authority", "Urgent", "Enhanced monitoring", "Total"]
    body = [[f"S370000{n:02d}", f"Authority {n}", n, 2 * n, 3 * n] for n in range(rows)]
    sheets = [
        Sheet(key=f"ia_{k}", title=f"By authority: table {k}", header=header, rows=body)
        for k in range(3)
    ]
    return documents.Document(
        title="Pieces",
        census_date=dt.date(2026, 9, 24),
        area="Scotland",
        sheets=sheets,
        notes=["A note."],
    )


@pytest.mark.parametrize("rows", range(27, 35))
def test_a_piece_lays_out_its_pages_as_the_whole_document_does(rows, settings):
    """A piece's first page is a page after a forced break, its last one before one: however
    full a table's last page is, cutting the document there moves nothing."""
    doc = synthetic(rows)
    topics = services.pdf_topics(services.pdf_parts(doc, services.LANDSCAPE_COLUMNS, "landscape"))
    context = {"doc": doc, "orientation": "landscape", "generated_at": dt.datetime(2026, 1, 1)}
    rendered = {}
    for count in (1, 3):
        settings.DSR_PDF_PROCESSES = count
        rendered[count] = pages(
            pdf.render_pdf_in_pieces("reporting/pdf/summary.html", context, topics)
        )
    assert rendered[3] == rendered[1]
