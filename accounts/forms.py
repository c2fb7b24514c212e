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
        self.fields["localities"].queryset = Locality.objects.filter(authority_id=authority_id)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLES, widget=forms.RadioSelect)


class GrantsForm(forms.Form):
    localities = LocalitiesField(
        label="Localities this person works in", queryset=Locality.objects.none(), required=False
    )

    def __init__(self, *args: Any, authority_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["localities"].queryset = Locality.objects.filter(authority_id=authority_id)


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
