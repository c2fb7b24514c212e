"""Reminders by email, delivered through a real SMTP server that the test starts and read back:
practitioners' weekly digests, leads' notices (return due, overdue, sent back, transfer waiting),
national analysts' notices (return submitted); each sent once however often the schedule runs,
audited, carrying no personal data; and the same items on the pages as "Needs attention"."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import User
from registers import reminders
from registers.models import AuditEvent, Person, SentReminder, Transfer
from reporting.models import AuthorityReturn
from tests import smtp
from tests.factories import LocalityFactory, PersonFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db

# A Monday, three days before the deadline of the 25 September 2025 census (23 October) and after
# that of 26 June 2025 (24 July).
TODAY = dt.date(2025, 10, 20)


@pytest.fixture
def inbox(settings, free_tcp_port):
    controller, received = smtp.start(free_tcp_port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_tcp_port
    settings.EMAIL_USE_TLS = False
    yield received
    controller.stop()


@pytest.fixture
def register(nithsdale, stewartry):
    """Reviews in Nithsdale: one overdue, two due within 14 days, one later; one overdue in
    Stewartry. Distinctive identities, to be looked for in every email."""
    due = [
        TODAY - dt.timedelta(days=3),
        TODAY + dt.timedelta(days=2),
        TODAY + dt.timedelta(days=14),
    ]
    people = [
        PersonFactory(
            locality=nithsdale,
            given_name=f"Zebedee{i}",
            family_name=f"Quartermaine{i}",
            local_reference=f"SECRET-REF-{i}",
            next_review_due=when,
        )
        for i, when in enumerate(due)
    ]
    people.append(PersonFactory(locality=nithsdale, next_review_due=TODAY + dt.timedelta(days=40)))
    people.append(PersonFactory(locality=stewartry, next_review_due=TODAY - dt.timedelta(days=1)))
    return people


@pytest.fixture
def returns_and_transfers(authority, other_authority, leith, lead, other_lead):
    """For the lead of Dumfries and Galloway: the June return sent back, the September one not
    built (due in three days), and a transfer from Edinburgh waiting. Edinburgh's September
    return submitted (for the national analysts)."""
    from registers import services

    AuthorityReturn.objects.create(
        authority=authority,
        census_date=dt.date(2025, 6, 26),
        status="returned",
        submitted_at=timezone.now(),
        decided_at=timezone.now(),
        comment="Check the hospital stays",
    )
    AuthorityReturn.objects.create(
        authority=other_authority,
        census_date=dt.date(2025, 9, 25),
        status="submitted",
        submitted_at=timezone.now(),
    )
    moving = PersonFactory(locality=leith, given_name="Xanthippe", family_name="Oddfellow")
    services.request_transfer(
        other_lead, moving, version=moving.version, to_authority=authority, reason="Moving home"
    )


def test_a_practitioner_gets_a_weekly_digest_of_reviews_in_their_localities(
    inbox, practitioner, register
):
    assert reminders.send_weekly_digests(today=TODAY) == 1
    [message] = inbox.to(practitioner.email)
    body = smtp.Inbox.body(message)
    assert message["Subject"] == "Reviews due this week: Dumfries and Galloway"
    assert "overdue: 1" in body
    assert "due in the next 14 days: 2" in body
    assert "http://127.0.0.1:8000/register/reviews/" in body
    assert AuditEvent.objects.filter(action="reminder.weekly_digest").count() == 1


def test_running_the_schedule_twice_sends_nothing_twice(
    inbox, practitioner, lead, analyst, register, returns_and_transfers
):
    first = reminders.send_weekly_digests(today=TODAY) + reminders.send_notices(today=TODAY)
    assert first == len(inbox.messages) > 3
    again = reminders.send_weekly_digests(today=TODAY) + reminders.send_notices(today=TODAY)
    assert again == 0
    assert len(inbox.messages) == first
    assert SentReminder.objects.count() == first
    # Next week's digest is a new one.
    assert reminders.send_weekly_digests(today=TODAY + dt.timedelta(days=7)) == 1


def test_a_failed_send_is_not_recorded_and_goes_next_time(
    settings, practitioner, register, free_tcp_port
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_tcp_port  # nothing listening
    assert reminders.send_weekly_digests(today=TODAY) == 0
    assert not SentReminder.objects.exists()
    controller, inbox = smtp.start(free_tcp_port)
    try:
        assert reminders.send_weekly_digests(today=TODAY) == 1
        assert len(inbox.to(practitioner.email)) == 1
    finally:
        controller.stop()


def test_digests_can_be_turned_off_but_notices_still_go(
    inbox, client, practitioner, lead, register, returns_and_transfers
):
    client.force_login(practitioner)
    assert client.post("/account/", {}).status_code == 302  # the box unticked
    assert User.objects.get(pk=practitioner.pk).email_digests is False
    assert AuditEvent.objects.filter(action="account.email_digests", actor=practitioner).exists()
    User.objects.filter(pk=lead.pk).update(email_digests=False)
    assert reminders.send_weekly_digests(today=TODAY) == 0
    reminders.send_notices(today=TODAY)
    assert inbox.to(lead.email)


def test_the_lead_is_told_of_returns_due_overdue_sent_back_and_transfers_waiting(
    inbox, lead, returns_and_transfers
):
    reminders.send_notices(today=TODAY)
    subjects = sorted(m["Subject"] for m in inbox.to(lead.email))
    assert subjects == [
        "A transfer is waiting for your decision: Dumfries and Galloway",
        "Census return due on 23 October 2025: Dumfries and Galloway",
        "Census return overdue: Dumfries and Galloway",
        "Census return sent back: Dumfries and Galloway",
    ]
    transfer = Transfer.objects.get()
    [waiting] = [m for m in inbox.to(lead.email) if "transfer" in m["Subject"]]
    assert f"/register/transfers/{transfer.pk}/" in smtp.Inbox.body(waiting)
    assert "Edinburgh has asked to transfer someone" in smtp.Inbox.body(waiting)


def test_a_submitted_return_is_not_chased(inbox, authority, lead):
    AuthorityReturn.objects.create(
        authority=authority,
        census_date=dt.date(2025, 9, 25),
        status="submitted",
        submitted_at=timezone.now(),
    )
    reminders.send_notices(today=TODAY)
    subjects = [m["Subject"] for m in inbox.to(lead.email)]
    assert not any("due on" in s for s in subjects)


def test_national_analysts_are_told_of_each_return_submitted(inbox, analyst, returns_and_transfers):
    other = UserFactory(email="second.analyst@phs.example.scot", is_national_analyst=True)
    reminders.send_notices(today=TODAY)
    for person in (analyst, other):
        [message] = inbox.to(person.email)
        assert message["Subject"] == "Census return submitted: Edinburgh"
        assert "/reporting/national/2025-09-25/" in smtp.Inbox.body(message)


def test_deactivated_staff_get_no_reminders(inbox, practitioner, authority, register):
    from accounts.models import Membership

    Membership.objects.filter(user=practitioner, authority=authority).update(
        deactivated_at=timezone.now()
    )
    assert reminders.send_weekly_digests(today=TODAY) == 0


def test_no_email_carries_personal_data(
    inbox, practitioner, lead, analyst, register, returns_and_transfers
):
    from reporting.census import latest_census_date
    from reporting.services import send_return_reminder

    reminders.send_weekly_digests(today=TODAY)
    reminders.send_notices(today=TODAY)
    send_return_reminder(  # the one the national analyst asks for
        authority_id=lead.memberships.get().authority_id,
        census_date=latest_census_date(TODAY),
        today=TODAY,
    )
    sent_kinds = set(SentReminder.objects.values_list("kind", flat=True))
    assert sent_kinds == set(reminders.TEMPLATES)  # every reminder template was sent
    identifiers = []
    for person in Person.objects.all():
        identifiers += [
            person.given_name,
            person.family_name,
            person.local_reference,
            person.chi_number or "",
            person.date_of_birth.strftime("%d/%m/%Y"),
            person.date_of_birth.isoformat(),
            f"{person.date_of_birth:%-d %B %Y}",
        ]
    identifiers += ["Moving home", "Check the hospital stays"]  # free text about a person
    for message in inbox.messages:
        text = message["Subject"] + "\n" + smtp.Inbox.body(message)
        for value in filter(None, identifiers):
            assert value not in text, (value, message["Subject"])


# Every email template: the only values it can show are counts, dates, names of authorities and of
# the team, links; it must be sent by the code.
ALLOWED_VARIABLES = {
    "authority",
    "census_date",
    "days",
    "deadline",
    "due",
    "from_authority",
    "link",
    "overdue",
    "reset_by",  # the lead or administrator who reset an account (staff, not a person recorded)
    "site_url",
    "team",
    "valid_days",
}
SENT_ELSEWHERE = {"invitation", "second_factor_reset", "password_reset", "password_changed"}


def email_templates() -> list[Path]:
    folder = Path(django_settings.BASE_DIR) / "templates" / "emails"
    return sorted(folder.glob("*.txt"))


@pytest.mark.parametrize("path", email_templates(), ids=lambda p: p.stem)
def test_every_email_template_shows_only_counts_dates_authorities_and_links(path):
    text = path.read_text()
    used = set(re.findall(r"{{\s*([a-z_]+)", text)) | set(
        re.findall(r"{%\s*(?:if|for)\s+([a-z_]+)", text)
    )
    assert used <= ALLOWED_VARIABLES, used - ALLOWED_VARIABLES
    assert path.stem in {*reminders.TEMPLATES.values(), *SENT_ELSEWHERE}


def test_every_template_the_code_sends_exists():
    names = {p.stem for p in email_templates()}
    assert {*reminders.TEMPLATES.values(), *SENT_ELSEWHERE} == names


# Needs attention ---------------------------------------------------------------------------------


def attention(client, **headers):
    return client.get("/register/attention/", **headers).content.decode()


@pytest.mark.parametrize("page", ["/register/dashboard/", "/register/"])
def test_the_leads_pages_load_what_needs_attention(client, lead, authority, page):
    LocalityFactory(authority=authority)
    client.force_login(lead)
    body = client.get(page).content.decode()
    assert 'hx-get="/register/attention/"' in body
    assert 'href="/register/attention/"' in body  # without JavaScript, a link


def test_the_lead_is_shown_what_needs_attention(
    client, lead, register, returns_and_transfers, monkeypatch
):
    monkeypatch.setattr(reminders.timezone, "localdate", lambda: TODAY)
    client.force_login(lead)
    page = attention(client, HTTP_HX_REQUEST="true")
    assert "<html" not in page  # the fragment htmx puts in place
    assert "2 reviews overdue" in page  # Nithsdale and Stewartry: the lead sees both
    assert "The return for 25 September 2025 is due on 23 October" in page
    assert "The return for 26 June 2025 is overdue" in page
    assert "The return for 26 June 2025 was sent back" in page
    assert "1 transfer waiting for your decision" in page
    assert "<h1>Needs attention</h1>" in attention(client)  # its own page without JavaScript


def test_a_practitioner_is_shown_their_reviews_needing_attention(
    client, practitioner, register, returns_and_transfers, monkeypatch
):
    monkeypatch.setattr(reminders.timezone, "localdate", lambda: TODAY)
    client.force_login(practitioner)
    page = attention(client, HTTP_HX_REQUEST="true")
    assert "1 review overdue" in page
    assert "2 reviews due in the next 14 days" in page
    assert "transfer" not in page and "return" not in page


def test_a_national_analyst_is_shown_returns_waiting_for_a_decision(
    client, analyst, returns_and_transfers
):
    client.force_login(analyst)
    assert 'hx-get="/register/attention/"' in client.get("/reporting/").content.decode()
    assert "1 return submitted, waiting for a decision" in attention(client, HTTP_HX_REQUEST="true")


def test_nothing_needs_attention_when_nothing_is_due(client, lead, authority, monkeypatch):
    # The day after a census date: its return is weeks away, the last one was submitted.
    monkeypatch.setattr(reminders.timezone, "localdate", lambda: dt.date(2025, 9, 26))
    AuthorityReturn.objects.create(
        authority=authority,
        census_date=dt.date(2025, 6, 26),
        status="submitted",
        submitted_at=timezone.now(),
    )
    LocalityFactory(authority=authority)
    client.force_login(lead)
    assert "Nothing needs your attention." in attention(client, HTTP_HX_REQUEST="true")


def test_needs_attention_takes_a_fixed_number_of_queries(
    client, lead, authority, nithsdale, returns_and_transfers, django_assert_max_num_queries
):
    client.force_login(lead)
    PersonFactory(locality=nithsdale, next_review_due=TODAY)
    attention(client, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(20) as few:
        attention(client, HTTP_HX_REQUEST="true")
    for _ in range(30):
        PersonFactory(locality=nithsdale, next_review_due=TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        attention(client, HTTP_HX_REQUEST="true")


def test_reading_what_is_due_takes_a_fixed_number_of_queries(
    practitioner,
    lead,
    analyst,
    register,
    returns_and_transfers,
    authority,
    nithsdale,
    django_assert_max_num_queries,
):
    from django.db import transaction

    from registers import access

    def gather():
        with transaction.atomic(), access.system_scope("test"):
            return (
                reminders.weekly_digests(TODAY)
                + reminders.lead_notices(TODAY)
                + reminders.national_notices(TODAY)
            )

    with django_assert_max_num_queries(20) as few:
        gather()
    for i in range(10):
        member = make_member(authority, "practitioner", [nithsdale], email=f"p{i}@dg.example.scot")
        assert member
        PersonFactory(locality=nithsdale, next_review_due=TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len([r for r in gather() if r.kind == reminders.DIGEST]) == 11
