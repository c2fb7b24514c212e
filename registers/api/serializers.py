"""Input and output shapes of the register's API. Field names and code values are domain.md's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import ISO_8601, SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from registers.codes import (
    Category,
    ChangeKind,
    DelayReason,
    HospitalType,
    LegalStatus,
    PlacementType,
    ReferralSource,
    RiskFactor,
    RiskRating,
    Sex,
    UrgentReason,
)
from registers.models import Locality, Person, Review, StatusChange
from registers.services import DETAIL_FIELDS, STATUS_FIELDS

from .strict import RejectUnknownFields

PERSON_FIELDS = [
    "id",
    "authority",
    "locality",
    *DETAIL_FIELDS,
    "in_transition",
    *STATUS_FIELDS,
    "date_added",
    "next_review_due",
    "date_left",
    "leaving_reason",
    "version",
    "created_at",
    "updated_at",
]
READ_ONLY = [
    "id",
    "authority",
    "in_transition",
    "date_left",
    "leaving_reason",
    "version",
    "created_at",
    "updated_at",
]


class LocalityField(serializers.PrimaryKeyRelatedField):
    """A locality of the caller's authority (by id); others are 'does not exist'."""

    def get_queryset(self) -> QuerySet[Locality]:
        client = self.context.get("api_client")
        if client is None:
            return Locality.objects.none()
        return Locality.objects.filter(authority_id=client.authority_id)

    def to_internal_value(self, data: Any) -> Locality:
        # A bulk request reads its authority's localities once for all its items.
        known = self.context.get("localities")
        if known is None:
            return super().to_internal_value(data)
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if pk not in known:
            self.fail("does_not_exist", pk_value=data)
        return known[pk]


class ReadFieldsOnce(serializers.Serializer):
    # A serializer mixin for output: DRF builds a model serializer's fields anew for every
    # instance (each model field mapped and every declared field deep-copied), which cost a
    # person's read more than everything else the serializer does. An instance that has not
    # built its own fields (for input) reads through fields built once per class: their output
    # needs nothing of the request (no context, no parent state), so they can be shared.
    _shared_readable_fields: ClassVar[dict[type, list[serializers.Field]]] = {}

    @property
    def _readable_fields(self) -> Iterable[serializers.Field]:
        if "fields" in self.__dict__:  # built for this instance (input, or changed)
            return super()._readable_fields
        cls = type(self)
        shared = ReadFieldsOnce._shared_readable_fields.get(cls)
        if shared is None:
            shared = [f for f in cls(context={}).fields.values() if not f.write_only]
            ReadFieldsOnce._shared_readable_fields[cls] = shared
        return shared

    # For each (serializer, model) pair, each readable field with the model attribute it reads
    # when that is a plain column (None for anything else: related objects, dotted sources), and
    # how to write that column's value.
    _shared_plans: ClassVar[dict[tuple[type, type], list[tuple[Any, str | None, Any]]]]
    _shared_plans = {}

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """As DRF's, reading a plain column's value directly: DRF's generic attribute lookup
        (callables, dictionaries, dotted paths) was half of a list of people's time in Python."""
        if "fields" in self.__dict__:
            return super().to_representation(instance)
        key = (type(self), type(instance))
        plan = ReadFieldsOnce._shared_plans.get(key)
        if plan is None:
            plan = []
            for field in self._readable_fields:
                column = _column(type(instance), field)
                write = _plain_writer(field) if column else None
                plan.append((field, column, write or field.to_representation))
            ReadFieldsOnce._shared_plans[key] = plan
        ret: dict[str, Any] = {}
        for field, column, write in plan:
            if column is None:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            else:
                attribute = check = getattr(instance, column)
            ret[field.field_name] = None if check is None else write(attribute)
        return ret


def _plain_writer(field: serializers.Field) -> Callable[[Any], Any] | None:
    """`field.to_representation` for the plain values a column holds, written out for the
    field types a person has most of (ten each of text, choices and dates): the generic one
    cost a list of 100 people about a millisecond. Any other value goes to the field's own."""
    kind = type(field)
    if kind is serializers.CharField:
        return str
    if kind is serializers.IntegerField:
        return int
    own = field.to_representation
    if kind is serializers.ChoiceField:
        choices = field.choice_strings_to_values

        def choice(value: Any) -> Any:
            if type(value) is str:  # not an enum member, whose str() may differ
                return choices.get(value, value) if value else value
            return own(value)

        return choice
    if kind is serializers.BooleanField:
        return lambda value: value if type(value) is bool else own(value)
    if kind is serializers.DateField:

        def day(value: Any) -> Any:
            iso = getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
            return value.isoformat() if iso and type(value) is dt.date else own(value)

        return day
    if kind is serializers.DateTimeField and not hasattr(field, "timezone"):

        def moment(value: Any) -> Any:
            # An aware time in the current time zone, as DRF's enforce_timezone gives it.
            if (
                type(value) is dt.datetime
                and settings.USE_TZ
                and value.utcoffset() is not None
                and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
            ):
                try:
                    text = value.astimezone(timezone.get_current_timezone()).isoformat()
                except OverflowError:
                    return own(value)
                return text[:-6] + "Z" if text.endswith("+00:00") else text
            return own(value)

        return moment
    return None


def _column(model: type, field: serializers.Field) -> str | None:
    """The model attribute `field` reads, if it is a plain column (read as DRF would: the value,
    never called), else None."""
    if len(field.source_attrs) != 1 or isinstance(
        field, serializers.RelatedField | serializers.SerializerMethodField
    ):
        return None
    attr = field.source_attrs[0]
    return attr if isinstance(getattr(model, attr, None), DeferredAttribute) else None


class PersonSerializer(ReadFieldsOnce, RejectUnknownFields, serializers.ModelSerializer):
    authority = serializers.CharField(
        source="authority.code", read_only=True, help_text="The authority's HSCP code."
    )
    locality = LocalityField(help_text="A locality id from /api/v1/localities/.")
    sex = serializers.ChoiceField(choices=Sex.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    urgent_reason = serializers.ChoiceField(
        choices=UrgentReason.choices, allow_null=True, required=False
    )
    risk_rating = serializers.ChoiceField(
        choices=RiskRating.choices, allow_null=True, required=False
    )
    risk_factors = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskFactor.choices), required=False
    )
    referral_source = serializers.ChoiceField(choices=ReferralSource.choices)
    hospital_type = serializers.ChoiceField(
        choices=HospitalType.choices, allow_null=True, required=False
    )
    legal_status = serializers.ChoiceField(
        choices=LegalStatus.choices, allow_null=True, required=False
    )
    delay_reason = serializers.ChoiceField(
        choices=DelayReason.choices, allow_null=True, required=False
    )
    placement_type = serializers.ChoiceField(
        choices=PlacementType.choices, allow_null=True, required=False
    )
    chi_number = serializers.CharField(
        max_length=10, allow_null=True, allow_blank=True, required=False
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why: recorded in the history when the person is added or their register "
        "status changes (required for a status change).",
    )
    effective_date = serializers.DateField(
        write_only=True,
        required=False,
        help_text="When a status change took effect (default today; not before the last change).",
    )
    confirm_chi_mismatch = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text="Set true to store a valid CHI number whose date of birth (DDMMYY) or sex digit "
        "disagrees with the recorded date of birth or sex; without it such a number is refused "
        "with a message saying what disagrees. A confirmed mismatch is listed in the return's "
        "data-quality warnings.",
    )

    class Meta:
        model = Person
        fields = [*PERSON_FIELDS, "reason", "effective_date", "confirm_chi_mismatch"]
        read_only_fields = READ_ONLY
        validators: list[Any] = []  # the services check uniqueness, with clear messages
        extra_kwargs = {"local_reference": {"validators": []}}


class _GivenFields:
    """A serializer's writable fields, built once, to check a body by running only the fields it
    gives, in the serializer's field order: what a partial serializer does when it has no
    serializer-level validation (`lean`), since it skips absent fields."""

    def __init__(self, serializer: serializers.Serializer) -> None:
        writable = list(serializer._writable_fields)
        self.known = frozenset(serializer.fields)
        self.writable = {field.field_name: field for field in writable}
        self.order = {field.field_name: position for position, field in enumerate(writable)}
        self.lean = (
            not serializer.validators
            and type(serializer).validate is serializers.Serializer.validate
            and all(len(field.source_attrs) == 1 for field in writable)
            and not any(hasattr(serializer, f"validate_{name}") for name in self.writable)
        )

    def given(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The validated data of `raw`'s given fields, or None if any has an error (the
        serializer then answers, with its own errors)."""
        given = sorted((self.order[name], name) for name in raw if name in self.writable)
        validated: dict[str, Any] = {}
        try:
            for _, name in given:
                field = self.writable[name]
                validated[field.source_attrs[0]] = field.run_validation(raw[name])
        except (serializers.ValidationError, DjangoValidationError, SkipField):
            return None
        return validated


class _PartialInput(_GivenFields):
    """Checks a partial update's body as `PersonSerializer(data=raw, partial=True).is_valid()`
    would, with fields built once per process instead of once per request (building them cost
    more than the rest of an update).

    A partial serializer skips absent fields, ignores read-only ones and has no serializer-level
    validators, so a body whose keys are all known is checked by running only its given fields'
    own validation, in the serializer's field order. Fields whose check depends on the request
    (the locality, which must be of the caller's authority), a body with an error, and anything
    else go through a serializer of the request's own, so errors are the serializer's
    (tests/registers/api/test_update_validation.py checks both ways agree on random bodies)."""

    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        serializer = serializer_class(context={}, partial=True)
        super().__init__(serializer)
        self.serializer_class = serializer_class
        self.contextual = frozenset(
            name
            for name, field in self.writable.items()
            if isinstance(field, serializers.RelatedField)
        )
        self.lean = self.lean and not serializer._read_only_defaults()

    def check(self, raw: Any, context: dict[str, Any]) -> dict[str, Any]:
        """The body's validated data; raises the serializer's ValidationError if it has errors."""
        if (
            self.lean
            and type(raw) is dict
            and raw.keys() <= self.known
            and not raw.keys() & self.contextual
            and (validated := self.given(raw)) is not None
        ):
            return validated
        serializer = self.serializer_class(data=raw, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


_partial_inputs: dict[type, _PartialInput] = {}


def validated_person_changes(raw: Any, context: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """A PUT or PATCH body checked as `PersonSerializer(data=raw, partial=partial)` checks it:
    its validated data, or the serializer's ValidationError."""
    if not partial:
        serializer = PersonSerializer(data=raw, context=context)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
    checker = _partial_inputs.get(PersonSerializer)
    if checker is None:
        checker = _partial_inputs[PersonSerializer] = _PartialInput(PersonSerializer)
    return checker.check(raw, context)


@extend_schema_serializer(component_name="PersonUpsert")
class PersonUpsertSerializer(PersonSerializer):
    """A person sent by reference: every field optional (required ones are checked when the
    person is new)."""

    local_reference = serializers.CharField(
        max_length=50,
        required=False,
        write_only=True,
        help_text="Optional: the reference in the address. If given, it must be the same.",
    )

    class Meta(PersonSerializer.Meta):
        extra_kwargs: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class BulkPersonSerializer(PersonSerializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version read, required to change a person who already exists.",
    )

    class Meta(PersonSerializer.Meta):
        read_only_fields = [f for f in READ_ONLY if f != "version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)
        self.fields["local_reference"].required = True


class _BulkItems(_GivenFields):
    """Checks bulk items as `BulkPersonSerializer(data=item, partial=True).is_valid()` would.

    A serializer builds its 40 fields when made (4 ms, 2 s for 500 items), and checks an item by
    visiting every field, given or not. Here one serializer is made for the whole request, and an
    item whose keys are all known is checked by running only its given fields' own validation, in
    the serializer's field order: what a partial serializer does, since it skips absent fields and
    has no serializer-level validators. Anything else, and any item with an error, goes through the
    serializer itself, so errors are the serializer's own (tests/registers/api/test_bulk_validation
    checks both ways agree on random items).
    """

    def __init__(self, context: dict[str, Any]) -> None:
        self.serializer = BulkPersonSerializer(data={}, context=context)
        super().__init__(self.serializer)

    def check(self, raw: Any) -> dict[str, Any]:
        """The item's validated data; raises the serializer's ValidationError if it has errors."""
        if (
            self.lean
            and type(raw) is dict
            and raw.keys() <= self.known
            and (validated := self.given(raw)) is not None
        ):
            return validated
        return dict(self.serializer.run_validation(raw))


def validate_bulk_items(
    raws: list[Any], context: dict[str, Any]
) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, Any]]:
    """Each item of a bulk request checked as `BulkPersonSerializer(data=item).is_valid()` would:
    the (index, validated data) of the valid ones and the errors of the others by index."""
    checker = _BulkItems(context)
    items: list[tuple[int, dict[str, Any]]] = []
    errors: dict[int, Any] = {}
    for index, raw in enumerate(raws):
        try:
            items.append((index, checker.check(raw)))
        except serializers.ValidationError as exc:
            errors[index] = exc.detail
    return items, errors


@extend_schema_field(BulkPersonSerializer(partial=True))
class BulkItemField(serializers.DictField):
    """Read as a plain object here: each item is checked on its own (BulkPersonSerializer), so the
    400 answer can list every failing item by index. Documented as a BulkPerson."""


class BulkRequestSerializer(RejectUnknownFields, serializers.Serializer):
    people = serializers.ListField(
        child=BulkItemField(),
        min_length=1,
        max_length=500,
        help_text="Up to 500 people, keyed by local_reference: new ones are added, existing ones "
        "(with their version) updated. All or nothing.",
    )


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    local_reference = serializers.CharField()
    created = serializers.BooleanField()
    version = serializers.IntegerField()


class BulkResultSerializer(serializers.Serializer):
    results = BulkItemResultSerializer(many=True)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A code the history stores as "" when there was none (a new person's old category, no
    urgent reason or risk rating): answered as null, as a person's own fields are."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class StatusChangeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices, read_only=True)
    old_category = BlankAsNullChoiceField(choices=Category.choices)
    new_category = serializers.ChoiceField(choices=Category.choices, read_only=True)
    old_urgent_reason = BlankAsNullChoiceField(choices=UrgentReason.choices)
    new_urgent_reason = BlankAsNullChoiceField(choices=UrgentReason.choices)
    old_risk_rating = BlankAsNullChoiceField(choices=RiskRating.choices)
    new_risk_rating = BlankAsNullChoiceField(choices=RiskRating.choices)
    risk_factors = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskFactor.choices), read_only=True
    )
    changed_by = serializers.SerializerMethodField()

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "person",
            "kind",
            "changed_by",
            "changed_at",
            "effective_date",
            "old_category",
            "new_category",
            "old_urgent_reason",
            "new_urgent_reason",
            "old_risk_rating",
            "new_risk_rating",
            "risk_factors",
            "reason",
            "changes",
            "version",
        ]
        read_only_fields = fields

    def get_changed_by(self, change: StatusChange) -> str:
        return str(change.changed_by) if change.changed_by_id else "system"


class StatusChangeCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """A new register status. Hospital and placement fields not given keep their values."""

    category = serializers.ChoiceField(choices=Category.choices)
    urgent_reason = serializers.ChoiceField(
        choices=UrgentReason.choices, allow_null=True, required=False
    )
    risk_rating = serializers.ChoiceField(
        choices=RiskRating.choices, allow_null=True, required=False
    )
    risk_factors = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskFactor.choices), required=False
    )
    reason = serializers.CharField(max_length=2000)
    effective_date = serializers.DateField(required=False)
    hospital_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hospital_type = serializers.ChoiceField(
        choices=HospitalType.choices, allow_null=True, required=False
    )
    hospital_in_area = serializers.BooleanField(allow_null=True, required=False)
    admission_date = serializers.DateField(allow_null=True, required=False)
    legal_status = serializers.ChoiceField(
        choices=LegalStatus.choices, allow_null=True, required=False
    )
    ready_for_discharge_date = serializers.DateField(allow_null=True, required=False)
    delay_reason = serializers.ChoiceField(
        choices=DelayReason.choices, allow_null=True, required=False
    )
    host_area = serializers.CharField(max_length=20, allow_null=True, required=False)
    placement_type = serializers.ChoiceField(
        choices=PlacementType.choices, allow_null=True, required=False
    )
    placement_start_date = serializers.DateField(allow_null=True, required=False)
    placement_chosen = serializers.BooleanField(allow_null=True, required=False)
    planned_return_date = serializers.DateField(allow_null=True, required=False)


class ReviewSerializer(RejectUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = [
            "id",
            "person",
            "review_date",
            "attendees",
            "outcome",
            "actions",
            "next_review_due",
            "recorded_at",
        ]
        read_only_fields = ["id", "person", "recorded_at"]
        extra_kwargs = {"next_review_due": {"required": False}}


class LocalitySerializer(serializers.ModelSerializer):
    retired = serializers.SerializerMethodField(
        help_text="A retired locality keeps its history but cannot be chosen for people."
    )

    class Meta:
        model = Locality
        fields = ["id", "name", "retired"]

    def get_retired(self, locality: Locality) -> bool:
        return locality.retired_at is not None


class CodeSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class CodesSerializer(serializers.Serializer):
    sex = CodeSerializer(many=True)
    category = CodeSerializer(many=True)
    urgent_reason = CodeSerializer(many=True)
    risk_rating = CodeSerializer(many=True)
    risk_factors = CodeSerializer(many=True)
    referral_source = CodeSerializer(many=True)
    hospital_type = CodeSerializer(many=True)
    legal_status = CodeSerializer(many=True)
    delay_reason = CodeSerializer(many=True)
    host_area = CodeSerializer(
        many=True, help_text="Other authorities' HSCP codes and the places outside Scotland."
    )
    placement_type = CodeSerializer(many=True)
    leaving_reason = CodeSerializer(many=True)
    change_kind = CodeSerializer(many=True)
