"""Reminders by email, sent by Celery beat, and the same items on the pages as "Needs attention".

- Practitioners: a weekly digest of reviews overdue and due in the next DSR_DIGEST_DAYS (14) days
  in the localities they may change (they can turn it off on "Your account").
- Leads: a return due within DSR_RETURN_DUE_SOON_DAYS (7), a return overdue, a transfer waiting
  for their decision, a return sent back by the national team.
- National analysts: a return submitted.

Every email says counts, the authority's name and where to sign in: never anything about a person.
Each is recorded in `SentReminder` under a unique key (the week, the census date, the transfer, the
return and its decision time) before it is sent, in its own transaction: a schedule that runs
twice, or two workers at once, sends nothing twice, and a failed send is retried next time.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from . import access
from .audit import AuditAction, record_event
from .codes import TransferStatus
from .models import IntegrationAuthority, Person, SentReminder, Transfer

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

DIGEST = "weekly_digest"
RETURN_DUE = "return_due"
RETURN_OVERDUE = "return_overdue"
TRANSFER_WAITING = "transfer_waiting"
RETURN_SENT_BACK = "return_sent_back"
RETURN_SUBMITTED = "return_submitted"
# Sent when the national analyst asks (reporting.services.request_return_reminder), at most once
# a day per authority and census date (the key is the census date and the day).
RETURN_REMINDER_FROM_NATIONAL = "return_national_reminder"
# The template of each kind (templates/emails/<name>.txt).
TEMPLATES = {
    DIGEST: "reminder_weekly_digest",
    RETURN_DUE: "reminder_return_due",
    RETURN_OVERDUE: "reminder_return_overdue",
    TRANSFER_WAITING: "reminder_transfer_waiting",
    RETURN_SENT_BACK: "reminder_return_sent_back",
    RETURN_SUBMITTED: "reminder_return_submitted",
    RETURN_REMINDER_FROM_NATIONAL: "reminder_return_from_national",
}


@dataclass
class Reminder:
    recipient_id: int
    email: str
    authority_id: int
    authority_name: str
    kind: str
    key: str
    path: str  # the page to open after signing in
    counts: dict[str, Any] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        from accounts.emails import site_link

        return {
            "authority": self.authority_name,
            "link": site_link(self.path),
            **self.counts,
        }


# Reading what is due -----------------------------------------------------------------------------


def _review_counts(people: Any, today: dt.date) -> Any:
    horizon = today + dt.timedelta(days=settings.DSR_DIGEST_DAYS)
    return people.filter(date_left__isnull=True, next_review_due__lte=horizon).aggregate(
        overdue=Count("pk", filter=Q(next_review_due__lt=today)),
        due=Count("pk", filter=Q(next_review_due__gte=today)),
    )


def weekly_digests(today: dt.date) -> list[Reminder]:
    """Each active practitioner who wants the digest, per authority: reviews overdue and due
    soon in the localities they may change. Read in the system scope; a fixed number of queries."""
    from accounts.models import LocalityUserObjectPermission, Membership, Role

    horizon = today + dt.timedelta(days=settings.DSR_DIGEST_DAYS)
    by_locality = {
        row["locality_id"]: row
        for row in Person.objects.filter(date_left__isnull=True, next_review_due__lte=horizon)
        .order_by()
        .values("locality_id")
        .annotate(
            overdue=Count("pk", filter=Q(next_review_due__lt=today)),
            due=Count("pk", filter=Q(next_review_due__gte=today)),
        )
    }
    members = {
        (m["user_id"], m["authority_id"]): m
        for m in Membership.objects.filter(
            role=Role.PRACTITIONER,
            deactivated_at__isnull=True,
            user__is_active=True,
            user__email_digests=True,
        ).values("user_id", "authority_id", "user__email", "authority__name")
    }
    totals: dict[tuple[int, int], dict[str, int]] = {}
    grants = LocalityUserObjectPermission.objects.filter(
        permission__codename=access.WRITE_LOCALITY
    ).values_list("user_id", "content_object__authority_id", "content_object_id")
    for user_id, authority_id, locality_id in grants:
        if (user_id, authority_id) not in members or locality_id not in by_locality:
            continue
        total = totals.setdefault((user_id, authority_id), {"overdue": 0, "due": 0})
        total["overdue"] += by_locality[locality_id]["overdue"]
        total["due"] += by_locality[locality_id]["due"]
    year, week, _ = today.isocalendar()
    return [
        Reminder(
            recipient_id=user_id,
            email=members[(user_id, authority_id)]["user__email"],
            authority_id=authority_id,
            authority_name=members[(user_id, authority_id)]["authority__name"],
            kind=DIGEST,
            key=f"{year}-W{week:02d}",
            path=reverse("registers:reviews_due"),
            counts={**counts, "days": settings.DSR_DIGEST_DAYS},
        )
        for (user_id, authority_id), counts in sorted(totals.items())
        if counts["overdue"] or counts["due"]
    ]


def leads() -> dict[int, tuple[int, str]]:
    """Each authority's active lead: (user id, email). Read in the system scope."""
    return _leads()


def _leads() -> dict[int, tuple[int, str]]:
    from accounts.models import Membership, Role

    return {
        authority_id: (user_id, email)
        for authority_id, user_id, email in Membership.objects.filter(
            role=Role.LEAD, deactivated_at__isnull=True, user__is_active=True
        ).values_list("authority_id", "user_id", "user__email")
    }


def _open_return_dates(today: dt.date) -> list[dt.date]:
    """The census dates whose returns may still be due or overdue: the last two."""
    from reporting.census import recent_census_dates

    return [c for c in recent_census_dates(today, 2) if c < today]


def lead_notices(today: dt.date) -> list[Reminder]:
    """Returns due within a week or overdue, transfers waiting, returns sent back."""
    from reporting.census import return_deadline
    from reporting.models import AuthorityReturn, ReturnStatus

    leads = _leads()
    names = dict(IntegrationAuthority.objects.filter(pk__in=leads).values_list("pk", "name"))
    done = {ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED}
    census_dates = _open_return_dates(today)
    status = {
        (authority_id, census_date): state
        for authority_id, census_date, state in AuthorityReturn.objects.filter(
            census_date__in=census_dates
        ).values_list("authority_id", "census_date", "status")
    }
    found: list[Reminder] = []

    def notice(authority_id: int, kind: str, key: str, path: str, **counts: Any) -> None:
        user_id, email = leads[authority_id]
        found.append(
            Reminder(user_id, email, authority_id, names[authority_id], kind, key, path, counts)
        )

    soon = dt.timedelta(days=settings.DSR_RETURN_DUE_SOON_DAYS)
    for census_date in census_dates:
        deadline = return_deadline(census_date)
        for authority_id in sorted(leads):
            if status.get((authority_id, census_date)) in done:
                continue
            path = reverse("reporting:return", args=[authority_id, census_date])
            facts = {"census_date": census_date, "deadline": deadline}
            if today <= deadline <= today + soon:
                notice(authority_id, RETURN_DUE, census_date.isoformat(), path, **facts)
            elif deadline < today:
                notice(authority_id, RETURN_OVERDUE, census_date.isoformat(), path, **facts)
    waiting = (
        Transfer.objects.filter(status=TransferStatus.PENDING, to_authority_id__in=list(leads))
        .order_by("to_authority_id", "pk")
        .values_list("to_authority_id", "pk", "authority__name")
    )
    for authority_id, transfer_id, sender in waiting:
        path = reverse("registers:transfer_decide", args=[transfer_id])
        notice(authority_id, TRANSFER_WAITING, str(transfer_id), path, from_authority=sender)
    sent_back = AuthorityReturn.objects.filter(
        status=ReturnStatus.RETURNED, authority_id__in=list(leads), decided_at__isnull=False
    ).values_list("authority_id", "pk", "census_date", "decided_at")
    for authority_id, return_id, census_date, decided_at in sent_back:
        path = reverse("reporting:return", args=[authority_id, census_date])
        key = f"{return_id}:{decided_at:%Y%m%dT%H%M%S}"
        notice(authority_id, RETURN_SENT_BACK, key, path, census_date=census_date)
    return found


def national_notices(today: dt.date) -> list[Reminder]:
    """Each active national analyst: every return submitted in the last two weeks."""
    from accounts.models import User
    from reporting.models import AuthorityReturn, ReturnStatus

    since = timezone.now() - dt.timedelta(days=14)
    submitted = list(
        AuthorityReturn.objects.filter(status=ReturnStatus.SUBMITTED, submitted_at__gte=since)
        .order_by("pk")
        .values_list("authority_id", "authority__name", "pk", "census_date", "submitted_at")
    )
    if not submitted:
        return []
    analysts = list(
        User.objects.filter(is_national_analyst=True, is_active=True)
        .order_by("pk")
        .values_list("pk", "email")
    )
    return [
        Reminder(
            user_id,
            email,
            authority_id,
            name,
            RETURN_SUBMITTED,
            f"{return_id}:{submitted_at:%Y%m%dT%H%M%S}",
            reverse("reporting:national", args=[census_date]),
            {"census_date": census_date},
        )
        for authority_id, name, return_id, census_date, submitted_at in submitted
        for user_id, email in analysts
    ]


# Sending ------------------------------------------------------------------------------------------


def _claim(reminder: Reminder) -> bool:
    """Record the reminder; False when it was sent before (or is being sent by another run,
    whose transaction then decides: the unique index makes this one wait, then skip)."""
    table = SentReminder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (authority_id, recipient_id, kind, key, counts, sent_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s::jsonb, now()) "
            "ON CONFLICT ON CONSTRAINT sentreminder_once DO NOTHING",
            [
                reminder.authority_id,
                reminder.recipient_id,
                reminder.kind,
                reminder.key,
                _json(reminder.counts),
            ],
        )
        return cursor.rowcount == 1


def _json(counts: dict[str, Any]) -> str:
    import json

    return json.dumps(counts, default=str)


def send(reminders: list[Reminder]) -> int:
    """Send each reminder not sent before, each in its own transaction in its authority's scope
    (claim, send, audit): a failure leaves it unclaimed for the next run. Returns how many."""
    from accounts.emails import send_email

    sent = 0
    for reminder in reminders:
        try:
            with (
                transaction.atomic(),
                access.using_scope(access.authority_task_scope(reminder.authority_id)),
            ):
                if not _claim(reminder):
                    continue
                send_email(reminder.email, TEMPLATES[reminder.kind], reminder.context())
                record_event(
                    None,
                    AuditAction(f"reminder.{reminder.kind}"),
                    authority_id=reminder.authority_id,
                    changes={
                        "to": reminder.email,
                        "key": reminder.key,
                        "counts": {k: str(v) for k, v in reminder.counts.items()},
                    },
                )
        except OSError:  # the mail server refused or was away: try again next run
            logger.exception("reminder %s %s not sent", reminder.kind, reminder.key)
            continue
        sent += 1
    return sent


def _gathered(reason: str, gather: Any, today: dt.date) -> list[Reminder]:
    with transaction.atomic(), access.system_scope(reason):
        return gather(today)


def send_weekly_digests(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    return send(_gathered("reminders: weekly digests", weekly_digests, today))


def send_notices(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()

    def gather(day: dt.date) -> list[Reminder]:
        return [*lead_notices(day), *national_notices(day)]

    return send(_gathered("reminders: notices", gather, today))


# On the pages: "Needs attention" ------------------------------------------------------------------


@dataclass
class Attention:
    message: str
    path: str


def needs_attention(
    user: User, authority_id: int | None, *, today: dt.date | None = None
) -> list[Attention]:
    """The same items as the emails, for the signed-in user now: reviews in their scope, and
    for the lead the returns and transfers; for a national analyst the returns submitted."""
    from reporting.census import return_deadline
    from reporting.models import AuthorityReturn, ReturnStatus

    today = today or timezone.localdate()
    items: list[Attention] = []
    if access.is_national(user):
        waiting = AuthorityReturn.objects.filter(status=ReturnStatus.SUBMITTED).count()
        if waiting:
            items.append(
                Attention(
                    f"{waiting} return{'s' if waiting != 1 else ''} submitted, waiting for a "
                    "decision",
                    reverse("reporting:index"),
                )
            )
    if authority_id is None:
        return items
    counts = _review_counts(access.visible_people(user).filter(authority_id=authority_id), today)
    reviews = reverse("registers:reviews_due")
    if counts["overdue"]:
        items.append(
            Attention(f"{counts['overdue']} review{_s(counts['overdue'])} overdue", reviews)
        )
    if counts["due"]:
        items.append(
            Attention(
                f"{counts['due']} review{_s(counts['due'])} due in the next "
                f"{settings.DSR_DIGEST_DAYS} days",
                reviews,
            )
        )
    if not access.is_lead(user, authority_id):
        return items
    census_dates = _open_return_dates(today)
    returns = {
        r.census_date: r
        for r in AuthorityReturn.objects.filter(
            authority_id=authority_id, census_date__in=census_dates
        ).only("census_date", "status")
    }
    for census_date in census_dates:
        found = returns.get(census_date)
        if found and found.status in (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED):
            continue
        deadline = return_deadline(census_date)
        path = reverse("reporting:return", args=[authority_id, census_date])
        when = f"{census_date:%-d %B %Y}"
        if deadline < today:
            items.append(
                Attention(f"The return for {when} is overdue (due {deadline:%-d %B})", path)
            )
        elif deadline <= today + dt.timedelta(days=settings.DSR_RETURN_DUE_SOON_DAYS):
            items.append(Attention(f"The return for {when} is due on {deadline:%-d %B}", path))
        if found and found.status == ReturnStatus.RETURNED:
            items.append(Attention(f"The return for {when} was sent back", path))
    waiting = Transfer.objects.filter(
        to_authority_id=authority_id, status=TransferStatus.PENDING
    ).count()
    if waiting:
        items.append(
            Attention(
                f"{waiting} transfer{_s(waiting)} waiting for your decision",
                reverse("registers:transfers"),
            )
        )
    return items


def _s(n: int) -> str:
    return "" if n == 1 else "s"
