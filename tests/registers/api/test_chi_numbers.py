"""CHI numbers as issued today through the REST API: single, by reference and bulk."""

import pytest

from registers.models import Person
from tests.registers.api.conftest import new_person

pytestmark = pytest.mark.django_db

# Valid, but born 1 Jan 1920 and male by its digits: disagrees with a woman born in 1988.
MISMATCHED = "0101201234"


# Adding and updating -------------------------------------------------------------------------


def test_api_refuses_a_chi_that_disagrees_unless_confirmed(cms, nithsdale):
    body = new_person(nithsdale, chi_number=MISMATCHED)
    refused = cms.post("/api/v1/people/", body, format="json")
    assert refused.status_code == 400
    assert "does not match" in " ".join(refused.json()["errors"]["chi_number"])
    created = cms.post("/api/v1/people/", body | {"confirm_chi_mismatch": True}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["chi_number"] == MISMATCHED


def test_api_accepts_a_modulus_10_chi(cms, nithsdale):
    body = new_person(nithsdale, chi_number="0101201234", date_of_birth="1920-01-01", sex="male")
    response = cms.post("/api/v1/people/", body, format="json")
    assert response.status_code == 201, response.json()


def test_upsert_by_reference_needs_the_confirmation_too(cms, nithsdale):
    url = "/api/v1/people/by-reference/CMS-7/"
    body = new_person(nithsdale, chi_number=MISMATCHED)
    del body["local_reference"]
    assert cms.put(url, body, format="json").status_code == 400
    confirmed = cms.put(url, body | {"confirm_chi_mismatch": True}, format="json")
    assert confirmed.status_code == 201


def test_bulk_upsert_refuses_an_unconfirmed_mismatch_by_index_and_stores_a_confirmed_one(
    cms, nithsdale
):
    good = new_person(nithsdale, "B-1", chi_number="0101201230", date_of_birth="1920-01-01")
    good["sex"] = "male"
    mismatched = new_person(nithsdale, "B-2", chi_number=MISMATCHED)
    refused = cms.post("/api/v1/people/bulk/", {"people": [good, mismatched]}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"1"}
    assert "chi_number" in refused.json()["errors"]["1"]
    assert not Person.objects.exists()
    mismatched["confirm_chi_mismatch"] = True
    stored = cms.post("/api/v1/people/bulk/", {"people": [good, mismatched]}, format="json")
    assert stored.status_code == 200, stored.json()
    assert set(Person.objects.values_list("chi_number", flat=True)) == {"0101201230", MISMATCHED}


def test_bulk_update_that_makes_a_chi_disagree_needs_the_confirmation(cms, nithsdale, person):
    item = {"local_reference": person.local_reference, "version": person.version}
    item["chi_number"] = MISMATCHED
    refused = cms.post("/api/v1/people/bulk/", {"people": [item]}, format="json")
    assert refused.status_code == 400
    assert "chi_number" in refused.json()["errors"]["0"]
    item["confirm_chi_mismatch"] = True
    stored = cms.post("/api/v1/people/bulk/", {"people": [item]}, format="json")
    assert stored.status_code == 200, stored.json()
    person.refresh_from_db()
    assert person.chi_number == MISMATCHED
