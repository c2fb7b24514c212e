from __future__ import annotations

from typing import Any

from django import forms

from registers.models import Locality

from .models import Membership, Role

STAFF_ROLES = [
    (Role.PRACTITIONER.value, "Practitioner: reads and updates people in their localities"),
    (Role.VIEWER.value, "Viewer: reads people in their localities"),
]


class LocalitiesField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Locality) -> str:
        return obj.name


class AddStaffForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter the person's email address.",
            "invalid": "Enter an email address like name@example.scot.",
        },
    )
    first_name = forms.CharField(label="First name (optional)", required=False, max_length=150)
    last_name = forms.CharField(label="Last name (optional)", required=False, max_length=150)
    role = forms.ChoiceField(
        label="Role",
        choices=STAFF_ROLES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose practitioner or viewer."},
    )
    localities = LocalitiesField(
        label="Localities", queryset=Locality.objects.none(), required=False
    )

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["localities"].queryset = Locality.objects.active().filter(
            authority_id=authority_id
        )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLES, widget=forms.RadioSelect)


class GrantsForm(forms.Form):
    localities = LocalitiesField(
        label="Localities this person works in", queryset=Locality.objects.none(), required=False
    )

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["localities"].queryset = Locality.objects.active().filter(
            authority_id=authority_id
        )


class HandOverForm(forms.Form):
    to_membership = forms.ModelChoiceField(
        label="New named lead",
        queryset=Membership.objects.none(),
        empty_label="Choose a member of staff",
        error_messages={"required": "Choose who will become the named lead."},
    )
    confirm = forms.BooleanField(
        label="I understand I will stop being the lead and become a practitioner",
        error_messages={"required": "Confirm that you are handing over the lead role."},
    )

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["to_membership"]
        field.queryset = (
            Membership.objects.filter(authority_id=authority_id)
            .exclude(role=Role.LEAD)
            .select_related("user")
        )
        field.label_from_instance = lambda m: f"{m.user} ({m.user.email})"


class CodeForm(forms.Form):
    """The 6-digit code from an authenticator app."""

    code = forms.RegexField(
        label="Code from your authenticator app",
        help_text="The 6 digits your app shows now, for example 123456.",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "invalid": "Enter the code as 6 digits, for example 123456.",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label="Name of the system",
        help_text="For example the case-management system's name. It labels every change the "
        "system makes in the history and the audit trail.",
        max_length=100,
        error_messages={"required": "Name the system that will use this client."},
    )
    scopes = forms.MultipleChoiceField(
        label="What it may do",
        choices=[
            ("read", "Read people, their history and reviews, localities and returns"),
            ("write", "Add and change people, record status changes and reviews"),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose read, or read and write."},
    )


class NationalAnalystForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter their email address.",
            "invalid": "Enter an email address like name@example.scot.",
        },
    )
    first_name = forms.CharField(label="First name (optional)", required=False, max_length=150)
    last_name = forms.CharField(label="Last name (optional)", required=False, max_length=150)


class ForgottenPasswordForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=200,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.scot.",
        },
    )


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password."},
    )

    def __init__(self, user: Any, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class EmailDigestsForm(forms.Form):
    email_digests = forms.BooleanField(
        label="Email me a weekly summary of reviews overdue and due soon in my localities",
        required=False,
    )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Address",
        help_text="Where the service sends a notice after your people change, for example "
        "https://cms.example.org/dsr/webhook. It must start with https://.",
        max_length=500,
        error_messages={"required": "Give the address that should receive the notices."},
    )
