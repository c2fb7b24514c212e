"""National files: Scotland totals and per-authority tables with disclosure control, in CSV,
XLSX and PDF, and the authority's own files and the person profile as PDFs."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting import services
from reporting.models import AuthorityReturn, JobKind
from tests.factories import AuthorityFactory, PersonFactory
from tests.reporting.conftest import build_return, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_submitted_returns(known_register, authority, lead, leith, other_lead):
    PersonFactory.create_batch(7, locality=leith)
    PersonFactory.create_batch(6, locality=leith, at_risk=True, sex="male")
    PersonFactory.create_batch(3, locality=leith, in_hospital=True)
    returns = [build_return(authority), build_return(leith.authority)]
    services.submit_return(lead, returns[0])
    services.submit_return(other_lead, returns[1])
    return returns


def output(job):
    assert job.status == "done", job.error
    with job.output.open("rb") as f:
        return f.read()


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def national(kind, analyst, census):
    return output(run(kind, census_date=census, user=analyst))


def test_national_csv_publishes_nothing_below_the_threshold_below_scotland_level(
    two_submitted_returns, analyst, census
):
    rows = list(
        csv.DictReader(io.StringIO(national("national_csv", analyst, census).decode("utf-8-sig")))
    )
    below_scotland = [
        r
        for r in rows
        if r["table"].startswith("By authority") and not r["row"].startswith("Scotland")
    ]
    assert below_scotland
    values = {r["value"] for r in below_scotland}
    assert not values & {"1", "2", "3", "4"}
    assert "c" in values
    scotland_urgent = next(
        r
        for r in rows
        if r["table"] == "By authority: People on the register by category"
        and r["row"] == "Scotland"
        and r["column"] == "Urgent"
    )
    assert scotland_urgent["value"] == "14"  # 5 in Dumfries and Galloway + 9 in Edinburgh


def test_national_xlsx_has_a_sheet_per_table_and_notes_that_never_say_why_a_cell_is_hidden(
    two_submitted_returns, analyst, census
):
    book = load_workbook(io.BytesIO(national("national_xlsx", analyst, census)))
    assert "Notes" in book.sheetnames
    # returns included, Scotland (10 tables), by authority (9: movement between census dates is
    # published for Scotland only), notes
    assert len(book.sheetnames) == 1 + 10 + 9 + 1
    notes = "\n".join(str(r[0].value) for r in book["Notes"].iter_rows() if r[0].value)
    assert "suppressed" in notes and "zero included" in notes
    assert "primary" not in notes.lower() and "secondary" not in notes.lower()
    assert "Dumfries and Galloway -" not in notes
    for ws in book.worksheets:
        if not ws["A1"].value.startswith("By authority"):
            continue
        for row in ws.iter_rows(min_row=5, values_only=True):
            if row[1] == "Scotland":
                continue
            assert not {v for v in row[2:] if isinstance(v, int)} & {1, 2, 3, 4}, ws.title


def test_national_pdf_shows_suppressed_cells_as_c_and_no_personal_marking(
    two_submitted_returns, analyst, census
):
    text = pdf_text(national("national_pdf", analyst, census))
    assert "25 September 2025" in text
    assert "Scotland" in text
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("S37000006 Dumfries and Galloway") and ln.count(" c") >= 2
    )
    assert not {"1", "2", "3", "4"} & set(line.split()[4:])
    assert "OFFICIAL-SENSITIVE" not in text
    assert "generated" in text.lower()


def test_national_files_need_two_returns_so_no_authority_is_exposed(
    known_register, authority, lead, analyst, census
):
    services.submit_return(lead, build_return(authority))
    job = run(JobKind.NATIONAL_CSV, census_date=census, user=analyst)
    assert job.status == "failed"
    assert "At least two" in job.error
    assert not job.output


def test_draft_returns_are_left_out_of_the_national_return(two_submitted_returns, analyst, census):
    aberdeen = AuthorityFactory(code="S37000001")
    AuthorityReturn.objects.create(
        authority=aberdeen, census_date=census, tables=two_submitted_returns[0].tables
    )
    rows = national("national_csv", analyst, census).decode("utf-8-sig")
    assert rows.count("Returns included,") == 2


def test_authority_summary_pdf_has_figures_chart_and_marking(known_register, authority, census):
    build_return(authority, dt.date(2025, 6, 26))
    build_return(authority)
    job = run(JobKind.AUTHORITY_PDF, authority=authority, census_date=census)
    data = output(job)
    text = pdf_text(data)
    assert "OFFICIAL-SENSITIVE" in text
    assert "Dumfries and Galloway" in text and "25 September 2025" in text
    assert "Urgent 5" in text
    assert b"<svg" not in data and "Jun 2025" in text  # the SVG chart is drawn, axis labelled
    assert job.filename == "dsr-summary-S37000006-2025-09-25.pdf"


def test_person_profile_pdf_is_marked_official_sensitive(person, lead):
    job = run(
        JobKind.PERSON_PROFILE,
        authority=person.authority,
        census_date=None,
        person=person,
        user=lead,
    )
    text = pdf_text(output(job))
    assert "OFFICIAL-SENSITIVE" in text
    assert person.local_reference in text and "Dumfries and Galloway" in text
    assert "generated" in text.lower()


def csv_rows(data):
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def assert_every_csv_cell_is_in_the_pdf(csv_data, pdf_data):
    """Every cell of the CSV is in the PDF's text: within its table's section, the lines that
    start with the row's label carry the row's values in column order, and every column's name
    is printed there."""
    text = pdf_text(pdf_data)
    by_table: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for r in csv_rows(csv_data):
        by_table.setdefault(r["table"], {}).setdefault(r["row"], []).append(
            (r["column"], r["value"])
        )
    lines = text.splitlines()
    titles = list(by_table)
    for title, rows in by_table.items():
        # The table's section: from its (first) caption to the next other table's caption.
        starts = [i for i, ln in enumerate(lines) if ln.startswith(title)]
        assert starts, f"{title} is not in the PDF"
        others = [
            i
            for i, ln in enumerate(lines)
            if i > starts[0]
            and any(ln.startswith(t) and not ln.startswith(title) for t in titles if t != title)
        ]
        section = lines[starts[0] : min(others, default=len(lines))]
        squashed = "".join("".join(section).split())
        for label, cells in rows.items():
            for column, _ in cells:
                assert "".join(column.split()) in squashed, f"{title}: column {column}"
            expected = " ".join(v for _, v in cells).split()
            numeric = all(v == "c" or v.isdigit() for v in expected)
            printed = []
            for ln in section:
                tail = ln[len(label) :].split() if ln.startswith(label + " ") else []
                if not numeric or all(v == "c" or v.isdigit() for v in tail):
                    printed += tail  # (a chart's legend may start with a row's name)
            assert printed == expected, f"{title}: {label}"


def test_every_cell_of_the_national_csv_is_in_the_national_pdf(
    two_submitted_returns, analyst, census
):
    csv_data = national("national_csv", analyst, census)
    pdf_data = national("national_pdf", analyst, census)
    delays = [r for r in csv_rows(csv_data) if r["table"].startswith("By authority: Delayed")]
    assert len({r["column"] for r in delays}) == 36  # the widest table, Total included
    assert_every_csv_cell_is_in_the_pdf(csv_data, pdf_data)


def test_every_cell_of_the_authority_csv_is_in_the_authority_summary_pdf(
    known_register, authority, census
):
    build_return(authority)
    csv_data = output(run(JobKind.AUTHORITY_CSV, authority=authority, census_date=census))
    pdf_data = output(run(JobKind.AUTHORITY_PDF, authority=authority, census_date=census))
    assert_every_csv_cell_is_in_the_pdf(csv_data, pdf_data)


def test_the_internal_disclosure_audit_lists_each_hidden_cell_with_its_kind_and_range(
    two_submitted_returns, analyst, census
):
    job = run(JobKind.NATIONAL_AUDIT, census_date=census, user=analyst)
    rows = csv_rows(output(job))
    assert job.filename == "dsr-disclosure-audit-internal-scotland-2025-09-25.csv"
    kinds = [r for r in rows if r["column"] == "Suppression"]
    assert {r["value"] for r in kinds} == {"primary", "secondary"}
    published = csv_rows(national("national_csv", analyst, census))
    hidden = [r for r in published if r["value"] == "c"]
    assert len(kinds) == len(hidden)
    lows = [int(r["value"]) for r in rows if r["column"] == "Smallest possible"]
    assert min(lows) == 0


def test_the_pdfs_trimmed_user_agent_stylesheet_renders_the_same_pages_as_weasyprints_own(
    two_submitted_returns, analyst, census
):
    # The builders leave out WeasyPrint's footnote and note rules (they matched every element);
    # the national PDF's pages must come out the same, text and layout alike.
    from django.template.loader import render_to_string
    from pypdf import PdfReader
    from weasyprint import HTML

    from reporting.builders import pdf

    job = run("national_pdf", census_date=census, user=analyst)
    doc = services.documents.release_document(job.release)
    context = {
        "doc": doc,
        "topics": [services.pdf_parts(doc, services.LANDSCAPE_COLUMNS, "landscape")],
        "orientation": "landscape",
        "generated_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    html = render_to_string("reporting/pdf/summary.html", context)
    own, trimmed = HTML(string=html).render(), pdf._HTML(string=html).render()
    assert len(trimmed.pages) == len(own.pages) > 1
    assert _boxes(trimmed) == _boxes(own)
    texts = [
        [page.extract_text() for page in PdfReader(io.BytesIO(d.write_pdf())).pages]
        for d in (own, trimmed)
    ]
    assert texts[0] == texts[1]


def _boxes(document):
    def walk(box, depth=0):
        yield depth, type(box).__name__, round(box.position_x, 2), round(box.position_y, 2)
        yield from (x for child in getattr(box, "children", []) for x in walk(child, depth + 1))

    return [list(walk(page._page_box)) for page in document.pages]


def test_the_pdf_templates_parsed_as_xml_lay_out_as_parsed_as_html(
    known_register, authority, person, lead, census, monkeypatch
):
    # The builders parse their (well-formed) templates with the C XML parser instead of
    # WeasyPrint's HTML parser: the boxes, chart included, must be the same.
    from defusedxml import ElementTree
    from weasyprint import HTML

    from reporting.builders import pdf

    class HtmlParsed(pdf._HTML):
        def __init__(self, string):
            HTML.__init__(self, string=string)

    rendered = []
    real = pdf.render_to_string
    monkeypatch.setattr(
        pdf, "render_to_string", lambda *a: rendered.append(real(*a)) or rendered[-1]
    )
    build_return(authority, dt.date(2025, 6, 26))
    build_return(authority)
    run(JobKind.AUTHORITY_PDF, authority=authority, census_date=census)
    run(JobKind.PERSON_PROFILE, authority=authority, census_date=None, person=person, user=lead)
    assert len(rendered) == 2 and "<svg" in rendered[0]
    for html in rendered:
        ElementTree.fromstring(html)  # the fast path is taken
        xml, parsed = pdf._HTML(string=html).render(), HtmlParsed(string=html).render()
        assert _boxes(xml) == _boxes(parsed)


def test_pdf_column_widths_fill_the_page_and_fit_the_labels():
    from reporting.builders import pdf

    header = ["Code", "Integration Authority", "Urgent: in hospital", "Total"]
    rows = [["S37000005", "Clackmannanshire and Stirling", 12, 345], ["", "Scotland", 1, 99999]]
    widths = pdf.column_widths(header, rows, 2, "landscape")
    assert sum(widths) == pytest.approx(pdf._CONTENT_WIDTH_MM["landscape"], abs=0.1)
    assert widths[1] > widths[0] > 0
    # Too many columns for the page: none is narrower than its longest word.
    wide = pdf.column_widths(["", *["Inappropriate"] * 20], [["Appropriate", *[1] * 20]], 1)
    assert sum(wide) > 210 - 28 and len(set(wide[1:])) == 1 and wide[1] > 20


def test_a_pdf_table_too_wide_for_the_page_is_cut_into_parts_that_each_fit_and_lose_no_column():
    from reporting.builders import pdf
    from reporting.documents import Sheet

    # Ten host areas with long names: ten columns a part would run off a landscape page.
    areas = [f"Host area with a long name {n} (outside Scotland)" for n in range(9)]
    header = ["Code", "Integration Authority", *areas, "Outside the UK"]
    rows = [["S37000005", "Clackmannanshire and Stirling", *range(10)]]
    sheet = Sheet(key="ia_host_area", title="By authority: host area", header=header, rows=rows)
    assert not pdf.fits(sheet.header, sheet.all_rows, 2, "landscape")

    parts = services.pdf_parts(
        services.documents.Document("t", dt.date(2026, 9, 24), "Scotland", [sheet]),
        services.LANDSCAPE_COLUMNS,
        "landscape",
    )

    assert len(parts) > 1
    for part in parts:
        assert part.header[:2] == ["Code", "Integration Authority"]
        assert pdf.fits(part.header, part.all_rows, 2, "landscape") or len(part.header) == 3
    assert [c for part in parts for c in part.header[2:]] == header[2:]
    assert [v for part in parts for v in part.rows[0][2:]] == rows[0][2:]
    assert parts[-1].title.endswith("to 10 of 10)")


def test_movement_labels_keep_the_capitals_of_names():
    import json

    from reporting.tables import compute_tables

    tables = json.dumps(compute_tables([], dt.date(2026, 9, 24), {}))
    assert "Left: moved outside Scotland" in tables
    assert "Left: transferred to another IA" in tables
    assert "Left: settled in the community" in tables


def test_pdfs_are_rendered_with_the_garbage_collector_paused_and_it_comes_back_after(
    monkeypatch,
):
    import gc

    from reporting.builders import pdf

    seen = []
    real = pdf._HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pdf._HTML, "write_pdf", write_pdf)
    assert gc.isenabled()
    data = pdf.render_pdf("reporting/pdf/summary.html", {"doc": None, "parts": []})
    assert data.startswith(b"%PDF") and seen == [False] and gc.isenabled()

    # Back on after a failed render too; left off when something else had switched it off.
    monkeypatch.setattr(pdf._HTML, "write_pdf", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pdf.render_pdf("reporting/pdf/summary.html", {"doc": None, "parts": []})
    assert gc.isenabled()
    gc.disable()
    try:
        with pdf.gc_paused(), pdf.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
