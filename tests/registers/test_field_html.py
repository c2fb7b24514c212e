"""`{% form_field %}` (registers/fieldhtml.py) writes what `includes/field.html` writes.

The template stays the reference: every field of the forms that need no database, unbound and
bound to random answers (valid or not, with characters HTML must escape), through both.
"""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template import engines
from django.template.loader import get_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import forms as account_forms
from registers import forms as register_forms
from registers.fieldhtml import field_html, hidden_html
from registers.filters import PersonFilter
from registers.models import Person

FORMS: list[Any] = [
    register_forms.QuickStatusForm,
    register_forms.ReviewForm,
    register_forms.LeaveForm,
    register_forms.EraseEntryForm,
    register_forms.DeclineTransferForm,
    register_forms.LocalityNameForm,
    register_forms.DetailsForm,
    account_forms.CodeForm,
    account_forms.ApiClientForm,
    account_forms.NationalAnalystForm,
    account_forms.ForgottenPasswordForm,
    account_forms.EmailDigestsForm,
    account_forms.WebhookForm,
    lambda *a, **kw: PersonFilter(queryset=Person.objects.none()).get_form_class()(*a, **kw),
]
TEMPLATE = "includes/field.html"
texts = st.text(alphabet="ab<>&\"' 0129/-", max_size=12)


def answers(form: forms.Form) -> st.SearchStrategy[dict[str, Any]]:
    """Random answers to each field: one of its choices or any text, the date's three parts."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in form.fields.items():
        choices = [str(value) for value, _ in getattr(field, "choices", [])]
        one = st.sampled_from(choices) | texts if choices else texts
        if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.SelectMultiple):
            parts[name] = st.lists(one, max_size=3)
        elif field.widget.__class__.__name__ == "DayMonthYearWidget":
            for part in ("day", "month", "year"):
                parts[f"{name}_{part}"] = texts | st.integers(0, 2030).map(str)
        else:
            parts[name] = one
    return st.fixed_dictionaries({}, optional=parts)


def assert_same(form: forms.Form, inline: bool, width: Any) -> None:
    template = get_template(TEMPLATE)
    for bound in form:
        expected = template.render({"field": bound, "inline": inline, "width": width})
        assert field_html(bound, inline=inline, width=width) == expected, bound.name


@pytest.mark.parametrize("make", FORMS)
@pytest.mark.parametrize("inline,width", [(False, None), (True, 10)])
def test_unbound_fields_are_written_alike(make: Any, inline: bool, width: Any) -> None:
    assert_same(make(auto_id="x%s"), inline, width)


@pytest.mark.parametrize("make", FORMS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), inline=st.booleans(), width=st.sampled_from([None, 20]))
def test_bound_fields_are_written_alike(make: Any, data: Any, inline: bool, width: Any) -> None:
    answered = data.draw(answers(make()))
    form = make(answered, auto_id="quick7_%s")
    form.is_valid()
    assert_same(form, inline, width)


HIDDEN = "{% for hidden in form.hidden_fields %}{{ hidden }}{% endfor %}"


@pytest.mark.parametrize("make", FORMS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), bound=st.booleans())
def test_hidden_fields_are_written_alike(make: Any, data: Any, bound: bool) -> None:
    form = make(data.draw(answers(make())), auto_id="quick7_%s") if bound else make()
    form.is_valid()
    expected = engines["django"].from_string(HIDDEN).render({"form": form})
    assert hidden_html(form) == expected
