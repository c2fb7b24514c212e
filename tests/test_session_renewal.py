"""An idle session ends after SESSION_COOKIE_AGE; an unchanged one is written back at most once a
minute to push its expiry on (dsr/sessions.py), not on every request."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsr.sessions import RENEW_AFTER_SECONDS
from registers.current_authority import SESSION_KEY

pytestmark = pytest.mark.django_db


def _session_writes(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert call().status_code == 200
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]


def _remaining(client) -> float:
    session = Session.objects.get(pk=client.session.session_key)
    return (session.expire_date - timezone.now()).total_seconds()


def test_an_unchanged_session_renewed_within_the_minute_is_not_written(client, practitioner):
    client.force_login(practitioner)
    client.get("/register/")  # the first page settles the current authority: a change, saved
    writes = _session_writes(lambda: client.get("/register/"))
    assert not [sql for sql in writes if "django_session" in sql]


def test_a_session_renewed_over_a_minute_ago_is_pushed_on(client, practitioner, settings):
    client.force_login(practitioner)
    client.get("/register/")
    then = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 61)
    Session.objects.filter(pk=client.session.session_key).update(expire_date=then)
    writes = _session_writes(lambda: client.get("/help/"))
    assert [sql for sql in writes if "django_session" in sql]
    assert settings.SESSION_COOKIE_AGE - 60 < _remaining(client) <= settings.SESSION_COOKIE_AGE


def test_an_idle_session_still_ends_no_later_than_the_age_after_the_last_request(
    client, practitioner, settings
):
    client.force_login(practitioner)
    client.get("/register/")
    # However recent the last write, the stored expiry is at most the age after the last request
    # and at least the age less the renewal interval.
    client.get("/help/")
    remaining = _remaining(client)
    assert remaining > settings.SESSION_COOKIE_AGE - RENEW_AFTER_SECONDS
    assert remaining <= settings.SESSION_COOKIE_AGE


def test_a_changed_session_is_saved_at_once(client, lead, other_authority):
    from accounts.models import Membership

    Membership.objects.create(user=lead, authority=other_authority, role="lead")
    client.force_login(lead)
    client.get("/register/")
    writes = _session_writes(
        lambda: client.post("/register/authority/", {"authority": other_authority.pk}, follow=True)
    )
    assert [sql for sql in writes if "django_session" in sql]
    assert client.session[SESSION_KEY] == other_authority.pk


def test_a_session_is_read_as_the_orm_reads_it(client, practitioner):
    from dsr import onerow
    from dsr.sessions import SessionStore

    assert onerow.unconverted(Session)
    client.force_login(practitioner)
    key = client.session.session_key
    store = SessionStore(key)
    stored = store._get_session_from_db()
    expected = Session.objects.get(session_key=key, expire_date__gt=timezone.now())
    assert [getattr(stored, f.attname) for f in Session._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in Session._meta.concrete_fields
    ]
    assert not stored._state.adding and stored._state.db == expected._state.db
    assert store.stored_expiry == expected.expire_date
    assert SessionStore(key).load() == client.session.load()
    # Expired or unknown: nothing, and the key is forgotten, as Django's own store does.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    for missing in (key, "x" * 32):
        store = SessionStore(missing)
        assert store._get_session_from_db() is None
        assert store.session_key is None and store.stored_expiry is None
