"""Error summaries list every problem at once, each naming its field and linking to it."""

import re

import pytest
from django import forms
from django.template import Context, Template

from registers.models import Person
from tests.registers.test_add_person_page import add_person_data

pytestmark = pytest.mark.django_db


def summary_links(body: str) -> list[tuple[str, str]]:
    summary = body[
        body.index('id="error-summary"') : body.index("</ul>", body.index("error-summary"))
    ]
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary)


def test_an_empty_add_person_form_lists_every_missing_answer_by_name(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post("/register/add/", {"chi_number": "1705901234"}).content.decode()
    links = dict(summary_links(body))
    assert links == {
        "id_given_name": "Enter the given name.",
        "id_family_name": "Enter the family name.",
        "id_date_of_birth_day": "Enter the date of birth.",
        "id_sex_0": "Choose the person&#x27;s sex.",
        "id_chi_number": "This CHI number&#x27;s check digit is wrong: check it has been copied "
        "correctly.",
        "id_local_reference": "Enter the local reference.",
        "id_locality": "Choose the locality.",
        "id_referral_source": "Choose the referral source.",
        "id_status_0": "Choose the register category.",
    }
    assert "This field is required." not in body
    assert not Person.objects.exists()


def test_a_bad_chi_is_reported_together_with_the_other_errors(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post(
        "/register/add/", add_person_data(nithsdale, given_name="", chi_number="12345")
    ).content.decode()
    links = dict(summary_links(body))
    assert links["id_given_name"] == "Enter the given name."
    assert links["id_chi_number"] == "Enter a CHI number as 10 digits, with no spaces."


def test_a_status_rule_is_reported_together_with_a_missing_name(client, lead, nithsdale):
    client.force_login(lead)
    body = client.post(
        "/register/add/",
        add_person_data(nithsdale, family_name="", status="urgent:in_hospital", risk_rating=""),
    ).content.decode()
    links = dict(summary_links(body))
    assert links["id_family_name"] == "Enter the family name."
    assert links["id_hospital_name"] == "Enter the hospital&#x27;s name."
    assert "id_admission_date_day" in links


def test_a_date_error_links_to_the_day_box_and_marks_every_box_when_it_is_no_date(
    client, lead, nithsdale
):
    client.force_login(lead)
    data = add_person_data(nithsdale)
    del data["date_of_birth"]
    data |= {"date_of_birth_day": "31", "date_of_birth_month": "2", "date_of_birth_year": "1990"}
    body = client.post("/register/add/", data).content.decode()
    link = ("id_date_of_birth_day", "Enter the date of birth as a real date, like 27 3 2025.")
    assert link in summary_links(body)
    assert body.count('aria-invalid="true"') == 3


def test_a_partial_date_links_to_and_marks_only_the_missing_box(client, lead, nithsdale):
    client.force_login(lead)
    data = add_person_data(nithsdale)
    del data["date_of_birth"]
    data |= {"date_of_birth_day": "17", "date_of_birth_month": "5", "date_of_birth_year": ""}
    body = client.post("/register/add/", data).content.decode()
    assert ("id_date_of_birth_year", "Date of birth must include a year.") in summary_links(body)
    marked = re.findall(r'<input class="ds_input ds_input--fixed-\d ds_input--error"[^>]*>', body)
    assert len(marked) == 1 and 'id="id_date_of_birth_year"' in marked[0]


class Plain(forms.Form):
    name = forms.CharField(label="Team name")
    size = forms.IntegerField(label="Team size")
    why = forms.CharField(label="Why now?")


def test_django_s_own_messages_are_named_after_their_field():
    form = Plain({"size": "many"})
    form.is_valid()
    html = Template('{% include "includes/error_summary.html" %}').render(Context({"form": form}))
    assert '<a href="#id_name">Team name is required.</a>' in html
    assert '<a href="#id_size">Team size: Enter a whole number.</a>' in html
    assert '<a href="#id_why">Answer &#x27;Why now?&#x27;.</a>' in html
    assert "This field is required." not in html
