"""Importing a register file: bad files refused with the right message and nothing stored; a good
file imported exactly once; updates through the services; export round-trips."""

import csv
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from openpyxl import load_workbook

from registers import imports
from registers.models import AuditEvent, ImportBatch, ImportStatus, Person, StatusChange
from tests.factories import PersonFactory
from tests.registers.importing import (
    csv_bytes,
    good_row,
    hospital_row,
    out_of_area_row,
    refusal,
    stage,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

GOOD_ROWS = [good_row("IMP-1"), hospital_row("IMP-2"), out_of_area_row("IMP-3")]


def register_size() -> tuple[int, int]:
    return Person.objects.count(), StatusChange.objects.count()


def row_errors(batch: ImportBatch) -> list[tuple[int, str, str]]:
    return [tuple(e) for e in batch.errors]


# Files refused as a whole --------------------------------------------------------------------


def _formula_workbook() -> bytes:
    return xlsx_bytes([good_row()], formula_in="B2")


def _fake_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


def _junk() -> bytes:
    return bytes((i * 37 + 11) % 256 for i in range(4096))


REFUSED_FILES = [
    pytest.param("empty.csv", lambda: b"", "The file is empty.", id="empty file"),
    pytest.param("blank.csv", lambda: b"\r\n\r\n,,,\r\n", "The file is empty.", id="blank lines"),
    pytest.param(
        "junk.csv", _junk, "This is not a text file: upload a CSV saved as UTF-8.", id="binary junk"
    ),
    pytest.param("junk.xlsx", _junk, "This is not an Excel workbook", id="binary junk as xlsx"),
    pytest.param(
        "latin1.csv",
        lambda: csv_bytes([good_row(given_name="Ren\u00e9e")]).decode().encode("latin-1"),
        "The CSV is not UTF-8 text",
        id="not UTF-8",
    ),
    pytest.param(
        "register.pdf", lambda: csv_bytes([good_row()]), "Upload a CSV (.csv) or Excel", id="type"
    ),
    pytest.param(
        "book.csv", lambda: xlsx_bytes([good_row()]), "This file is a spreadsheet", id="xlsx as csv"
    ),
    pytest.param(
        "fake.xlsx", _fake_workbook, "The workbook is damaged", id="zip that is no workbook"
    ),
    pytest.param(
        "formula.xlsx", _formula_workbook, "Cell B2 holds a formula", id="xlsx with a formula"
    ),
    pytest.param(
        "columns.csv",
        lambda: csv_bytes(
            [good_row()],
            columns=[c for c in imports.COLUMNS if c != "chi_number"] + ["chi", "nickname"],
        ),
        "missing columns: chi_number; unknown columns: chi, nickname",
        id="wrong columns",
    ),
    pytest.param(
        "header.csv", lambda: csv_bytes([]), "has the column names but no people", id="header only"
    ),
    pytest.param(
        "quotes.csv",
        lambda: csv_bytes([good_row()]) + b'"IMP-9,"Morag\n',
        "The CSV is malformed",
        id="malformed CSV",
    ),
    pytest.param(
        "wide.csv",
        lambda: csv_bytes([good_row()]).rstrip(b"\r\n") + b",surplus\r\n",
        "Row 2 has more values than there are columns.",
        id="more values than columns",
    ),
    pytest.param(
        "huge.csv",
        lambda: csv_bytes([good_row()]) + b"x" * (5 * 1024 * 1024),
        "The file is larger than 5 MB",
        id="huge file",
    ),
]


@pytest.mark.parametrize(("name", "make", "message"), REFUSED_FILES)
def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_stored(
    lead, authority, nithsdale, name, make, message
):
    before = register_size()
    assert message in refusal(lead, authority, name, make())
    assert register_size() == before
    assert not ImportBatch.objects.exists()
    event = AuditEvent.objects.get(action="register.import_refused")
    assert message in event.changes["reason"]


def test_a_file_with_more_people_than_the_row_limit_is_refused(
    lead, authority, nithsdale, settings
):
    settings.DSR_IMPORT_MAX_ROWS = 2
    rows = [good_row(f"IMP-{i}") for i in range(3)]
    assert "more than 2 people" in refusal(lead, authority, "many.csv", csv_bytes(rows))
    assert register_size() == (0, 0)


# Files whose rows break the rules: refused with a per-row report ------------------------------

REFUSED_ROWS = [
    pytest.param(
        [good_row(date_of_birth="31/02/1990")],
        (2, "date_of_birth", "Enter a real date as YYYY-MM-DD (or DD/MM/YYYY)."),
        id="impossible date",
    ),
    pytest.param(
        [hospital_row(admission_date="next tuesday")],
        (2, "admission_date", "Enter a real date as YYYY-MM-DD (or DD/MM/YYYY)."),
        id="date in words",
    ),
    pytest.param(
        [good_row(chi_number="1705900004")],
        (2, "chi_number", "This CHI number's check digit is wrong"),
        id="invalid CHI check digit",
    ),
    pytest.param(
        [good_row(chi_number="0101010001")],
        (2, "chi_number", "The CHI number does not match the date of birth."),
        id="CHI of another date of birth",
    ),
    pytest.param(
        [good_row(category="very_urgent")],
        (2, "category", "Unknown code 'very_urgent': use one of urgent, enhanced_monitoring"),
        id="unknown category",
    ),
    pytest.param(
        [good_row(risk_factors="housing;debt")],
        (2, "risk_factors", "Unknown code 'debt'"),
        id="unknown risk factor",
    ),
    pytest.param(
        [good_row(locality="Atlantis")],
        (2, "locality", "No locality of this authority is called 'Atlantis'."),
        id="unknown locality",
    ),
    pytest.param(
        [good_row(category="urgent", urgent_reason="at_risk_of_breakdown", risk_rating="green")],
        (2, "risk_rating", "At risk of breakdown needs a red or amber rating."),
        id="register rule from the services",
    ),
    pytest.param(
        [good_row(category="urgent")],
        (2, "urgent_reason", "An urgent entry needs one urgent reason."),
        id="urgent without a reason",
    ),
    pytest.param(
        [good_row(given_name="")],
        (2, "given_name", "This column needs a value."),
        id="missing name",
    ),
    pytest.param(
        [good_row("IMP-1"), good_row("IMP-2", given_name="Ann"), good_row("IMP-1")],
        (4, "local_reference", "The reference IMP-1 is also on row 2"),
        id="duplicate references",
    ),
    pytest.param(
        [good_row("IMP-1"), good_row("IMP-2", chi_number=good_row("IMP-1")["chi_number"])],
        (3, "chi_number", "This CHI number is already on this authority's register."),
        id="duplicate CHI numbers",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), REFUSED_ROWS)
def test_rows_that_break_the_rules_are_reported_by_row_and_column_and_nothing_is_stored(
    lead, authority, nithsdale, rows, expected
):
    batch = stage(lead, authority, "register.csv", csv_bytes(rows))
    assert batch.status == ImportStatus.REFUSED
    assert batch.rows == []
    row, column, message = expected
    assert any(e[0] == row and e[1] == column and message in e[2] for e in batch.errors), (
        batch.errors
    )
    assert register_size() == (0, 0)


def test_one_bad_row_among_good_ones_stores_none_of_them(lead, authority, nithsdale):
    rows = [*GOOD_ROWS, good_row("IMP-4", sex="unknown")]
    batch = stage(lead, authority, "register.csv", csv_bytes(rows))
    assert row_errors(batch) == [
        (5, "sex", "Unknown code 'unknown': use one of male, female, not_known.")
    ]
    assert register_size() == (0, 0)
    assert AuditEvent.objects.filter(action="register.import_refused", object_id=batch.pk).exists()


def test_a_refused_import_lists_the_problems_as_a_csv(lead, authority, nithsdale):
    batch = stage(lead, authority, "r.csv", csv_bytes([good_row(category="=cmd|' /C calc'!A0")]))
    lines = list(csv.reader(io.StringIO(imports.errors_csv(batch).decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "message"]
    assert lines[1][:2] == ["2", "category"]
    assert lines[1][2].startswith("Unknown code")


# A good file ----------------------------------------------------------------------------------


def test_a_good_file_is_checked_first_and_stored_only_when_confirmed(lead, authority, nithsdale):
    batch = stage(lead, authority, "register.csv", csv_bytes(GOOD_ROWS))
    assert batch.status == ImportStatus.STAGED
    assert batch.counts == {"new": 3, "updated": 0, "unchanged": 0}
    assert register_size() == (0, 0)

    batch = imports.apply_import(lead, batch)

    assert batch.status == ImportStatus.APPLIED and batch.rows == []
    people = {p.local_reference: p for p in Person.objects.all()}
    assert set(people) == {"IMP-1", "IMP-2", "IMP-3"}
    assert people["IMP-1"].risk_factors == ["carer_breakdown", "housing"]
    assert people["IMP-2"].is_delayed_discharge() and people["IMP-2"].hospital_in_area is False
    assert people["IMP-3"].placement_chosen is True
    assert StatusChange.objects.filter(kind="added").count() == 3
    assert AuditEvent.objects.filter(action="person.added").count() == 3
    assert AuditEvent.objects.get(action="register.imported").changes["new"] == 3


def test_importing_the_same_file_again_changes_nothing(lead, authority, nithsdale):
    imports.apply_import(lead, stage(lead, authority, "register.csv", csv_bytes(GOOD_ROWS)))
    versions = dict(Person.objects.values_list("local_reference", "version"))
    history = StatusChange.objects.count()

    again = stage(lead, authority, "register.csv", csv_bytes(GOOD_ROWS))
    assert again.counts == {"new": 0, "updated": 0, "unchanged": 3}
    imports.apply_import(lead, again)

    assert dict(Person.objects.values_list("local_reference", "version")) == versions
    assert StatusChange.objects.count() == history


def test_a_confirmed_import_cannot_be_applied_twice(lead, authority, nithsdale):
    batch = imports.apply_import(lead, stage(lead, authority, "r.csv", csv_bytes(GOOD_ROWS)))
    with pytest.raises(ValidationError, match="already been imported"):
        imports.apply_import(lead, batch)
    assert Person.objects.count() == 3


def test_a_new_upload_discards_the_one_waiting_for_confirmation(lead, authority, nithsdale):
    first = stage(lead, authority, "a.csv", csv_bytes(GOOD_ROWS))
    stage(lead, authority, "b.csv", csv_bytes(GOOD_ROWS[:1]))
    first.refresh_from_db()
    assert first.status == ImportStatus.DISCARDED and first.rows == []
    with pytest.raises(ValidationError):
        imports.apply_import(lead, first)


def test_a_check_never_confirmed_is_dropped_by_the_daily_task(lead, authority, nithsdale):
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from registers.tasks import discard_unconfirmed_imports

    old = stage(lead, authority, "old.csv", csv_bytes(GOOD_ROWS))
    ImportBatch.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert "discard-unconfirmed-imports" in settings.CELERY_BEAT_SCHEDULE
    assert discard_unconfirmed_imports() == 1
    old.refresh_from_db()
    assert (old.status, old.rows) == (ImportStatus.DISCARDED, [])
    recent = stage(lead, authority, "new.csv", csv_bytes(GOOD_ROWS))
    assert discard_unconfirmed_imports() == 0
    recent.refresh_from_db()
    assert recent.status == ImportStatus.STAGED


def test_changed_values_update_the_record_through_the_services_with_history(
    lead, authority, nithsdale, stewartry
):
    imports.apply_import(lead, stage(lead, authority, "r.csv", csv_bytes(GOOD_ROWS)))
    person = Person.objects.get(local_reference="IMP-1")
    rows = [
        good_row("IMP-1", risk_rating="red", key_worker_name="Ailsa Brown", locality="Stewartry"),
        *GOOD_ROWS[1:],
    ]
    batch = stage(lead, authority, "r.csv", csv_bytes(rows))
    assert batch.counts == {"new": 0, "updated": 1, "unchanged": 2}
    imports.apply_import(lead, batch)

    person.refresh_from_db()
    assert (person.risk_rating, person.key_worker_name) == ("red", "Ailsa Brown")
    assert person.locality == stewartry
    kinds = list(person.status_changes.order_by("id").values_list("kind", flat=True))
    assert kinds == ["added", "details", "status", "locality"]
    assert person.version == 4


def test_the_date_added_cannot_be_changed_by_an_import(lead, authority, nithsdale):
    imports.apply_import(lead, stage(lead, authority, "r.csv", csv_bytes(GOOD_ROWS)))
    batch = stage(lead, authority, "r.csv", csv_bytes([good_row("IMP-1", date_added="2025-01-11")]))
    assert row_errors(batch)[0][:2] == (2, "date_added")


def test_a_reference_of_someone_who_left_is_refused(lead, authority, nithsdale):
    PersonFactory(
        locality=nithsdale,
        local_reference="IMP-1",
        date_left="2025-01-01",
        leaving_reason="declined",
        date_added="2024-01-01",
    )
    batch = stage(lead, authority, "r.csv", csv_bytes([good_row("IMP-1")]))
    assert row_errors(batch) == [
        (2, "local_reference", "This reference belongs to someone who has left the register.")
    ]


def test_an_xlsx_file_imports_like_a_csv(lead, authority, nithsdale):
    batch = stage(lead, authority, "register.xlsx", xlsx_bytes(GOOD_ROWS))
    assert (batch.file_format, batch.counts["new"]) == ("xlsx", 3)
    imports.apply_import(lead, batch)
    assert Person.objects.count() == 3


def test_dates_typed_as_day_month_year_and_a_chi_that_lost_its_leading_zero_are_read(
    lead, authority, nithsdale
):
    import datetime as dt

    from tests.registers.importing import chi_for

    chi = chi_for(dt.date(1990, 5, 7), "female", "zero")
    row = good_row("IMP-Z", date_of_birth="07/05/1990", chi_number=chi[1:])
    imports.apply_import(lead, stage(lead, authority, "r.csv", csv_bytes([row])))
    person = Person.objects.get(local_reference="IMP-Z")
    assert (person.date_of_birth, person.chi_number) == (dt.date(1990, 5, 7), chi)


def test_only_the_authority_lead_may_import(practitioner, authority, nithsdale):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        stage(practitioner, authority, "r.csv", csv_bytes(GOOD_ROWS))


def test_another_authoritys_lead_cannot_import_into_this_register(other_lead, authority):
    with pytest.raises(Http404):
        stage(other_lead, authority, "r.csv", csv_bytes(GOOD_ROWS))


# Export -----------------------------------------------------------------------------------------


def test_an_exported_register_imports_back_unchanged_as_csv_and_xlsx(lead, authority, nithsdale):
    imports.apply_import(lead, stage(lead, authority, "r.csv", csv_bytes(GOOD_ROWS)))
    PersonFactory(locality=nithsdale, at_risk=True, key_worker_name='=HYPERLINK("x")')
    PersonFactory(locality=nithsdale, inappropriate_out_of_area=True)
    for file_format in ("csv", "xlsx"):
        content = imports.export_register(lead, authority, file_format=file_format)
        batch = stage(lead, authority, f"export.{file_format}", content)
        assert batch.errors == []
        assert batch.counts == {"new": 0, "updated": 0, "unchanged": 5}
    assert AuditEvent.objects.filter(action="register.exported").count() == 2


def test_export_guards_against_formulas_in_spreadsheets(lead, authority, nithsdale):
    PersonFactory(locality=nithsdale, key_worker_name='=HYPERLINK("http://evil")')
    text = imports.export_register(lead, authority, file_format="csv").decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)))
    assert row["key_worker_name"] == '\'=HYPERLINK("http://evil")'
    book = load_workbook(io.BytesIO(imports.export_register(lead, authority, file_format="xlsx")))
    cell = book.active.cell(row=2, column=imports.COLUMNS.index("key_worker_name") + 1)
    assert cell.data_type == "s"


def test_export_holds_only_people_on_this_authoritys_register(
    lead, authority, nithsdale, other_person
):
    PersonFactory(locality=nithsdale, local_reference="HERE")
    PersonFactory(
        locality=nithsdale,
        local_reference="GONE",
        date_added="2024-01-01",
        date_left="2025-01-01",
        leaving_reason="died",
    )
    rows = imports.export_rows(lead, authority)
    assert [r["local_reference"] for r in rows] == ["HERE"]


def test_export_takes_the_same_number_of_queries_for_few_and_many_people(
    lead, authority, nithsdale, django_assert_max_num_queries
):
    from registers.access import forget_scope

    PersonFactory.create_batch(3, locality=nithsdale)
    with django_assert_max_num_queries(8) as few:
        imports.export_register(lead, authority, file_format="xlsx")
    PersonFactory.create_batch(60, locality=nithsdale)
    forget_scope(lead)
    with django_assert_max_num_queries(len(few.captured_queries)):
        imports.export_register(lead, authority, file_format="xlsx")
