"""Missing and overdue returns are flagged, and the analyst can remind an authority's lead."""

import datetime as dt

import pytest

from registers.audit import AuditEvent
from reporting import services
from tests.registers.test_reminders import inbox  # noqa: F401 - a real SMTP server
from tests.reporting.conftest import build_return

pytestmark = pytest.mark.django_db


def national(client, census):
    return client.get(f"/reporting/national/{census.isoformat()}/").content.decode()


def test_the_analyst_sees_which_returns_are_overdue(
    client, analyst, lead, other_lead, known_register, authority, other_authority, census
):
    services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    html = national(client, census)
    edinburgh = html.split("Edinburgh <span")[1].split("</tr>")[0]
    dumfries = html.split("Dumfries and Galloway <span")[1].split("</tr>")[0]
    assert "Overdue" in edinburgh and "Send a reminder" in edinburgh
    assert "Overdue" not in dumfries
    assert "Returns are due by <strong>23 October 2025</strong>" in html


def test_the_lead_sees_their_own_overdue_return(client, lead, authority, census):
    client.force_login(lead)
    html = client.get("/reporting/").content.decode()
    assert "Overdue" in html


def test_the_analyst_reminds_the_lead_after_confirming_and_it_is_audited(
    client,
    analyst,
    lead,
    authority,
    census,
    inbox,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client.force_login(analyst)
    url = f"/reporting/national/{census.isoformat()}/remind/{authority.pk}/"
    confirm = client.get(url).content.decode()
    assert "Send the reminder" in confirm and not inbox.messages
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url, {"confirmed": "yes"})
    assert len(callbacks) == 1
    assert (
        services.send_return_reminder(
            authority_id=authority.pk, census_date=census, today=dt.date.today()
        )
        == 1
    )
    [message] = inbox.to(lead.email)
    assert "Dumfries and Galloway" in inbox.body(message)
    assert len(inbox.messages) == 1
    assert AuditEvent.objects.filter(action="return.reminder_requested").count() == 1


def test_a_second_reminder_the_same_day_is_refused_and_never_sent_twice(
    client,
    analyst,
    lead,
    authority,
    census,
    inbox,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client.force_login(analyst)
    url = f"/reporting/national/{census.isoformat()}/remind/{authority.pk}/"
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url, {"confirmed": "yes"})
        response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert len(callbacks) == 1
    assert "You can send another tomorrow" in response.content.decode()
    for _ in range(2):  # the task delivered twice still sends once
        services.send_return_reminder(
            authority_id=authority.pk, census_date=census, today=dt.date.today()
        )
    assert len(inbox.messages) == 1


def test_a_submitted_return_needs_no_reminder(
    client, analyst, lead, known_register, authority, census
):
    services.submit_return(lead, build_return(authority))
    client.force_login(analyst)
    url = f"/reporting/national/{census.isoformat()}/remind/{authority.pk}/"
    response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert "the return is already submitted" in response.content.decode()


def test_staff_cannot_send_national_reminders(client, lead, authority, census):
    client.force_login(lead)
    url = f"/reporting/national/{census.isoformat()}/remind/{authority.pk}/"
    assert client.post(url, {"confirmed": "yes"}).status_code == 404
