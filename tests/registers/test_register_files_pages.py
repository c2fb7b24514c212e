"""The import and export page, the import check/confirm pages, and the downloads."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from registers import imports
from registers.models import AuditEvent, ImportBatch, ImportStatus, Person
from tests.factories import PersonFactory
from tests.registers.importing import csv_bytes, good_row, hospital_row, stage, xlsx_bytes

pytestmark = pytest.mark.django_db

PAGE = "/register/files/"


def upload(client, name: str, content: bytes):
    return client.post(PAGE, {"file": SimpleUploadedFile(name, content)})


def test_the_lead_sees_the_page_and_the_navigation_entry(client, lead, nithsdale):
    client.force_login(lead)
    body = client.get(PAGE).content.decode()
    assert "<h1>Import and export the register" in body
    assert 'aria-current="page">Import and export</a>' in body
    assert 'enctype="multipart/form-data"' in body


@pytest.mark.parametrize("role", ["practitioner", "viewer"])
def test_staff_who_are_not_the_lead_are_refused_and_see_no_navigation_entry(
    client, request, role, nithsdale
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    for url in (PAGE, "/register/files/export.csv", "/register/files/template.xlsx"):
        assert client.get(url).status_code == 403
    assert "Import and export" not in client.get("/register/").content.decode()


def test_someone_with_no_role_gets_not_found(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(PAGE).status_code == 404


def test_a_good_upload_is_checked_then_confirmed(client, lead, nithsdale):
    client.force_login(lead)
    response = upload(client, "register.csv", csv_bytes([good_row("A-1"), hospital_row("A-2")]))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == f"/register/files/imports/{batch.pk}/"
    body = client.get(response.url).content.decode()
    assert "Every row passed the register's checks" in body
    assert "Confirm the import" in body
    assert Person.objects.count() == 0

    response = client.post(f"/register/files/imports/{batch.pk}/confirm/", {"decision": "confirm"})
    body = client.get(response.url).content.decode()
    assert "The register was imported: 2 added, 0 updated, 0 unchanged." in body
    assert Person.objects.count() == 2


def test_the_check_can_be_discarded(client, lead, nithsdale):
    client.force_login(lead)
    upload(client, "register.csv", csv_bytes([good_row()]))
    batch = ImportBatch.objects.get()
    client.post(f"/register/files/imports/{batch.pk}/confirm/", {"decision": "discard"})
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DISCARDED and Person.objects.count() == 0


def test_a_refused_file_is_explained_on_the_form(client, lead, nithsdale):
    client.force_login(lead)
    response = upload(client, "register.xlsx", xlsx_bytes([good_row()], formula_in="C2"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Import and export the register" in body
    assert 'class="ds_error-summary"' in body and 'href="#id_file"' in body
    assert "Cell C2 holds a formula" in body
    assert not ImportBatch.objects.exists() and Person.objects.count() == 0


def test_an_upload_with_no_file_asks_for_one(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post(PAGE, {}).content.decode()
    assert "Choose a CSV or Excel file to import." in body


def test_row_errors_are_listed_in_a_table_and_downloadable(client, lead, nithsdale):
    client.force_login(lead)
    response = upload(client, "r.csv", csv_bytes([good_row(), good_row("B", sex="x")]))
    body = client.get(response.url).content.decode()
    assert "<title>Error: Import of r.csv" in body
    assert "The file was not imported" in body
    assert "<td><code>sex</code></td><td>Unknown code &#x27;x&#x27;" in body
    batch = ImportBatch.objects.get()
    download = client.get(f"/register/files/imports/{batch.pk}/errors.csv")
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="dsr-import-{batch.pk}-errors.csv"'
    )
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[1][:2] == ["3", "sex"]
    assert Person.objects.count() == 0


def test_another_authoritys_import_is_not_found(client, other_lead, lead, authority, nithsdale):
    batch = stage(lead, authority, "r.csv", csv_bytes([good_row()]))
    client.force_login(other_lead)
    for url in (
        f"/register/files/imports/{batch.pk}/",
        f"/register/files/imports/{batch.pk}/errors.csv",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/register/files/imports/{batch.pk}/confirm/").status_code == 404
    assert Person.objects.count() == 0


def test_a_practitioner_cannot_confirm_the_leads_import(
    client, practitioner, lead, authority, nithsdale
):
    batch = stage(lead, authority, "r.csv", csv_bytes([good_row()]))
    client.force_login(practitioner)
    assert client.post(f"/register/files/imports/{batch.pk}/confirm/").status_code == 403
    assert Person.objects.count() == 0


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_templates_download_with_the_layouts_columns(client, lead, nithsdale, file_format):
    client.force_login(lead)
    response = client.get(f"/register/files/template.{file_format}")
    assert response["Content-Disposition"].endswith(f'dsr-register-template.{file_format}"')
    if file_format == "csv":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        book = load_workbook(io.BytesIO(response.content))
        header = [c.value for c in next(book.active.iter_rows())]
    assert tuple(header) == imports.COLUMNS


def test_the_filled_in_template_imports(lead, authority, nithsdale):
    content = imports.render_csv(imports.template_rows())
    batch = stage(lead, authority, "template.csv", content)
    assert batch.errors == [] and batch.counts["new"] == 1


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_lead_exports_the_register_and_it_is_audited(
    client, lead, nithsdale, other_person, file_format
):
    PersonFactory(locality=nithsdale, local_reference="MINE")
    client.force_login(lead)
    response = client.get(f"/register/files/export.{file_format}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="dsr-register-S37000006.{file_format}"'
    )
    assert "no-store" in {d.strip() for d in response["Cache-Control"].split(",")}
    if file_format == "csv":
        text = response.content.decode("utf-8-sig")
    else:
        book = load_workbook(io.BytesIO(response.content))
        text = " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
    assert "MINE" in text and other_person.local_reference not in text
    event = AuditEvent.objects.get(action="register.exported")
    assert (event.actor, event.changes) == (lead, {"format": file_format, "people": 1})


def test_the_page_takes_the_same_number_of_queries_with_many_imports(
    client, lead, authority, nithsdale, django_assert_max_num_queries
):
    client.force_login(lead)
    stage(lead, authority, "a.csv", csv_bytes([good_row(sex="x")]))
    with django_assert_max_num_queries(20) as few:
        client.get(PAGE)
    for n in range(15):
        stage(lead, authority, f"{n}.csv", csv_bytes([good_row(sex="x")]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(PAGE)
