"""Adding a person from the form."""

import pytest

from registers.codes import Category, RiskRating
from registers.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def add_person_data(place, **overrides):
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


def test_a_lead_adds_a_person(client, lead, nithsdale):
    client.force_login(lead)
    response = client.post("/register/add/", add_person_data(nithsdale))
    person = Person.objects.get(local_reference="NEW-1")
    assert response.url == f"/register/people/{person.pk}/"
    assert (person.category, person.risk_rating, person.created_by) == (
        Category.ENHANCED_MONITORING,
        RiskRating.AMBER,
        lead,
    )


def test_adding_someone_in_hospital_records_the_stay(client, lead, nithsdale):
    client.force_login(lead)
    client.post(
        "/register/add/",
        add_person_data(
            nithsdale,
            status="urgent:in_hospital",
            risk_rating="",
            hospital_name="Midpark",
            hospital_type="mental_health_inpatient",
            hospital_in_area="yes",
            admission_date="01/02/2024",
            legal_status="informal",
        ),
    )
    person = Person.objects.get(local_reference="NEW-1")
    assert (person.hospital_name, person.hospital_in_area) == ("Midpark", True)


def test_placement_details_are_ignored_unless_the_person_is_out_of_area(client, lead, nithsdale):
    client.force_login(lead)
    client.post(
        "/register/add/",
        add_person_data(nithsdale, host_area="england", placement_start_date="01/01/2024"),
    )
    person = Person.objects.get(local_reference="NEW-1")
    assert person.host_area is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"given_name": ""}, "Enter the given name."),
        ({"date_of_birth": "31/02/1990"}, "Enter the date of birth as a real date"),
        ({"date_of_birth": "01/01/2015"}, "The register is for adults"),
        ({"chi_number": "1705901234"}, "check digit is wrong"),
        ({"status": "urgent:at_risk_of_breakdown", "risk_rating": "green"}, "red or amber"),
        ({"status": "urgent:in_hospital", "risk_rating": ""}, "Enter the hospital&#x27;s name."),
        ({"status": "appropriate_out_of_area"}, "Choose the host area"),
        ({"locality": ""}, "Choose the locality."),
    ],
)
def test_bad_input_when_adding_is_refused_with_a_message_and_nothing_saved(
    client, lead, nithsdale, overrides, message
):
    client.force_login(lead)
    response = client.post("/register/add/", add_person_data(nithsdale, **overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert message in body
    assert "<title>Error: " in body
    assert not Person.objects.exists()


def test_error_summary_links_to_the_field(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post("/register/add/", add_person_data(nithsdale, family_name="")).content
    assert b'<a href="#id_family_name">' in body


def test_a_duplicate_local_reference_is_explained(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, local_reference="NEW-1")
    client.force_login(lead)
    body = client.post("/register/add/", add_person_data(nithsdale)).content.decode()
    assert "already has this local reference" in body
    assert Person.objects.count() == 1


def test_a_practitioner_can_only_add_to_their_own_localities(
    client, practitioner, nithsdale, stewartry
):
    client.force_login(practitioner)
    response = client.post("/register/add/", add_person_data(stewartry))
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.exists()


def test_a_viewer_cannot_add_people(client, viewer):
    client.force_login(viewer)
    assert client.get("/register/add/").status_code == 403
