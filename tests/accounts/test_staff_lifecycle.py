"""The staff lifecycle: invitation status (sent, accepted, expired) and resend, last sign-in,
deactivate (keeps history) as well as remove, and the lead's reset of a member's second factor;
the same for national analysts by the national team's administrators."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa, services
from accounts.models import Membership, User
from registers import access
from registers.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"  # tests.factories.UserFactory's


@pytest.fixture
def invited(lead, authority, nithsdale, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.add_staff_member(
            lead,
            authority,
            email="new@dg.example.scot",
            role="practitioner",
            localities=[nithsdale],
        )


@pytest.fixture
def staff(practitioner, authority):
    return Membership.objects.get(user=practitioner, authority=authority)


@pytest.fixture
def administrator():
    return UserFactory(
        email="admin@phs.example.scot", is_national_analyst=True, is_national_administrator=True
    )


# Invitations -------------------------------------------------------------------------------------


def test_a_new_member_is_invited_and_their_invitation_reads_sent(invited, mailoutbox):
    assert services.invitation_status(invited.user) == "sent"
    [message] = mailoutbox
    assert message.to == ["new@dg.example.scot"]
    assert "http://127.0.0.1:8000/accounts/password/set/" in message.body


def test_an_invitation_older_than_the_link_lasts_reads_expired(invited, settings):
    User.objects.filter(pk=invited.user_id).update(
        invited_at=timezone.now() - dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    )
    invited.user.refresh_from_db()
    assert services.invitation_status(invited.user) == "expired"


def test_setting_the_password_from_the_link_accepts_the_invitation(client, invited, mailoutbox):
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/set/" in line)
    path = link.removeprefix("http://127.0.0.1:8000")
    form = client.get(path, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "kettle orbit marram", "new_password2": "kettle orbit marram"},
    )
    assert response.status_code == 302
    invited.user.refresh_from_db()
    assert services.invitation_status(invited.user) == "accepted"
    assert AuditEvent.objects.filter(action="password.set", actor=invited.user).exists()


def test_the_lead_resends_an_invitation_with_a_new_link_and_it_is_audited(
    client, lead, invited, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/{invited.pk}/resend/")
    assert response.status_code == 302
    assert len(mailoutbox) == 2
    assert AuditEvent.objects.filter(action="staff.invitation_resent", actor=lead).exists()


def test_an_accepted_invitation_is_not_resent(lead, staff):
    with pytest.raises(ValidationError):
        services.resend_invitation(lead, staff)


def test_the_staff_list_shows_invitation_and_last_sign_in(client, lead, invited, staff):
    User.objects.filter(pk=staff.user_id).update(
        last_login=timezone.make_aware(dt.datetime(2026, 3, 2, 9, 15))
    )
    client.force_login(lead)
    page = client.get("/staff/").content.decode()
    assert "Sent" in page and "Accepted" in page
    assert "2 Mar 2026, 09:15" in page
    assert "Never" in page


def test_the_staff_list_runs_a_constant_number_of_queries(
    client, lead, authority, nithsdale, django_assert_max_num_queries
):
    client.force_login(lead)
    client.get("/staff/")
    with django_assert_max_num_queries(30) as few:
        client.get("/staff/")
    for i in range(15):
        services.add_staff_member(lead, authority, email=f"s{i}@x.scot", role="viewer")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/staff/")


# Deactivate and remove ---------------------------------------------------------------------------


def test_a_deactivated_member_keeps_their_row_and_history_but_sees_nothing(
    client, lead, staff, practitioner, person
):
    client.force_login(practitioner)
    assert client.get(f"/register/people/{person.pk}/").status_code == 200
    services.deactivate_staff_member(lead, staff)
    access.forget_scope(practitioner)
    assert client.get(f"/register/people/{person.pk}/").status_code == 404
    assert Membership.objects.filter(pk=staff.pk).exists()
    assert AuditEvent.objects.filter(action="staff.deactivated").exists()
    assert not access.visible_people(User.objects.get(pk=practitioner.pk)).exists()
    services.reactivate_staff_member(lead, staff)
    assert access.visible_people(User.objects.get(pk=practitioner.pk)).exists()


def test_deactivating_from_the_member_page(client, lead, staff):
    client.force_login(lead)
    client.post(f"/staff/{staff.pk}/deactivate/")
    staff.refresh_from_db()
    assert staff.deactivated_at is not None
    assert "Deactivated" in client.get("/staff/").content.decode()


def test_the_lead_cannot_be_deactivated_and_staff_cannot_deactivate(
    lead, staff, practitioner, authority
):
    own = Membership.objects.get(user=lead, authority=authority)
    with pytest.raises(ValidationError):
        services.deactivate_staff_member(lead, own)
    with pytest.raises(PermissionDenied):
        services.deactivate_staff_member(practitioner, staff)


def test_an_unknown_staff_action_is_not_found(client, lead, staff):
    client.force_login(lead)
    assert client.post(f"/staff/{staff.pk}/promote/").status_code == 404


# Second factor reset -----------------------------------------------------------------------------


def test_the_lead_resets_a_members_second_factor_who_is_told_and_must_set_up_again(
    client, lead, staff, practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    TOTPDevice.objects.create(user=practitioner, name=mfa.DEVICE_NAME, confirmed=True)
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/{staff.pk}/reset-second-factor/")
    assert not TOTPDevice.objects.filter(user=practitioner).exists()
    [message] = mailoutbox
    assert message.to == [practitioner.email]
    assert "set up an authenticator app again" in message.body
    assert AuditEvent.objects.filter(action="mfa.removed", actor=lead).exists()
    # A practitioner need not use a second factor, but after a reset must set one up.
    member = Client()
    member.sign_in_with_password_only(User.objects.get(pk=practitioner.pk))
    assert member.get("/register/")["Location"].startswith("/accounts/second-factor/set-up/")


def test_another_authoritys_lead_cannot_reset_a_members_second_factor(other_lead, staff):
    with pytest.raises(Http404):
        services.reset_member_second_factor(other_lead, staff)


# National analysts -------------------------------------------------------------------------------


def test_a_national_administrator_invites_and_manages_analysts(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/national/", {"email": "Analyst2@PHS.example.scot"})
    assert response.status_code == 302
    analyst = User.objects.get(email="analyst2@phs.example.scot")
    assert analyst.is_national_analyst
    assert "Sent" in client.get("/staff/national/").content.decode()
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/national/{analyst.pk}/resend/")
    assert len(mailoutbox) == 2
    client.post(f"/staff/national/{analyst.pk}/deactivate/")
    analyst.refresh_from_db()
    assert not analyst.is_active
    client.post(f"/staff/national/{analyst.pk}/reactivate/")
    assert "Are you sure" in client.post(f"/staff/national/{analyst.pk}/remove/").content.decode()
    analyst.refresh_from_db()
    assert analyst.is_national_analyst
    client.post(f"/staff/national/{analyst.pk}/remove/", {"confirmed": "yes"})
    analyst.refresh_from_db()
    assert analyst.is_active and not analyst.is_national_analyst
    actions = set(AuditEvent.objects.filter(actor=administrator).values_list("action", flat=True))
    assert {
        "national.analyst_added",
        "national.invitation_resent",
        "national.analyst_deactivated",
        "national.analyst_reactivated",
        "national.analyst_removed",
    } <= actions


def test_a_national_administrator_resets_an_analysts_second_factor(
    administrator, analyst, mailoutbox, django_capture_on_commit_callbacks
):
    TOTPDevice.objects.create(user=analyst, name=mfa.DEVICE_NAME, confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.reset_national_analyst_second_factor(administrator, analyst)
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    assert mailoutbox[0].to == [analyst.email]


@pytest.mark.parametrize("who", ["analyst", "lead"])
def test_only_national_administrators_manage_analysts(request, client, who, analyst):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/staff/national/").status_code == 404
    assert client.post(f"/staff/national/{analyst.pk}/deactivate/").status_code == 404
    with pytest.raises(Http404):
        services.deactivate_national_analyst(user, analyst)
    analyst.refresh_from_db()
    assert analyst.is_active
