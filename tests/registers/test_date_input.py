"""The design system's date input: every date is typed as day, month and year."""

import datetime as dt

import pytest

from registers.widgets import DayMonthYearField, parts_in_error
from tests.registers.test_add_person_page import add_person_data

pytestmark = pytest.mark.django_db


def clean(data, *, required=True):
    field = DayMonthYearField(label="Date of birth", required=required)
    value = field.widget.value_from_datadict(data, {}, "born")
    return field.clean(value)


def test_three_boxes_make_a_date():
    assert clean({"born_day": "7", "born_month": "3", "born_year": "1990"}) == dt.date(1990, 3, 7)


def test_leading_zeros_and_spaces_are_fine():
    assert clean({"born_day": " 07", "born_month": "03 ", "born_year": "1990"}) == dt.date(
        1990, 3, 7
    )


def test_one_text_value_is_still_read_in_the_usual_formats():
    assert clean({"born": "1990-03-07"}) == dt.date(1990, 3, 7)
    assert clean({"born": "07/03/1990"}) == dt.date(1990, 3, 7)


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("7", "3", "", "Date of birth must include a year."),
        ("", "3", "1990", "Date of birth must include a day."),
        ("", "", "1990", "Date of birth must include a day and month."),
        ("31", "2", "1990", "Enter the date of birth as a real date"),
        ("7", "13", "1990", "Enter the date of birth as a real date"),
        ("x", "3", "1990", "Enter the date of birth as a real date"),
        ("7", "3", "90", "Date of birth must have a year with 4 digits"),
    ],
)
def test_partial_and_impossible_dates_are_refused_with_a_named_reason(day, month, year, message):
    field = DayMonthYearField(label="Date of birth")
    with pytest.raises(Exception) as refused:
        field.clean(
            field.widget.value_from_datadict(
                {"born_day": day, "born_month": month, "born_year": year}, {}, "born"
            )
        )
    assert message in " ".join(refused.value.messages)


def test_an_empty_required_date_names_the_date():
    field = DayMonthYearField(label="Date of birth")
    with pytest.raises(Exception) as refused:
        field.clean(
            field.widget.value_from_datadict(
                {"born_day": "", "born_month": "", "born_year": ""}, {}, "born"
            )
        )
    assert refused.value.messages == ["Enter the date of birth."]


def test_an_empty_optional_date_is_none_and_its_message_drops_optional():
    assert clean({"born_day": "", "born_month": "", "born_year": ""}, required=False) is None
    field = DayMonthYearField(label="Planned return date (optional)", required=False)
    assert field.error_messages["incomplete"].startswith("Planned return date must")


def test_no_form_or_filter_asks_for_a_date_in_one_text_box():
    import inspect

    import django_filters
    from django import forms

    import accounts.forms
    import registers.filters
    import registers.forms

    found = 0
    for module in (registers.forms, accounts.forms, registers.filters):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm):
                fields = cls.base_fields.values()
            elif issubclass(cls, django_filters.FilterSet):
                fields = [f.field for f in cls.base_filters.values()]
            else:
                continue
            for field in fields:
                assert not isinstance(field, forms.DateField), (cls, field.label)
                found += isinstance(field, DayMonthYearField)
    assert found >= 15


def test_the_add_person_page_draws_three_labelled_boxes_for_the_date_of_birth(
    client, lead, nithsdale
):
    client.force_login(lead)
    body = client.get("/register/add/").content.decode()
    for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        assert f'<label class="ds_label" for="id_date_of_birth_{part}">{label}</label>' in body
        assert f'name="date_of_birth_{part}"' in body
        assert f'autocomplete="bday-{part}"' in body
    assert "ds_datepicker__input-wrapper" in body
    assert '<legend class="dsr-legend">Date of birth</legend>' in body


def test_a_person_is_added_with_the_date_typed_in_three_boxes(client, lead, nithsdale):
    from registers.models import Person

    client.force_login(lead)
    data = add_person_data(nithsdale)
    del data["date_of_birth"]
    data |= {"date_of_birth_day": "17", "date_of_birth_month": "5", "date_of_birth_year": "1990"}
    client.post("/register/add/", data)
    assert Person.objects.get(local_reference="NEW-1").date_of_birth == dt.date(1990, 5, 17)


def test_what_was_typed_is_kept_when_the_date_is_refused(client, lead, nithsdale):
    client.force_login(lead)
    data = add_person_data(nithsdale)
    del data["date_of_birth"]
    data |= {"date_of_birth_day": "31", "date_of_birth_month": "2", "date_of_birth_year": "1990"}
    body = client.post("/register/add/", data).content.decode()
    assert 'name="date_of_birth_day" value="31"' in body
    assert 'name="date_of_birth_month" value="2"' in body
    assert '<a href="#id_date_of_birth_day">Enter the date of birth as a real date' in body


def test_the_audit_log_filters_dates_by_day_month_and_year(client, lead):
    client.force_login(lead)
    response = client.get(
        "/register/audit/",
        {"date_from_day": "1", "date_from_month": "1", "date_from_year": "2020"},
    )
    assert response.status_code == 200
    assert 'name="date_from_day" value="1"' in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "marked"),
    [
        (["7", "3", ""], ("year",)),
        (["", "", "1990"], ("day", "month")),
        (["7", "x", "1990"], ("month",)),
        (["7", "3", "90"], ("year",)),
        (["7", "13", "1990"], ("month",)),
        (["32", "1", "1990"], ("day",)),
        (["31", "2", "1990"], ("day", "month", "year")),
        (["", "", ""], ("day", "month", "year")),
        ("31/02/1990", ("day", "month", "year")),
    ],
)
def test_only_the_boxes_in_error_are_marked(typed, marked):
    assert parts_in_error(typed) == marked
