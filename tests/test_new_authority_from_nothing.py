"""A new authority set up from nothing through its pages alone: the first lead appointed by the
`appoint_lead` command sets a password from the emailed invitation and an authenticator app,
creates the localities, invites a practitioner who signs in, and the practitioner adds a person."""

import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from registers.models import AuditEvent, Locality, Person
from tests.factories import AuthorityFactory

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def link_in(message) -> str:
    line = next(line for line in message.body.splitlines() if "/password/set/" in line)
    return line.strip().removeprefix(SITE)


def set_password(client: Client, message, password: str) -> None:
    form = client.get(link_in(message), follow=True)
    assert "Set your password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302, done.content.decode()


def sign_in(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_new_authority_is_set_up_from_nothing_through_its_pages(
    mailoutbox, django_capture_on_commit_callbacks
):
    authority = AuthorityFactory(code="S37000019", name="Moray")
    assert not Locality.objects.filter(authority=authority).exists()

    # The first lead: appointed by the command, invited by email.
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "appoint_lead", authority="S37000019", email="first.lead@moray.scot", create=True
        )
    lead = Client()
    set_password(lead, mailoutbox[-1], "granite harbour lantern")
    to_second_factor = sign_in(lead, "first.lead@moray.scot", "granite harbour lantern")
    assert to_second_factor.status_code == 302
    setup = lead.get("/register/localities/", follow=True)
    assert "/accounts/second-factor/set-up/" in setup.redirect_chain[-1][0]
    device = TOTPDevice.objects.get(user__email="first.lead@moray.scot", confirmed=False)
    confirmed = lead.post(
        "/accounts/second-factor/set-up/", {"code": current_code(device), "next": "/register/"}
    )
    assert confirmed.status_code == 302

    # Localities.
    for name in ("Buckie", "Elgin", "Forres"):
        assert lead.post("/register/localities/", {"name": name}).status_code == 302
    page = lead.get("/register/localities/").content.decode()
    assert all(name in page for name in ("Buckie", "Elgin", "Forres"))
    elgin = Locality.objects.get(authority=authority, name="Elgin")

    # Staff: a practitioner invited by the lead, who sets a password and signs in.
    with django_capture_on_commit_callbacks(execute=True):
        added = lead.post(
            "/staff/add/",
            {"email": "worker@moray.scot", "role": "practitioner", "localities": [elgin.pk]},
        )
    assert added.status_code == 302
    assert "Sent" in lead.get("/staff/").content.decode()
    practitioner = Client()
    set_password(practitioner, mailoutbox[-1], "seaweed compass meadow")
    assert sign_in(practitioner, "worker@moray.scot", "seaweed compass meadow").status_code == 302
    assert "Accepted" in lead.get("/staff/").content.decode()

    # A person added by the practitioner.
    added = practitioner.post(
        "/register/add/",
        {
            "given_name": "Callum",
            "family_name": "Reid",
            "date_of_birth": "02/02/1985",
            "sex": "male",
            "local_reference": "MOR-0001",
            "referral_source": "health",
            "locality": elgin.pk,
            "status": "enhanced_monitoring",
            "risk_rating": "amber",
        },
    )
    assert added.status_code == 302, added.content.decode()
    person = Person.objects.get(authority=authority)
    assert person.locality == elgin
    assert "MOR-0001" in practitioner.get("/register/").content.decode()
    assert AuditEvent.objects.filter(action="locality.created", authority=authority).count() == 3
