"""Importing and exporting an authority's register as CSV or XLSX.

One module although it is over 600 lines: reading a file, the trial run, applying it and the
export are one pipeline over one column layout (`COLUMNS`), and an exported file must import back
as "unchanged"; kept together, a change to the layout is made in one place.

The layout (docs/register-files.md, "Layout") is one row per person, with the column
names below: the person's field names and the code values of domain.md. Export writes the same
layout, so an exported file imports back as "unchanged".

An import runs in two steps. `stage_import` reads the file, refuses it outright if it is not a
register file (size, type, encoding, formulas, header), then tries every row through the same form
and services as the add-person page inside a transaction that is always rolled back: the result is
either a per-row error report (the batch is refused, nothing stored) or a preview (N new, M
updated, K unchanged) kept in an `ImportBatch`. `apply_import` repeats the same run for real, in one
transaction, when the lead confirms: all rows or none.

Matching is on the local reference: a new reference adds the person (`add_person`); an existing one
with identical values changes nothing (no history, no version bump); with different values, the
details, the status and the locality are updated through `update_person_details`,
`record_status_change` and `move_locality`, each with its own history entry. The date added cannot
be changed by an import, and a reference belonging to someone who has left is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from openpyxl import Workbook, load_workbook
from openpyxl import xml as openpyxl_xml
from openpyxl.cell import WriteOnlyCell

from . import access, labels, selectors, services
from .audit import AuditAction, record_event
from .forms import ImportRowForm, host_area_choices
from .models import HOSPITAL_FIELDS, PLACEMENT_ENTRY_FIELDS, ImportBatch, ImportStatus, Person
from .validation import CHI_MISMATCH

if TYPE_CHECKING:
    from accounts.models import User

    from .models import IntegrationAuthority

# The layout, in file order. Every column must be present (values may be blank where optional).
COLUMNS: tuple[str, ...] = (
    "local_reference",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "chi_number",
    "locality",
    "key_worker_name",
    "key_worker_contact",
    "lead_professional_team",
    "referral_source",
    "date_added",
    "category",
    "urgent_reason",
    "risk_rating",
    "risk_factors",
    *HOSPITAL_FIELDS,
    *PLACEMENT_ENTRY_FIELDS,
    "planned_move_date",
    "guardianship_or_poa",
    "info_sharing_recorded",
    "info_sharing_date",
)
# Columns a file may add after the layout's (blank when absent).
# `chi_mismatch_confirmed` (yes/no): a valid CHI number that disagrees with the date of birth or
# sex is refused unless its row says `yes` (the mismatch is then a data-quality warning).
OPTIONAL_COLUMNS: tuple[str, ...] = ("chi_mismatch_confirmed",)
YES_NO_COLUMNS = ("hospital_in_area", "guardianship_or_poa", "info_sharing_recorded")
DATE_COLUMNS = (
    "date_of_birth",
    "date_added",
    "admission_date",
    "ready_for_discharge_date",
    "placement_start_date",
    "planned_return_date",
    "planned_move_date",
    "info_sharing_date",
)
ROW_NUMBER = "_row"  # the row's number in the file, kept with its values
# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXAMPLE_ROW = {
    "local_reference": "DG-000123",
    "given_name": "Morag",
    "family_name": "Example",
    "date_of_birth": "1990-05-17",
    "sex": "female",
    "chi_number": "",
    "locality": "Nithsdale",
    "referral_source": "social_work",
    "date_added": "2025-01-10",
    "category": "urgent",
    "urgent_reason": "in_hospital",
    "hospital_name": "Leverndale",
    "hospital_type": "ld_inpatient",
    "hospital_in_area": "no",
    "admission_date": "2024-11-02",
    "legal_status": "informal",
    "guardianship_or_poa": "no",
    "info_sharing_recorded": "yes",
    "info_sharing_date": "2025-01-10",
}


class ImportRefused(Exception):
    """The file as a whole is not a register file; nothing was read into the register."""


@dataclass
class RowError:
    row: int  # the spreadsheet's row number (the header is row 1)
    column: str
    message: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.message]


@dataclass
class Outcome:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


# --- Reading files -------------------------------------------------------------------------


def max_bytes() -> int:
    return settings.DSR_IMPORT_MAX_BYTES


def read_file(name: str, content: bytes) -> tuple[str, list[dict[str, str]]]:
    """The format and the rows (column -> text) of an uploaded file, or ImportRefused."""
    if not content:
        raise ImportRefused("The file is empty.")
    if len(content) > max_bytes():
        raise ImportRefused(
            f"The file is larger than {_size(max_bytes())}: split it, or import it in parts."
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "csv":
        table = _csv_table(content)
        file_format = "csv"
    elif extension == "xlsx":
        table = _xlsx_table(content)
        file_format = "xlsx"
    else:
        raise ImportRefused("Upload a CSV (.csv) or Excel (.xlsx) file.")
    return file_format, _rows(table)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _csv_table(content: bytes) -> Iterable[list[str]]:
    if content.startswith(b"PK\x03\x04"):
        raise ImportRefused("This file is a spreadsheet, not a CSV: save it as .xlsx or as CSV.")
    if b"\x00" in content:
        raise ImportRefused("This is not a text file: upload a CSV saved as UTF-8.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            "The CSV is not UTF-8 text: in your spreadsheet choose 'CSV UTF-8' when saving."
        ) from exc
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ImportRefused(f"The CSV is malformed ({exc}).") from exc


def _xlsx_table(content: bytes) -> Iterable[list[str]]:
    if not content.startswith(b"PK\x03\x04"):
        raise ImportRefused("This is not an Excel workbook: upload a .xlsx file.")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportRefused("The workbook is damaged and cannot be opened.") from exc
    if unpacked > 20 * max_bytes():
        raise ImportRefused("The workbook unpacks to far more data than a register holds.")
    # openpyxl parses the workbook's XML through defusedxml (installed with the service, and
    # required here): a document type declaration, an entity (billion laughs) or an external
    # reference is refused instead of expanded or fetched. Parsing is lazy in read-only mode, so
    # the rows are read inside the same error handling as the opening.
    if not openpyxl_xml.DEFUSEDXML:
        raise ImportRefused("Spreadsheets cannot be read safely here: import a CSV instead.")
    try:
        return _xlsx_rows(content)
    except ImportRefused:
        raise
    except Exception as exc:  # any failure to parse a damaged file is the file's fault
        if _caused_by(exc, DefusedXmlException):  # openpyxl wraps it in a ValueError
            raise ImportRefused(
                "The workbook contains XML entity declarations or external references, which "
                "are refused: save it again from your spreadsheet program, or export it as CSV."
            ) from exc
        raise ImportRefused("The workbook is damaged and cannot be opened.") from exc


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xlsx_rows(content: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0]
        table: list[list[str]] = []
        limit = settings.DSR_IMPORT_MAX_ROWS + 1
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            if number > limit + 1:
                break
            values = []
            for cell in cells:
                if cell.data_type == "f":
                    raise ImportRefused(
                        f"Cell {cell.coordinate} holds a formula. Formulas are not imported: "
                        "copy the sheet and paste values only."
                    )
                values.append(_cell_text(cell.value))
            table.append(values)
        return table
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _rows(table: Iterable[list[str]]) -> list[dict[str, str]]:
    # Row numbers as the spreadsheet shows them; blank lines are skipped but still counted.
    numbered = [(n, row) for n, row in enumerate(table, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise ImportRefused("The file is empty.")
    header = [cell.strip() for cell in numbered[0][1]]
    while header and not header[-1]:
        header.pop()
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS and c not in OPTIONAL_COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown columns: {', '.join(c or '(blank)' for c in unknown)}")
    if repeated:
        problems.append(f"repeated columns: {', '.join(repeated)}")
    if problems:
        raise ImportRefused(
            "The first row must name the register's columns (download the template): "
            + "; ".join(problems)
            + "."
        )
    body = numbered[1:]
    if not body:
        raise ImportRefused("The file has the column names but no people.")
    if len(body) > settings.DSR_IMPORT_MAX_ROWS:
        raise ImportRefused(
            f"The file has more than {settings.DSR_IMPORT_MAX_ROWS} people: import it in parts."
        )
    rows = []
    for number, cells in body:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            raise ImportRefused(f"Row {number} has more values than there are columns.")
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        rows.append(
            {ROW_NUMBER: str(number)}
            | {n: _unquote(values.get(n, "").strip()) for n in (*COLUMNS, *OPTIONAL_COLUMNS)}
        )
    return rows


def _unquote(value: str) -> str:
    """Undo the export's guard against formula injection ('=... -> =...)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


# --- Checking and applying rows ------------------------------------------------------------


class _TrialRun(Exception):
    """Raised to roll a trial run back."""


def _form_data(row: dict[str, str]) -> MultiValueDict:
    data = MultiValueDict({name: [row[name]] for name in COLUMNS})
    data.setlist("risk_factors", [f.strip() for f in row["risk_factors"].split(";") if f.strip()])
    chi = row["chi_number"].replace(" ", "")
    if chi.isdigit() and len(chi) == 9:  # a spreadsheet dropped the leading zero
        chi = "0" + chi
    data["chi_number"] = chi
    if row.get("chi_mismatch_confirmed", "").lower() == "yes":
        data["confirm_chi_mismatch"] = "on"
    for name in YES_NO_COLUMNS:
        data[name] = row[name].lower()
    return data


def _field_errors(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            (name if name in COLUMNS else "", _row_message(e))
            for name, errors in exc.error_dict.items()
            for e in errors
        ]
    return [("", message) for message in exc.messages]


def _row_message(error: ValidationError) -> str:
    message = " ".join(error.messages)
    if error.code == CHI_MISMATCH:
        message += " In a file, put yes in the row's chi_mismatch_confirmed column."
    return message


def _differs(person: Person, wanted: dict[str, Any]) -> list[str]:
    differ = []
    for name, value in wanted.items():
        current = getattr(person, name)
        if name == "risk_factors":
            current, value = sorted(current or []), sorted(value or [])
        if name == "chi_number":
            current, value = current or None, value or None
        if current != value:
            differ.append(name)
    return differ


def _apply_row(actor: User, form: ImportRowForm, existing: Person | None) -> str:
    """Add, update or leave one person; returns 'new', 'updated' or 'unchanged'."""
    data = form.cleaned_data
    details = form.details()
    status = services.normalise_status(form.status_kwargs())
    locality = data["locality"]
    if existing is None:
        services.add_person(
            actor,
            locality=locality,
            reason="Imported from the authority's register file.",
            date_added=data.get("date_added"),
            **details,
            **status,
            **form.chi_confirmation(),
        )
        return "new"
    if existing.date_left is not None:
        raise ValidationError(
            {"local_reference": ["This reference belongs to someone who has left the register."]}
        )
    if data.get("date_added") and data["date_added"] != existing.date_added:
        raise ValidationError(
            {"date_added": ["The date added cannot be changed by an import; leave it as it is."]}
        )
    changed_details = _differs(existing, details)
    changed_status = _differs(existing, status)
    moved = locality.pk != existing.locality_id
    if not (changed_details or changed_status or moved):
        return "unchanged"
    person = existing
    if changed_details:
        person = services.update_person_details(
            actor,
            person,
            version=person.version,
            **{k: details[k] for k in changed_details},
            **form.chi_confirmation(),
        )
    if changed_status:
        person = services.record_status_change(
            actor,
            person,
            version=person.version,
            reason="Updated from the authority's register file.",
            **status,
        ).person
    if moved:
        person = services.move_locality(
            actor,
            person,
            version=person.version,
            locality=locality,
            reason="Updated from the authority's register file.",
        )
    return "updated"


def _run(
    actor: User, authority: IntegrationAuthority, rows: list[dict[str, str]], *, commit: bool
) -> Outcome:
    """Every row through the add-person form and the services, in one transaction that is kept
    only when `commit` and no row failed."""
    outcome = Outcome()
    references: dict[str, int] = {}
    for row in rows:
        number = int(row[ROW_NUMBER])
        ref = row["local_reference"]
        if ref and ref in references:
            outcome.errors.append(
                RowError(
                    number,
                    "local_reference",
                    f"The reference {ref} is also on row {references[ref]}: "
                    "each person appears once.",
                )
            )
        references.setdefault(ref, number)
    localities = {
        locality.name: locality
        for locality in selectors.localities_for(actor).filter(authority=authority)
    }
    host_areas = host_area_choices(authority.pk)
    existing = {
        p.local_reference: p
        for p in access.writable_people(actor).filter(
            authority=authority, local_reference__in=[r for r in references if r]
        )
    }
    try:
        with transaction.atomic():
            for row in rows:
                number = int(row[ROW_NUMBER])
                form = ImportRowForm(
                    _form_data(row),
                    localities=localities,
                    authority_id=authority.pk,
                    host_areas=host_areas,
                )
                if not form.is_valid():
                    for name, messages in form.errors.items():
                        for message in messages:
                            outcome.errors.append(
                                RowError(number, name if name in COLUMNS else "", message)
                            )
                    continue
                # Each service runs in its own savepoint, so a refused row leaves nothing behind
                # and the run can go on to report the next rows.
                try:
                    current = existing.get(row["local_reference"])
                    result = _apply_row(actor, form, current)
                except ValidationError as exc:
                    outcome.errors.extend(RowError(number, c, m) for c, m in _field_errors(exc))
                    continue
                setattr(outcome, result, getattr(outcome, result) + 1)
            if outcome.errors or not commit:
                raise _TrialRun
    except _TrialRun:
        pass
    outcome.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column else -1))
    return outcome


def stage_import(
    actor: User, authority: IntegrationAuthority, *, filename: str, file: IO[bytes]
) -> ImportBatch:
    """Check an uploaded file and keep it for confirmation, or refuse it with the reasons.

    Raises ImportRefused (audited) when the file as a whole cannot be read; otherwise returns a
    batch that is either `staged` (every row passes) or `refused` (with per-row errors)."""
    access.require_lead(actor, authority.pk)
    filename = filename[-255:]
    content = file.read(max_bytes() + 1)  # never more than the limit into memory
    digest = hashlib.sha256(content).hexdigest()
    try:
        file_format, rows = read_file(filename, content)
    except ImportRefused as exc:
        record_event(
            actor,
            AuditAction.REGISTER_IMPORT_REFUSED,
            authority_id=authority.pk,
            changes={"file": filename, "sha256": digest, "reason": str(exc)},
        )
        raise  # the refusal is audited in the caller's transaction, which is not rolled back
    with transaction.atomic():
        return _stage(actor, authority, filename, file_format, rows, content, digest)


def _stage(
    actor: User,
    authority: IntegrationAuthority,
    filename: str,
    file_format: str,
    rows: list[dict[str, str]],
    content: bytes,
    digest: str,
) -> ImportBatch:
    # An earlier upload that was never confirmed is superseded (and its rows dropped).
    ImportBatch.objects.filter(authority=authority, status=ImportStatus.STAGED).update(
        status=ImportStatus.DISCARDED, rows=[], decided_at=timezone.now()
    )
    outcome = _run(actor, authority, rows, commit=False)
    refused = bool(outcome.errors)
    batch = ImportBatch.objects.create(
        authority=authority,
        uploaded_by=actor,
        filename=filename,
        file_format=file_format,
        size=len(content),
        sha256=digest,
        status=ImportStatus.REFUSED if refused else ImportStatus.STAGED,
        rows=[] if refused else rows,
        counts=outcome.counts,
        errors=[e.as_list() for e in outcome.errors],
        decided_at=timezone.now() if refused else None,
    )
    record_event(
        actor,
        AuditAction.REGISTER_IMPORT_REFUSED if refused else AuditAction.REGISTER_IMPORT_CHECKED,
        obj=batch,
        changes={"file": filename, "rows": len(rows), "errors": len(outcome.errors)},
    )
    return batch


@transaction.atomic
def apply_import(actor: User, batch: ImportBatch) -> ImportBatch:
    """The lead confirms a staged batch: every row is applied in this one transaction, or none."""
    access.require_lead(actor, batch.authority_id)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.STAGED:
        raise ValidationError(f"This import has already been {batch.get_status_display().lower()}.")
    outcome = _run(actor, batch.authority, batch.rows, commit=True)
    batch.status = ImportStatus.REFUSED if outcome.errors else ImportStatus.APPLIED
    batch.counts = outcome.counts
    batch.errors = [e.as_list() for e in outcome.errors]
    batch.rows = []
    batch.decided_at = timezone.now()
    batch.save()
    record_event(
        actor,
        AuditAction.REGISTER_IMPORTED
        if not outcome.errors
        else AuditAction.REGISTER_IMPORT_REFUSED,
        obj=batch,
        changes={"file": batch.filename, **outcome.counts, "errors": len(outcome.errors)},
    )
    return batch


@transaction.atomic
def discard_import(actor: User, batch: ImportBatch) -> ImportBatch:
    access.require_lead(actor, batch.authority_id)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == ImportStatus.STAGED:
        batch.status = ImportStatus.DISCARDED
        batch.rows = []
        batch.decided_at = timezone.now()
        batch.save()
        record_event(actor, AuditAction.REGISTER_IMPORT_DISCARDED, obj=batch)
    return batch


def discard_unconfirmed_imports(*, older_than: dt.timedelta = dt.timedelta(hours=24)) -> int:
    """Drop the rows of checked files never confirmed or discarded (daily task): personal data
    is not kept waiting. Runs across authorities in the audited system scope."""
    cutoff = timezone.now() - older_than
    with transaction.atomic(), access.system_scope("discard unconfirmed register imports"):
        stale = list(ImportBatch.objects.filter(status=ImportStatus.STAGED, uploaded_at__lt=cutoff))
        for batch in stale:
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportStatus.DISCARDED, rows=[], decided_at=timezone.now()
            )
            record_event(None, AuditAction.REGISTER_IMPORT_DISCARDED, obj=batch)
    return len(stale)


# --- Writing files -------------------------------------------------------------------------


def person_row(person: Person) -> dict[str, str]:
    """One person in the import layout (the locality must be loaded with the person)."""
    row: dict[str, str] = {}
    for name in COLUMNS:
        value = person.locality.name if name == "locality" else getattr(person, name)
        if name == "risk_factors":
            value = ";".join(value or [])
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        row[name] = "" if value is None else str(value)
    return row


def _heading(name: str) -> str:
    if name == "locality":
        return "Locality"
    label = str(Person._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


# The readable export: the same people and columns, for people to read (never for re-import).
READABLE_HEADINGS: dict[str, str] = {name: _heading(name) for name in COLUMNS}


def readable_row(person: Person) -> dict[str, str]:
    """One person for reading: codes as labels, dates as pages show them, Yes and No."""
    row: dict[str, str] = {}
    for name in COLUMNS:
        value = person.locality.name if name == "locality" else getattr(person, name)
        if name in labels.FIELD_CODES or name == "host_area":
            value = labels.field_value(name, value or ("" if name != "risk_factors" else []))
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, dt.date):
            value = labels.display_date(value)
        row[name] = "" if value is None else str(value)
    return row


def _guard(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def render_csv(rows: Iterable[dict[str, str]], *, headings: Iterable[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(headings))
    for row in rows:
        writer.writerow([_guard(row[name]) for name in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def render_xlsx(rows: Iterable[dict[str, str]], *, headings: Iterable[str] = COLUMNS) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Register")
    sheet.append(list(headings))
    for row in rows:
        cells = []
        for name in COLUMNS:
            cell = WriteOnlyCell(sheet, value=row[name])
            cell.data_type = "s"  # text, never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_rows() -> list[dict[str, str]]:
    return [{name: EXAMPLE_ROW.get(name, "") for name in COLUMNS}]


def _people_on_register(actor: User, authority: IntegrationAuthority) -> list[Person]:
    access.require_lead(actor, authority.pk)
    return list(
        access.visible_people(actor)
        .on_register()
        .filter(authority=authority)
        .select_related("locality")
        .order_by("local_reference")
    )


def export_rows(actor: User, authority: IntegrationAuthority) -> list[dict[str, str]]:
    """Everyone on the authority's register now, in the import layout (one query)."""
    return [person_row(p) for p in _people_on_register(actor, authority)]


def export_register(
    actor: User, authority: IntegrationAuthority, *, file_format: str, readable: bool = False
) -> bytes:
    """The authority's register as CSV or XLSX; audited. The coded layout (the default) can be
    imported back; the readable one shows labels, dates in words and column names for people."""
    if readable:
        rows = [readable_row(p) for p in _people_on_register(actor, authority)]
        headings = list(READABLE_HEADINGS.values())
        render = render_csv if file_format == "csv" else render_xlsx
        content = render(rows, headings=headings)
    else:
        rows = export_rows(actor, authority)
        content = render_csv(rows) if file_format == "csv" else render_xlsx(rows)
    changes: dict[str, Any] = {"format": file_format, "people": len(rows)}
    if readable:
        changes["layout"] = "readable"
    record_event(actor, AuditAction.REGISTER_EXPORTED, authority_id=authority.pk, changes=changes)
    return content


def errors_csv(batch: ImportBatch) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "message"])
    for row, column, message in batch.errors:
        writer.writerow([row, column, _guard(message)])
    return out.getvalue().encode("utf-8-sig")
