"""A form field in the design system's markup, written in plain Python.

`includes/field.html` did this through the template engine: one include, a `{% with %}`, about
thirty variable lookups and, for a choice field, Django rendering each option as a subwidget
(a context dict per option): about 0.1 to 0.3 ms a field, most of the quick update form's and
the register filters' time. `{% form_field form.x %}` prints the same HTML: the template, still
used by the other forms' pages, is compared with this on every kind of field, bound to random
answers, in `tests/registers/test_field_html.py`.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from django.forms import BoundField, HiddenInput
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .widgets import PARTS, date_parts, parts_in_error

DATE_LABELS = ("Day", "Month", "Year")
INVALID = ' aria-invalid="true"'


def _esc(value: Any) -> str:
    # A plain string straight to `html.escape` (what Django's `escape` does, without its lazy
    # wrapper's checks); anything else as the template would treat it.
    if type(value) is str:
        return escape(value)
    return str(conditional_escape(value))


def _question(errors: Any) -> str:
    """The opening of a question's box, marked when the field has errors."""
    return f'\n<div class="ds_question{" ds_question--error" if errors else ""}">\n'


def _value(field: BoundField) -> str:
    value = field.value()
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return escape(value.strftime("%d/%m/%Y"))
    return _esc(value)


def _errors(field: BoundField) -> str:
    from .templatetags.dsr import field_errors

    return _esc(field_errors(field))


def _described(field: BoundField, auto_id: str, help_text: Any, errors: Any) -> str:
    if not (help_text or errors):
        return ""
    hint = f"{auto_id}-hint" if help_text else ""
    error = f" {auto_id}-error" if errors else ""
    return f' aria-describedby="{hint}{error}"'


def _head(field: BoundField, auto_id: str, help_text: Any, errors: Any) -> str:
    """The hint and the error lines of a field, with the indent the template gave them."""
    hint = f'<p class="ds_hint-text" id="{auto_id}-hint">{_esc(help_text)}</p>' if help_text else ""
    error = (
        f'<p class="ds_question__error-message" id="{auto_id}-error">{_errors(field)}</p>'
        if errors
        else ""
    )
    return f"{hint}\n    {error}\n"


def _options(field: BoundField) -> list[tuple[str, Any, bool]] | None:
    """(value, label, selected) of each option, as `ChoiceWidget.optgroups` marks them.

    None for grouped choices, which the template is left to write.
    """
    widget = field.field.widget
    chosen = widget.format_value(field.value())
    many = widget.allow_multiple_selected
    has_selected = False
    options = []
    for value, label in widget.choices:
        if isinstance(label, (list, tuple)):
            return None
        if value is None:
            value = ""
        selected = (many or not has_selected) and str(value) in chosen
        has_selected |= selected
        options.append((value, label, selected))
    return options


def _choice_group(field: BoundField, kind: str, inline: bool, options: list) -> str:
    auto_id = _esc(field.auto_id)
    help_text, errors = field.help_text, field.errors
    name = _esc(field.html_name)
    if kind == "radioselect":
        box, kind_type = "ds_radio ds_radio--small", "radio"
        input_class, label_class = "ds_radio__input", "ds_radio__label"
    else:
        box, kind_type = "ds_checkbox ds_checkbox--small", "checkbox"
        input_class, label_class = "ds_checkbox__input", "ds_checkbox__label"
    items = []
    for index, (value, label, selected) in enumerate(options):
        option_id = f"{auto_id}_{index}" if auto_id else ""
        checked = " checked" if selected else ""
        items.append(
            f'\n      \n      <div class="{box}">\n'
            f'        <input class="{input_class}" type="{kind_type}" name="{name}" '
            f'id="{option_id}" value="{_esc(value)}"{checked}>\n'
            f'        <label class="{label_class}" for="{option_id}">{_esc(label)}</label>\n'
            f"      </div>\n      \n    "
        )
    group = " ds_field-group--inline" if inline else ""
    return (
        f"{_question(errors)}"
        f"  <fieldset{_described(field, auto_id, help_text, errors)}>\n"
        f'    <legend class="dsr-legend">{_esc(field.label)}</legend>\n'
        f"    {_head(field, auto_id, help_text, errors)}"
        f'    <div class="ds_field-group{group}">\n    {"".join(items)}\n'
        f"    </div>\n  </fieldset>\n</div>\n"
    )


def _checkbox(field: BoundField) -> str:
    auto_id = _esc(field.auto_id)
    errors = field.errors
    error = (
        f'<p class="ds_question__error-message" id="{auto_id}-error">{_errors(field)}</p>'
        if errors
        else ""
    )
    described = f' aria-describedby="{auto_id}-error"' if errors else ""
    return (
        f"{_question(errors)}"
        f"  {error}\n"
        f'  <div class="ds_checkbox ds_checkbox--small">\n'
        f'    <input class="ds_checkbox__input" type="checkbox" name="{_esc(field.html_name)}" '
        f'id="{auto_id}"{" checked" if field.value() else ""}'
        f"{described}>\n"
        f'    <label class="ds_checkbox__label" for="{auto_id}">{_esc(field.label)}</label>\n'
        f"  </div>\n</div>\n"
    )


def _date(field: BoundField) -> str:
    auto_id = _esc(field.auto_id)
    help_text, errors = field.help_text, field.errors
    name = _esc(field.html_name)
    wrong = parts_in_error(field.value()) if errors else ()
    boxes = []
    for part, label, value in zip(PARTS, DATE_LABELS, date_parts(field.value()), strict=True):
        bad = part in wrong
        width = "4" if part == "year" else "2"
        complete = f"bday-{part}" if field.name == "date_of_birth" else "off"
        boxes.append(
            "\n        <div>\n"
            f'          <label class="ds_label" for="{auto_id}_{part}">{label}</label>\n'
            f'          <input class="ds_input ds_input--fixed-{width}'
            f'{" ds_input--error" if bad else ""}" type="text" inputmode="numeric" '
            f'id="{auto_id}_{part}" name="{name}_{part}" value="{_esc(value)}" '
            f'autocomplete="{complete}"{INVALID if bad else ""}>\n'
            "        </div>\n      "
        )
    return (
        f"{_question(errors)}"
        f"  <fieldset{_described(field, auto_id, help_text, errors)}>\n"
        f'    <legend class="dsr-legend">{_esc(field.label)}</legend>\n'
        f"    {_head(field, auto_id, help_text, errors)}"
        '    <div class="ds_datepicker ds_datepicker--multiple">\n'
        f'      <div class="ds_datepicker__input-wrapper">\n      {"".join(boxes)}\n'
        "      </div>\n    </div>\n  </fieldset>\n</div>\n"
    )


def _single(field: BoundField, kind: str, width: Any, options: list | None) -> str:
    auto_id = _esc(field.auto_id)
    help_text, errors = field.help_text, field.errors
    name = _esc(field.html_name)
    described = _described(field, auto_id, help_text, errors)
    invalid = ' aria-invalid="true"' if errors else ""
    hint = f'<p class="ds_hint-text" id="{auto_id}-hint">{_esc(help_text)}</p>' if help_text else ""
    error = (
        f'<p class="ds_question__error-message" id="{auto_id}-error">{_errors(field)}</p>'
        if errors
        else ""
    )
    if kind == "select":
        options = "".join(
            f'<option value="{_esc(value)}"{" selected" if selected else ""}>{_esc(label)}</option>'
            for value, label, selected in options or ()
        )
        control = (
            f'\n  <div class="ds_select-wrapper{" ds_select--error" if errors else ""}">\n'
            f'    <select class="ds_select" id="{auto_id}" name="{name}"{described}{invalid}>\n'
            f"      {options}\n    </select>\n"
            '    <span class="ds_select-arrow" aria-hidden="true"></span>\n  </div>\n  '
        )
    elif kind == "textarea":
        rows = field.field.widget.attrs.get("rows") or 4
        control = (
            f'\n  <textarea class="ds_input{" ds_input--error" if errors else ""}" '
            f'rows="{_esc(rows)}" id="{auto_id}" name="{name}"{described}{invalid}>'
            f"{_value(field)}</textarea>\n  "
        )
    else:
        widget_type = field.widget_type
        fixed = (
            " ds_input--fixed-10"
            if widget_type == "date"
            else (f" ds_input--fixed-{_esc(width)}" if width else "")
        )
        input_type = widget_type if widget_type in ("email", "password") else "text"
        value = f' value="{_value(field)}"' if widget_type != "password" else ""
        autocomplete = field.field.widget.attrs.get("autocomplete")
        complete = f' autocomplete="{_esc(autocomplete)}"' if autocomplete else ""
        control = (
            f'\n  <input class="ds_input{" ds_input--error" if errors else ""}{fixed}" '
            f'type="{input_type}" id="{auto_id}" name="{name}"{value}{complete}'
            f"{described}{invalid}>\n  "
        )
    return (
        f"{_question(errors)}"
        f'  <label class="ds_label" for="{auto_id}">{_esc(field.label)}</label>\n'
        f"  {hint}\n  {error}\n  {control}\n</div>\n"
    )


def field_html(field: BoundField, *, inline: Any = False, width: Any = None) -> SafeString:
    """The field as `includes/field.html` wrote it (its leading and trailing newlines too)."""
    kind = field.widget_type
    if kind in ("date", "email", "number"):
        kind = "text"
    options = None
    if kind in ("radioselect", "checkboxselectmultiple", "select"):
        options = _options(field)
        if options is None or not field.auto_id or "id" in field.field.widget.attrs:
            # Option groups or ids of the widget's own: the template's way, rare here.
            return get_template("includes/field.html").render(
                {"field": field, "inline": inline, "width": width}
            )
    if kind in ("radioselect", "checkboxselectmultiple"):
        body = _choice_group(field, kind, bool(inline), options)
    elif kind == "checkbox":
        body = _checkbox(field)
    elif kind == "daymonthyear":
        body = _date(field)
    else:
        body = _single(field, kind, width, options)
    return mark_safe(f"\n{body}\n\n")  # noqa: S308 (every value above is escaped)


def hidden_html(form: Any) -> SafeString:
    """A form's hidden fields as `{% for hidden in form.hidden_fields %}{{ hidden }}{% endfor %}`
    writes them: a plain `HiddenInput` directly (about 40 microseconds through Django's widget
    templates), anything else by Django."""
    out = []
    for bound in form.hidden_fields():
        widget = bound.field.widget
        if type(widget) is not HiddenInput or widget.attrs or widget.is_localized:
            out.append(str(bound))
            continue
        field = bound.field
        if field.disabled or field.show_hidden_initial or field.help_text or bound.errors:
            out.append(str(bound))
            continue
        if not bound.auto_id:
            out.append(str(bound))
            continue
        value = widget.format_value(bound.value())
        shown = f' value="{_esc(value)}"' if value is not None else ""
        name, auto_id = _esc(bound.html_name), _esc(bound.auto_id)
        out.append(f'<input type="hidden" name="{name}"{shown} id="{auto_id}">')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
