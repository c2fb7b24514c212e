"""HTML forms for the register. They parse and present; the rules live in services.py, whose
ValidationError messages are attached back to the fields by `attach_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import selectors
from .codes import (
    Category,
    DelayReason,
    HospitalType,
    HostAreaOutsideScotland,
    LeavingReason,
    LegalStatus,
    PlacementType,
    ReferralSource,
    RiskFactor,
    RiskRating,
    Sex,
    UrgentReason,
)
from .models import HOSPITAL_FIELDS, PLACEMENT_ENTRY_FIELDS, IntegrationAuthority, Locality
from .services.records import DETAIL_FIELDS, IDENTITY_FIELDS
from .validation import CHI_MISMATCH, identity_errors, normalise_status, status_errors
from .widgets import DATE_HINT, DayMonthYearField

# One choice for category and urgent reason together: it reads as the register's own list.
STATUS_CHOICES = [
    (f"urgent:{UrgentReason.IN_HOSPITAL}", "Urgent: in hospital"),
    (f"urgent:{UrgentReason.INAPPROPRIATE_OUT_OF_AREA}", "Urgent: inappropriate out-of-area"),
    (f"urgent:{UrgentReason.AT_RISK_OF_BREAKDOWN}", "Urgent: at risk of breakdown"),
    (Category.ENHANCED_MONITORING.value, "Enhanced monitoring"),
    (Category.APPROPRIATE_OUT_OF_AREA.value, "Appropriate out of area"),
]
YES_NO = [("yes", "Yes"), ("no", "No")]


def status_value(category: str, urgent_reason: str | None) -> str:
    return f"{category}:{urgent_reason}" if urgent_reason else category


def split_status(value: str) -> tuple[str, str | None]:
    category, _, reason = value.partition(":")
    return category, reason or None


def date_field(
    label: str, *, required: bool = True, help_text: str = DATE_HINT
) -> DayMonthYearField:
    return DayMonthYearField(label=label, required=required, help_text=help_text)


def text(label: str, *, required: bool = False, max_length: int = 200, **kw: Any) -> forms.Field:
    kw.setdefault("error_messages", {"required": f"Enter the {label[0].lower()}{label[1:]}."})
    return forms.CharField(label=label, required=required, max_length=max_length, **kw)


def host_area_choices(exclude_authority_id: int | None) -> list[tuple[str, str]]:
    others = selectors.host_area_authorities(authority_id=exclude_authority_id)
    return [
        ("", "Choose the host area"),
        *[(code, f"{name} (Scotland)") for code, name in others],
        *HostAreaOutsideScotland.choices,
    ]


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's messages on the form's fields; others go to the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                if error.code == CHI_MISMATCH:
                    form.chi_mismatch = True  # show the box that confirms it
                message = " ".join(error.messages)
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def add_rule_errors(form: forms.Form, errors: dict[str, list[Any]]) -> None:
    """Add the register's rule errors for fields the form itself had no complaint about."""
    already = set(form.errors)
    for name, messages in errors.items():
        name = "status" if name in ("category", "urgent_reason") else name
        if name not in form.fields or name in already:
            continue
        for message in messages:
            if isinstance(message, ValidationError):
                form.chi_mismatch = form.chi_mismatch or message.code == CHI_MISMATCH
                message = " ".join(message.messages)
            form.add_error(name, message)


class AllErrorsAtOnce(forms.Form):
    """A form whose page lists every problem in one go.

    The register's rules live in the services and run once the form is valid. When some field is
    already refused (a missing name, an impossible date), the rules are also applied here to the
    fields that did parse, so a bad CHI number or a missing hospital name is reported together
    with the other errors rather than only after they are fixed."""

    chi_mismatch = False

    def rule_errors(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        return {}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            add_rule_errors(self, self.rule_errors(data))
        return data


class DetailsForm(AllErrorsAtOnce):
    """Identity, placement in the IA and planning: everything but the register status."""

    given_name = text("Given name", required=True, max_length=100)
    family_name = text("Family name", required=True, max_length=100)
    preferred_name = text("Preferred name (optional)", max_length=100)
    date_of_birth = date_field("Date of birth")
    sex = forms.ChoiceField(
        label="Sex",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the person's sex."},
    )
    chi_number = text(
        "CHI number (optional)",
        max_length=12,
        help_text="10 digits: the first six are the date of birth",
    )
    confirm_chi_mismatch = forms.BooleanField(
        label="I have checked: the CHI number is right although it does not match the date of "
        "birth or sex",
        required=False,
    )
    local_reference = text("Local reference", required=True, max_length=50)
    key_worker_name = text("Key worker's name (optional)")
    key_worker_contact = text("Key worker's contact details (optional)")
    lead_professional_team = text("Lead professional team (optional)")
    referral_source = forms.ChoiceField(
        label="Referral source",
        choices=[("", "Choose a source"), *ReferralSource.choices],
        error_messages={"required": "Choose the referral source."},
    )
    planned_move_date = date_field("Planned move or discharge date (optional)", required=False)
    guardianship_or_poa = forms.BooleanField(
        label="Guardianship or power of attorney in place", required=False
    )
    info_sharing_recorded = forms.BooleanField(
        label="Information-sharing basis recorded", required=False
    )
    info_sharing_date = date_field("Date information sharing recorded (optional)", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    detail_fields = DETAIL_FIELDS

    # Set when the service asked for a CHI mismatch to be confirmed: the page then shows the box.
    chi_mismatch = False
    # Adding a person asks for any CHI mismatch to be confirmed; an edit asks only when the
    # identity changes, which the service alone can tell.
    mismatch_needs_confirming = False

    def rule_errors(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        fields = {name: data.get(name) for name in self.detail_fields}
        allowed = not self.mismatch_needs_confirming or bool(data.get("confirm_chi_mismatch"))
        return identity_errors(fields, today=timezone.localdate(), chi_mismatch_allowed=allowed)

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.detail_fields}

    def chi_confirmation(self) -> dict[str, bool]:
        return {"confirm_chi_mismatch": bool(self.cleaned_data.get("confirm_chi_mismatch"))}


class StatusFieldsMixin(AllErrorsAtOnce):
    status = forms.ChoiceField(
        label="Register category",
        choices=STATUS_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the register category."},
    )
    risk_rating = forms.ChoiceField(
        label="Risk of breakdown",
        choices=RiskRating.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Not needed while the person is in hospital",
    )
    risk_factors = forms.MultipleChoiceField(
        label="Risk factors (optional)",
        choices=RiskFactor.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Hospital stay: only when urgent, in hospital.
    hospital_name = text("Hospital name")
    hospital_type = forms.ChoiceField(
        label="Type of hospital",
        choices=[("", "Choose a type"), *HospitalType.choices],
        required=False,
    )
    hospital_in_area = forms.ChoiceField(
        label="Is the hospital within the authority?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    admission_date = date_field("Admission date", required=False)
    legal_status = forms.ChoiceField(
        label="Legal status",
        choices=[("", "Choose a legal status"), *LegalStatus.choices],
        required=False,
    )
    ready_for_discharge_date = date_field(
        "Clinically ready for discharge (optional)", required=False
    )
    delay_reason = forms.ChoiceField(
        label="Reason for delayed discharge (optional)",
        choices=[("", "No delay reason"), *DelayReason.choices],
        required=False,
    )
    # Out-of-area placement: only when out of area.
    host_area = forms.ChoiceField(label="Host area", choices=[], required=False)
    placement_type = forms.ChoiceField(
        label="Type of placement",
        choices=[("", "Choose a type"), *PlacementType.choices],
        required=False,
    )
    placement_start_date = date_field("Placement start date", required=False)
    planned_return_date = date_field("Planned return date (optional)", required=False)

    hospital_fields = HOSPITAL_FIELDS
    placement_fields = PLACEMENT_ENTRY_FIELDS

    def rule_errors(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        if not data.get("status"):
            return {}
        host_areas = {value for value, _ in self.fields["host_area"].choices if value}
        state = normalise_status(self.status_kwargs())
        return status_errors(state, today=timezone.localdate(), host_areas=host_areas)

    def status_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        category, urgent_reason = split_status(data["status"])
        out: dict[str, Any] = {
            "category": category,
            "urgent_reason": urgent_reason,
            "risk_rating": data.get("risk_rating") or None,
            "risk_factors": data.get("risk_factors") or [],
        }
        for name in (*self.hospital_fields, *self.placement_fields):
            value = data.get(name)
            if name == "hospital_in_area":
                value = {"yes": True, "no": False}.get(value)
            elif value == "":
                value = "" if name == "hospital_name" else None
            out[name] = value
        return out


class AddPersonForm(DetailsForm, StatusFieldsMixin):
    locality = forms.ModelChoiceField(
        label="Locality",
        queryset=Locality.objects.none(),
        empty_label="Choose a locality",
        error_messages={"required": "Choose the locality."},
    )
    date_added = date_field("Date added to the register", required=False)
    reason = forms.CharField(
        label="Why is the person being added? (optional)", required=False, widget=forms.Textarea
    )

    # The order of the page, so the error summary lists problems top to bottom.
    field_order = [
        *IDENTITY_FIELDS[: IDENTITY_FIELDS.index("chi_number") + 1],
        "confirm_chi_mismatch",
        *IDENTITY_FIELDS[IDENTITY_FIELDS.index("chi_number") + 1 :],
        "locality",
        *DETAIL_FIELDS[len(IDENTITY_FIELDS) :],
        "status",
        "risk_rating",
        "risk_factors",
        *StatusFieldsMixin.hospital_fields,
        *StatusFieldsMixin.placement_fields,
        "date_added",
        "reason",
    ]

    def __init__(
        self,
        *args: Any,
        localities: Any,
        authority_id: int | None,
        host_areas: list[tuple[str, str]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["locality"].queryset = localities
        self.fields["host_area"].choices = host_areas or host_area_choices(authority_id)
        self.fields["date_added"].help_text = "Leave blank for today. " + DATE_HINT
        del self.fields["version"]

    mismatch_needs_confirming = True

    def rule_errors(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        return DetailsForm.rule_errors(self, data) | StatusFieldsMixin.rule_errors(self, data)


class StatusForm(StatusFieldsMixin):
    reason = forms.CharField(
        label="Why has the status changed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the status changed."},
    )
    effective_date = date_field(
        "Date the change took effect", required=False, help_text="Leave blank for today"
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["host_area"].choices = host_area_choices(authority_id)


class QuickStatusForm(forms.Form):
    """The practitioner's few-clicks update: rating or category, and why."""

    risk_rating = forms.ChoiceField(
        label="Risk of breakdown",
        choices=RiskRating.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    status = forms.ChoiceField(
        label="Register category",
        choices=STATUS_CHOICES,
        error_messages={"required": "Choose the register category."},
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=2000,
        error_messages={"required": "Say why the status changed."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    review_date = date_field("Date of the review")
    attendees = forms.CharField(
        label="Who attended",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say who attended."},
    )
    outcome = forms.CharField(
        label="Outcome",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Record the outcome."},
    )
    actions = forms.CharField(
        label="Actions (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    next_review_due = date_field(
        "Next review due (optional)",
        required=False,
        help_text="Leave blank for the usual interval for the person's category",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class LeaveForm(forms.Form):
    date_left = date_field("Date the person left the register")
    leaving_reason = forms.ChoiceField(
        label="Why did the person leave?",
        choices=[c for c in LeavingReason.choices if c[0] != LeavingReason.TRANSFERRED_TO_OTHER_IA],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the person left the register."},
    )
    note = forms.CharField(
        label="Note (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EraseEntryForm(forms.Form):
    reason = forms.CharField(
        label="Why was this entry added in error?",
        help_text="For example: someone else's CHI number was used, or the person was already on "
        "the register. Do not repeat the person's name or CHI number: the reason is kept.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Say why this entry was added in error."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class MoveLocalityForm(forms.Form):
    locality = forms.ModelChoiceField(
        label="New locality",
        queryset=Locality.objects.none(),
        empty_label="Choose a locality",
        error_messages={"required": "Choose the new locality."},
    )
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, localities: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["locality"].queryset = localities


class TransferForm(forms.Form):
    to_authority = forms.ModelChoiceField(
        label="Receiving authority",
        queryset=IntegrationAuthority.objects.none(),
        empty_label="Choose an authority",
        error_messages={"required": "Choose the receiving authority."},
    )
    reason = forms.CharField(
        label="Why is the person moving?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the person is moving to another authority."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["to_authority"].queryset = IntegrationAuthority.objects.exclude(pk=authority_id)


class AcceptTransferForm(forms.Form):
    locality = forms.ModelChoiceField(
        label="Locality on your register",
        queryset=Locality.objects.none(),
        empty_label="Choose a locality",
        error_messages={"required": "Choose a locality on your register."},
    )
    local_reference = text("Local reference on your register", required=True, max_length=50)

    def __init__(self, *args: Any, localities: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["locality"].queryset = localities


class DeclineTransferForm(forms.Form):
    note = forms.CharField(
        label="Why are you declining?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the transfer is declined."},
    )


class ImportRowForm(AddPersonForm):
    """One row of an imported register file, parsed exactly as the add-person form parses it.

    The file's columns are the field names and code values (docs/register-files.md,
    "Layout"); category and urgent reason are separate columns, the locality is named, yes/no
    columns read `yes` or `no`, and risk factors are separated by `;`. The register's rules are
    then applied by the same services as the form's.
    """

    category = forms.ChoiceField(label="category", choices=Category.choices)
    urgent_reason = forms.ChoiceField(
        label="urgent_reason", choices=[("", ""), *UrgentReason.choices], required=False
    )
    guardianship_or_poa = forms.TypedChoiceField(
        choices=YES_NO, coerce=lambda v: v == "yes", required=False, empty_value=False
    )
    info_sharing_recorded = forms.TypedChoiceField(
        choices=YES_NO, coerce=lambda v: v == "yes", required=False, empty_value=False
    )

    def __init__(self, *args: Any, localities: dict[str, Locality], **kw: Any) -> None:
        """`localities`: the authority's localities by name (read once for the whole file)."""
        super().__init__(*args, localities=Locality.objects.none(), **kw)
        del self.fields["status"]
        del self.fields["reason"]
        self.fields["locality"] = forms.TypedChoiceField(
            choices=[(name, name) for name in localities],
            coerce=localities.__getitem__,
            error_messages={
                "required": "Enter the locality's name.",
                "invalid_choice": "No locality of this authority is called '%(value)s'.",
            },
        )
        for name, field in self.fields.items():
            field.label = name
            if isinstance(field, forms.ChoiceField) and name != "locality":
                codes = ", ".join(str(value) for value, _ in field.choices if value != "")
                field.error_messages["invalid_choice"] = (
                    f"Unknown code '%(value)s': use one of {codes}."
                )
            if isinstance(field, DayMonthYearField):
                field.error_messages["invalid"] = "Enter a real date as YYYY-MM-DD (or DD/MM/YYYY)."
            if field.required and name not in ("locality",):
                field.error_messages["required"] = "This column needs a value."

    def rule_errors(self, data: dict[str, Any]) -> dict[str, list[Any]]:
        return {}  # the import's trial run applies the rules to every row, with the services

    def status_kwargs(self) -> dict[str, Any]:
        self.cleaned_data["status"] = status_value(
            self.cleaned_data.get("category") or "", self.cleaned_data.get("urgent_reason") or None
        )
        out = super().status_kwargs()
        out["category"] = self.cleaned_data.get("category")
        out["urgent_reason"] = self.cleaned_data.get("urgent_reason") or None
        return out


class LocalityNameForm(forms.Form):
    name = forms.CharField(
        label="Locality name",
        max_length=100,
        error_messages={"required": "Enter the locality's name."},
    )


class MovePeopleForm(forms.Form):
    """Move people on the register from one locality to another in one step."""

    to_locality = forms.ModelChoiceField(
        label="Move to",
        queryset=Locality.objects.none(),
        empty_label="Choose a locality",
        error_messages={"required": "Choose the locality to move people to."},
    )
    everyone = forms.BooleanField(label="Everyone on the register in this locality", required=False)
    people = forms.TypedMultipleChoiceField(
        label="Or choose people", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label="Why are they moving? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, targets: Any, people: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["to_locality"].queryset = targets
        self.fields["people"].choices = [
            (p.pk, f"{p.display_name} ({p.local_reference})") for p in people
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("everyone") and not data.get("people"):
            self.add_error("people", "Choose the people to move, or everyone.")
        return data

    def chosen(self) -> list[int] | None:
        """The ids chosen, or None for everyone."""
        return None if self.cleaned_data.get("everyone") else self.cleaned_data["people"]
