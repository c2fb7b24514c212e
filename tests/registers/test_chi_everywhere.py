"""CHI numbers as issued today (domain.md, "CHI numbers") through every door: the services, the
add and edit pages, register files, and the return's data-quality warnings (the REST API:
tests/registers/api/test_chi_numbers.py)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from registers import imports, services
from registers.models import AuditEvent, Person
from registers.validation import CHI_MISMATCH
from tests.factories import PersonFactory
from tests.registers.importing import csv_bytes, good_row, stage
from tests.reporting.conftest import CENSUS, build_return

pytestmark = pytest.mark.django_db

# Valid CHI numbers of domain.md with a date of birth and sex that agree with them.
VALID = [
    pytest.param("0101011237", dt.date(2001, 1, 1), "male", id="both checks pass"),
    pytest.param("0101201234", dt.date(1920, 1, 1), "male", id="modulus 10 only"),
    pytest.param("0101201230", dt.date(1920, 1, 1), "male", id="modulus 11 only"),
]
# Valid, but born 1 Jan 1920 and male by its digits: disagrees with Morag, born 1990, female.
MISMATCHED = "0101201234"


def identity(**overrides):
    fields = {
        "given_name": "Morag",
        "family_name": "Fraser",
        "date_of_birth": dt.date(1990, 5, 17),
        "sex": "female",
        "local_reference": "CHI-1",
        "referral_source": "health",
        "category": "enhanced_monitoring",
        "risk_rating": "amber",
    }
    return fields | overrides


# Services ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("chi", "born", "sex"), VALID)
def test_every_valid_chi_of_the_domain_vectors_can_be_added(lead, nithsdale, chi, born, sex):
    person = services.add_person(
        lead, locality=nithsdale, **identity(chi_number=chi, date_of_birth=born, sex=sex)
    )
    assert Person.objects.get(pk=person.pk).chi_number == chi


@pytest.mark.parametrize(
    ("chi", "message"),
    [("0101201235", "check digit"), ("3201201234", "date of birth (DDMMYY)")],
)
def test_invalid_chi_vectors_are_refused_even_when_confirmed(lead, nithsdale, chi, message):
    with pytest.raises(ValidationError) as refused:
        services.add_person(
            lead, locality=nithsdale, confirm_chi_mismatch=True, **identity(chi_number=chi)
        )
    assert message in " ".join(refused.value.message_dict["chi_number"])
    assert not Person.objects.exists()


def test_a_chi_that_disagrees_is_refused_until_the_user_confirms_it(lead, nithsdale):
    with pytest.raises(ValidationError) as refused:
        services.add_person(lead, locality=nithsdale, **identity(chi_number=MISMATCHED))
    [error] = refused.value.error_dict["chi_number"]
    assert error.code == CHI_MISMATCH
    assert "date of birth" in error.messages[0] and "sex" in error.messages[0]
    assert not Person.objects.exists()
    person = services.add_person(
        lead, locality=nithsdale, confirm_chi_mismatch=True, **identity(chi_number=MISMATCHED)
    )
    assert person.chi_number == MISMATCHED
    event = AuditEvent.objects.get(action="person.added", object_id=str(person.pk))
    assert len(event.changes["chi_mismatch_confirmed"]) == 2


def test_a_confirmed_mismatch_is_not_asked_again_when_other_details_change(lead, nithsdale):
    person = services.add_person(
        lead, locality=nithsdale, confirm_chi_mismatch=True, **identity(chi_number=MISMATCHED)
    )
    person = services.update_person_details(
        lead, person, version=person.version, key_worker_name="Iain Ross"
    )
    assert person.key_worker_name == "Iain Ross"
    # Changing the date of birth is a new disagreement to confirm.
    with pytest.raises(ValidationError):
        services.update_person_details(
            lead, person, version=person.version, date_of_birth=dt.date(1991, 5, 17)
        )


# Pages ------------------------------------------------------------------------------------------


def add_page_data(place, **overrides):
    data = {
        "given_name": "Morag",
        "family_name": "Fraser",
        "date_of_birth": "17/05/1990",
        "sex": "female",
        "local_reference": "NEW-1",
        "referral_source": "health",
        "locality": place.pk,
        "status": "enhanced_monitoring",
        "risk_rating": "amber",
    }
    return data | overrides


def test_add_page_asks_to_confirm_a_chi_that_disagrees_then_adds_the_person(
    client, lead, nithsdale
):
    client.force_login(lead)
    page = client.get("/register/add/").content.decode()
    assert 'name="confirm_chi_mismatch"' not in page
    first = client.post("/register/add/", add_page_data(nithsdale, chi_number=MISMATCHED))
    body = first.content.decode()
    assert first.status_code == 200
    assert "does not match the date of birth" in body
    assert 'name="confirm_chi_mismatch"' in body
    assert not Person.objects.exists()
    second = client.post(
        "/register/add/",
        add_page_data(nithsdale, chi_number=MISMATCHED, confirm_chi_mismatch="on"),
    )
    assert second.status_code == 302
    assert Person.objects.get().chi_number == MISMATCHED


def test_add_page_accepts_a_modulus_10_chi_without_a_question(client, lead, nithsdale):
    client.force_login(lead)
    response = client.post(
        "/register/add/",
        add_page_data(nithsdale, chi_number="0101201234", date_of_birth="01/01/1920", sex="male"),
    )
    assert response.status_code == 302
    assert Person.objects.get().chi_number == "0101201234"


def test_edit_page_asks_to_confirm_a_new_chi_that_disagrees(client, lead, person):
    client.force_login(lead)
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": person.date_of_birth.strftime("%d/%m/%Y"),
        "sex": person.sex,
        "chi_number": MISMATCHED,
        "local_reference": person.local_reference,
        "referral_source": person.referral_source,
        "version": person.version,
    }
    first = client.post(f"/register/people/{person.pk}/edit/", data)
    assert 'name="confirm_chi_mismatch"' in first.content.decode()
    person.refresh_from_db()
    assert person.chi_number != MISMATCHED
    second = client.post(
        f"/register/people/{person.pk}/edit/", data | {"confirm_chi_mismatch": "on"}
    )
    assert second.status_code == 302
    person.refresh_from_db()
    assert person.chi_number == MISMATCHED


# Register files ---------------------------------------------------------------------------------


def test_an_import_row_with_a_mismatch_is_refused_naming_the_confirmation_column(
    lead, authority, nithsdale
):
    batch = stage(lead, authority, "register.csv", csv_bytes([good_row(chi_number=MISMATCHED)]))
    assert batch.status == "refused"
    [(row, column, message)] = [tuple(e) for e in batch.errors]
    assert (row, column) == (2, "chi_number")
    assert "chi_mismatch_confirmed" in message


def test_an_import_row_that_confirms_the_mismatch_is_stored(lead, authority, nithsdale):
    columns = [*imports.COLUMNS, "chi_mismatch_confirmed"]
    row = good_row(chi_number=MISMATCHED) | {"chi_mismatch_confirmed": "yes"}
    batch = stage(lead, authority, "register.csv", csv_bytes([row], columns))
    assert batch.status == "staged", batch.errors
    imports.apply_import(lead, batch)
    assert Person.objects.get().chi_number == MISMATCHED


def test_an_import_accepts_a_modulus_10_chi(lead, authority, nithsdale):
    row = good_row(chi_number="0101201234", date_of_birth="1920-01-01", sex="male")
    batch = stage(lead, authority, "register.csv", csv_bytes([row]))
    assert batch.status == "staged", batch.errors


# The return -------------------------------------------------------------------------------------


def test_the_return_lists_confirmed_mismatches_among_its_data_quality_warnings(
    authority, nithsdale
):
    PersonFactory(locality=nithsdale, chi_number=MISMATCHED, date_added=dt.date(2025, 1, 10))
    PersonFactory(locality=nithsdale, date_added=dt.date(2025, 1, 10))
    ret = build_return(authority, CENSUS)
    assert {w["code"]: w["count"] for w in ret.warnings}["chi_mismatch"] == 1
