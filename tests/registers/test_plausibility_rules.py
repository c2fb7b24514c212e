"""Dates that cannot be true, invisible characters in names and references, and download names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import services as staff_services
from registers import services
from registers.validation import date_errors, has_control_characters, safe_download_name
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"date_of_birth": dt.date(1899, 12, 31)}, "date_of_birth", "before 1900"),
        ({"planned_move_date": dt.date(1066, 10, 14)}, "planned_move_date", "before 1900"),
        (
            {"date_of_birth": dt.date(1990, 1, 1), "admission_date": dt.date(1989, 12, 31)},
            "admission_date",
            "admission date cannot be before the date of birth",
        ),
        (
            {"date_of_birth": dt.date(1990, 1, 1), "placement_start_date": dt.date(1980, 1, 1)},
            "placement_start_date",
            "before the date of birth",
        ),
        ({"planned_return_date": dt.date(2205, 1, 1)}, "planned_return_date", "10 years ahead"),
    ],
)
def test_dates_that_cannot_be_true_are_named_with_a_reason(fields, field, message):
    assert message in date_errors(fields, today=TODAY)[field][0]


def test_plausible_dates_pass():
    fields = {
        "date_of_birth": dt.date(1950, 2, 28),
        "admission_date": dt.date(2024, 1, 1),
        "planned_return_date": dt.date(2030, 1, 1),
    }
    assert date_errors(fields, today=TODAY) == {}


@pytest.mark.parametrize(
    "text", ["a\u202eb", "a\u2066b", "a\u200bb", "a\ufeffb", "a\x00b", "a\tb", "a\x9bb", "a\u200fb"]
)
def test_bidirectional_zero_width_and_control_characters_are_detected(text):
    assert has_control_characters(text)


@pytest.mark.parametrize("text", ["Mòrag", "Ó Briain-Smith", "D'Arcy", "Zoë 李"])
def test_letters_of_any_language_and_punctuation_are_not_control_characters(text):
    assert not has_control_characters(text)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ('dsr-subject-access-DG/1";x.pdf', "dsr-subject-access-DG_1_x.pdf"),
        ("../../etc/passwd", "etc_passwd"),
        ("\u202egpj.exe", "gpj.exe"),
        ("report 2025 Q1.csv", "report_2025_Q1.csv"),
        ("....", "download"),
    ],
)
def test_download_names_keep_only_safe_characters(name, safe):
    assert safe_download_name(name) == safe


def test_a_status_change_cannot_date_an_admission_before_birth(practitioner, nithsdale):
    person = PersonFactory(locality=nithsdale, date_of_birth=dt.date(1990, 5, 17))
    with pytest.raises(ValidationError) as refused:
        services.record_status_change(
            practitioner,
            person,
            version=person.version,
            reason="Admitted",
            category="urgent",
            urgent_reason="in_hospital",
            risk_rating=None,
            risk_factors=[],
            hospital_name="Midpark",
            hospital_type="mental_health_inpatient",
            hospital_in_area=True,
            admission_date=dt.date(1985, 1, 1),
            legal_status="informal",
        )
    assert refused.value.message_dict["admission_date"] == [
        "The admission date cannot be before the date of birth."
    ]


def test_a_transferred_persons_new_reference_cannot_hold_invisible_characters(
    lead, other_lead, nithsdale, leith
):
    person = PersonFactory(locality=nithsdale)
    transfer = services.request_transfer(
        lead, person, version=person.version, to_authority=leith.authority, reason="Moving"
    )
    with pytest.raises(ValidationError) as refused:
        services.accept_transfer(other_lead, transfer, locality=leith, local_reference="ED\u200b-1")
    assert "invisible" in refused.value.message_dict["local_reference"][0]


def test_staff_names_with_control_characters_are_refused(lead, authority):
    with pytest.raises(ValidationError) as refused:
        staff_services.add_staff_member(
            lead, authority, email="new@example.scot", role="viewer", first_name="Ia\u202ein"
        )
    assert "first_name" in refused.value.message_dict


def test_an_api_client_name_with_control_characters_is_refused(lead, authority):
    with pytest.raises(ValidationError) as refused:
        staff_services.create_api_client(lead, authority, name="CMS\x1b[31m", scopes=["read"])
    assert "invisible" in refused.value.message_dict["name"][0]


def test_a_download_name_built_from_a_local_reference_is_sanitised(client, lead, nithsdale):
    person = PersonFactory(locality=nithsdale, local_reference='DG/7"; x=1')
    client.force_login(lead)
    response = client.post(f"/register/people/{person.pk}/subject-access/")
    assert response["Content-Disposition"] == (
        f'attachment; filename="dsr-subject-access-DG_7_x_1-{dt.date.today():%Y-%m-%d}.pdf"'
    )
