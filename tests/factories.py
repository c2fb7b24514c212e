"""Shared test data. Rows are written under the system scope that tests/conftest.py sets."""

import datetime as dt
import itertools

import factory
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Membership, Role, User
from registers import services
from registers.codes import (
    Category,
    HospitalType,
    LegalStatus,
    PlacementType,
    RiskRating,
    UrgentReason,
)
from registers.models import IntegrationAuthority, Locality, Person, StatusChange
from registers.validation import make_chi
from tests.registers.importing import chi_for

_serials = itertools.count(1)


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationAuthority
        django_get_or_create = ("code",)

    code = "S37000006"
    name = "Dumfries and Galloway"


class LocalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Locality

    authority = factory.SubFactory(AuthorityFactory)
    name = factory.Sequence(lambda n: f"Locality {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.scot")
    username = factory.SelfAttribute("email")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.django.Password("correct-horse-battery-9")


def _chi(person: Person) -> str:
    while True:
        chi = make_chi(person.date_of_birth, person.sex, next(_serials))
        if chi:
            return chi


class PersonFactory(factory.django.DjangoModelFactory):
    """Someone on enhanced monitoring, rated green; traits give the other categories."""

    class Meta:
        model = Person

    locality = factory.SubFactory(LocalityFactory)
    authority = factory.SelfAttribute("locality.authority")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = dt.date(1990, 5, 17)
    sex = "female"
    chi_number = factory.LazyAttribute(_chi)
    local_reference = factory.Sequence(lambda n: f"REF{n:05d}")
    category = Category.ENHANCED_MONITORING
    risk_rating = RiskRating.GREEN
    referral_source = "social_work"
    date_added = dt.date(2024, 1, 10)
    next_review_due = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))

    class Params:
        in_hospital = factory.Trait(
            category=Category.URGENT,
            urgent_reason=UrgentReason.IN_HOSPITAL,
            risk_rating=None,
            hospital_name="Leverndale",
            hospital_type=HospitalType.LD_INPATIENT,
            hospital_in_area=True,
            admission_date=dt.date(2024, 2, 1),
            legal_status=LegalStatus.INFORMAL,
        )
        at_risk = factory.Trait(
            category=Category.URGENT,
            urgent_reason=UrgentReason.AT_RISK_OF_BREAKDOWN,
            risk_rating=RiskRating.RED,
        )
        inappropriate_out_of_area = factory.Trait(
            category=Category.URGENT,
            urgent_reason=UrgentReason.INAPPROPRIATE_OUT_OF_AREA,
            host_area="england",
            placement_type=PlacementType.CARE_HOME,
            placement_start_date=dt.date(2023, 6, 1),
            placement_chosen=False,
        )
        appropriate_out_of_area = factory.Trait(
            category=Category.APPROPRIATE_OUT_OF_AREA,
            host_area="S37000012",
            placement_type=PlacementType.SUPPORTED_LIVING,
            placement_start_date=dt.date(2023, 6, 1),
            placement_chosen=True,
        )


def make_member(authority: IntegrationAuthority, role: str, localities=(), **user_fields) -> User:
    """A user with a role in `authority`, granted `localities` as that role allows."""
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, authority=authority, role=role)
    if role == Role.LEAD:
        assign_perm("registers.lead_authority", user, authority)
    for locality in localities:
        assign_perm("registers.view_people_in_locality", user, locality)
        if role == Role.PRACTITIONER:
            assign_perm("registers.change_people_in_locality", user, locality)
    return user


def pass_second_factor(client, user: User) -> None:
    """Mark `client`'s session as verified by the user's authenticator app, as the second-factor
    page does, when the user's role needs one (a confirmed TOTP device is made if missing)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import mfa
    from registers import access

    required = mfa.mfa_required(user)
    access.forget_scope(user)
    if not required:
        return
    device = mfa.confirmed_device(user) or TOTPDevice.objects.create(
        user=user, name=mfa.DEVICE_NAME, confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[mfa.FINGERPRINT_SESSION_KEY] = mfa.fingerprint(device)
    session[mfa.HAS_DEVICE_SESSION_KEY] = True
    session.save()
    mfa.remember(device)


# Someone who left the register long ago, with a history: data protection's subject.
BORN = dt.date(1980, 3, 21)


def long_gone(lead, nithsdale, *, left: dt.date = dt.date(2017, 6, 30), ref: str = "OLD-1"):
    """Someone added in 2015, reviewed and re-rated in 2016, who left on `left`."""
    person = services.add_person(
        lead,
        locality=nithsdale,
        reason="Referred by Dr Fiona Watt after a crisis at home",
        date_added=dt.date(2015, 3, 2),
        given_name="Catriona",
        family_name="MacLeod",
        preferred_name="Cat",
        date_of_birth=BORN,
        sex="female",
        chi_number=chi_for(BORN, "female", ref),
        local_reference=ref,
        key_worker_name="Ewan Bell",
        key_worker_contact="01387 000000",
        referral_source="health",
        category="enhanced_monitoring",
        risk_rating="amber",
    )
    person = services.record_status_change(
        lead,
        person,
        version=person.version,
        category="urgent",
        urgent_reason="at_risk_of_breakdown",
        risk_rating="red",
        reason="Mother Janet MacLeod can no longer care at home",
        effective_date=dt.date(2016, 2, 1),
    ).person
    services.record_review(
        lead,
        person,
        version=person.version,
        review_date=dt.date(2016, 3, 1),
        attendees="Catriona, Janet MacLeod, Ewan Bell",
        outcome="Catriona wants to stay in Dumfries",
        actions="Ewan to call the housing team",
    )
    person.refresh_from_db()
    # An earlier correction of her name, as the history records it.
    StatusChange.objects.create(
        authority_id=person.authority_id,
        person=person,
        kind="details",
        effective_date=dt.date(2016, 3, 2),
        new_category=person.category,
        changes={"family_name": ["McLeod", "MacLeod"], "risk_rating": ["amber", "red"]},
        state=person.register_state(),
        version=person.version,
    )
    return services.remove_from_register(
        lead, person, version=person.version, date_left=left, leaving_reason="settled_in_community"
    )


def added_through_services(lead, locality, *, local_reference: str, **overrides) -> Person:
    """A person added as the browser's add-person page adds one (registers.services.add_person),
    so every trigger, history entry and announcement of a real addition happens."""
    fields = {
        "reason": "Referred",
        "given_name": "Ishbel",
        "family_name": "Drummond",
        "date_of_birth": dt.date(1984, 7, 9),
        "sex": "female",
        "referral_source": "health",
        "category": "enhanced_monitoring",
        "risk_rating": "amber",
        **overrides,
    }
    return services.add_person(lead, locality=locality, local_reference=local_reference, **fields)
