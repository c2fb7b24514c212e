"""A lead imports a register file in the browser: upload, the check, confirm. The import, export
and subject access pages pass axe-core with no serious or critical violations."""

import pytest

from registers.models import Person
from tests.browser.conftest import VENDOR
from tests.browser.test_accessibility import RUN_AXE
from tests.factories import PersonFactory
from tests.registers.importing import csv_bytes, good_row, hospital_row, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_uploads_a_register_checks_it_and_confirms(signed_in, lead, nithsdale):
    page = signed_in(lead)
    page.goto("/register/")
    page.get_by_role("link", name="Import and export").click()
    page.get_by_label("Register file").set_input_files(
        {
            "name": "register.csv",
            "mimeType": "text/csv",
            "buffer": csv_bytes([good_row("WEB-1"), hospital_row("WEB-2")]),
        }
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("text=Every row passed the register's checks")
    assert Person.objects.count() == 0
    page.get_by_role("button", name="Confirm the import").click()
    page.wait_for_selector("text=The register was imported: 2 added, 0 updated, 0 unchanged.")
    assert set(Person.objects.values_list("local_reference", flat=True)) == {"WEB-1", "WEB-2"}


def test_the_import_export_and_subject_access_pages_have_no_serious_violations(
    signed_in, lead, authority, nithsdale
):
    person = PersonFactory(locality=nithsdale)
    refused = stage(lead, authority, "bad.csv", csv_bytes([good_row(sex="x", category="y")]))
    staged = stage(lead, authority, "good.csv", csv_bytes([good_row()]))
    page = signed_in(lead, init_script=(VENDOR / "axe-core" / "axe.min.js").read_text())
    problems = {}
    for path in (
        "/register/files/",
        f"/register/files/imports/{refused.pk}/",
        f"/register/files/imports/{staged.pk}/",
        f"/register/people/{person.pk}/subject-access/",
    ):
        page.goto(path)
        found = page.evaluate(RUN_AXE)
        if found:
            problems[path] = found
    page.goto("/register/files/")
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("#error-summary")
    found = page.evaluate(RUN_AXE)
    if found:
        problems["/register/files/ (errors)"] = found
    assert problems == {}
