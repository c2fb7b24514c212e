"""Synthetic registers for every authority, shaped like the national figures (domain.md).

Deterministic for a given scale, and idempotent: an authority that already has demo people is left
alone. Rows go in with bulk inserts so `--scale 100` (about 150,000 people and 750,000 history
rows) takes minutes.

One module although it is over 600 lines: it is one job read top to bottom. The people, their
histories and reviews are drawn from one seeded random stream passed through its steps in a fixed
order (which is what makes a scale reproducible), and the steps share the national shares and the
bulk-insert plumbing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts import services as staff
from accounts.models import Membership, Role, User

from . import access
from .authorities import AUTHORITIES
from .codes import (
    Category,
    ChangeKind,
    DelayReason,
    HospitalType,
    HostAreaOutsideScotland,
    LegalStatus,
    PlacementType,
    ReferralSource,
    RiskFactor,
    RiskRating,
    UrgentReason,
    values,
)
from .models import (
    HOSPITAL_FIELDS,
    PLACEMENT_FIELDS,
    IntegrationAuthority,
    Locality,
    Person,
    Review,
    StatusChange,
)
from .services.counts import compact_register_counts
from .validation import make_chi

DEMO_PREFIX = "DEMO-"
DEMO_PASSWORD = "Demo-register-2026"  # noqa: S105 - synthetic accounts, printed on purpose
DEMO_EMAIL_DOMAIN = "demo.dsr.scot"
NATIONAL_ANALYST_EMAIL = f"analyst@{DEMO_EMAIL_DOMAIN}"
# Demo leads and the demo analyst need a second factor like real ones; they share this published
# authenticator key (base32 below), and `manage.py demo_code` prints its current code outside
# production. Synthetic accounts only, like the published password.
DEMO_TOTP_KEY = b"dsr-demo-second-step".hex()  # 20 bytes, as django-otp's TOTP keys


def demo_totp_base32() -> str:
    import base64

    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()


def demo_totp_code() -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(bytes.fromhex(DEMO_TOTP_KEY)).token():06d}"


def ensure_demo_second_factor(user: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=DEMO_TOTP_KEY, confirmed=True
        )


# National shape at scale 1 (PHS, 25 Sep 2025): 1,490 people; 385 urgent of whom 171 in hospital
# (66 delayed discharge), 34 inappropriately out of area, 180 at risk; of the rest 80% enhanced
# monitoring and 20% appropriately out of area; 62.7% male.
NATIONAL_TOTAL = 1490
URGENT_SHARE = {
    UrgentReason.IN_HOSPITAL: 171,
    UrgentReason.INAPPROPRIATE_OUT_OF_AREA: 34,
    UrgentReason.AT_RISK_OF_BREAKDOWN: 180,
}
DELAYED_SHARE_OF_HOSPITAL = 66 / 171
ENHANCED_SHARE_OF_REST = 0.8
MALE_SHARE = 0.627

LOCALITIES = {
    "S37000006": ["Annandale and Eskdale", "Nithsdale", "Stewartry", "Wigtownshire"],
    "S37000012": ["North East", "North West", "South East", "South West"],
    "S37000034": ["North East", "North West", "South"],
    "S37000016": ["Inverness", "Lochaber", "Skye, Lochalsh and West Ross", "Caithness"],
    "S37000032": ["Dunfermline", "Kirkcaldy", "Levenmouth", "North East Fife"],
    "S37000004": [
        "Bute and Cowal",
        "Helensburgh and Lomond",
        "Mid Argyll, Kintyre and Islay",
        "Oban, Lorn and the Isles",
    ],
}
DEFAULT_LOCALITIES = ["North", "South", "East", "West"]

GIVEN = {
    "male": [
        "James",
        "John",
        "David",
        "Robert",
        "Andrew",
        "Michael",
        "Scott",
        "Craig",
        "Stuart",
        "Callum",
        "Euan",
        "Fraser",
        "Ross",
        "Gordon",
        "Iain",
        "Jamie",
        "Kyle",
        "Lewis",
    ],
    "female": [
        "Morag",
        "Fiona",
        "Catriona",
        "Eilidh",
        "Isla",
        "Kirsty",
        "Lesley",
        "Mhairi",
        "Shona",
        "Ailsa",
        "Karen",
        "Elaine",
        "Gillian",
        "Heather",
        "Rhona",
        "Sarah",
    ],
}
FAMILY = [
    "Campbell",
    "MacDonald",
    "Stewart",
    "Robertson",
    "Thomson",
    "Anderson",
    "Scott",
    "Murray",
    "MacLeod",
    "Reid",
    "Ross",
    "Paterson",
    "Fraser",
    "Hamilton",
    "Kerr",
    "Grant",
    "Wilson",
    "Watson",
    "Henderson",
    "Johnston",
    "Sinclair",
    "Munro",
    "Ferguson",
    "Duncan",
]
HOSPITALS = [
    "Leverndale",
    "Royal Edinburgh",
    "Murray Royal",
    "Carseview",
    "New Craigs",
    "Midpark",
    "Rowanbank Clinic",
    "Queen Elizabeth University Hospital",
]

REGISTER_START = dt.date(2022, 1, 1)
# How many times a person's risk rating is revised (uniform, inclusive), and the ratings allowed.
RATING_REVISIONS = (3, 9)
RATINGS_FOR = {
    None: [RiskRating.GREEN, RiskRating.AMBER, RiskRating.RED],
    UrgentReason.AT_RISK_OF_BREAKDOWN: [RiskRating.AMBER, RiskRating.RED],
    UrgentReason.INAPPROPRIATE_OUT_OF_AREA: [RiskRating.GREEN, RiskRating.AMBER, RiskRating.RED],
}


@dataclass
class SeedResult:
    authorities_seeded: int
    people: int
    status_changes: int
    reviews: int


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def demo_email(role: str, authority: IntegrationAuthority) -> str:
    return f"{role}.{slug(authority.name)}@{DEMO_EMAIL_DOMAIN}"


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def national_categories(total: int, rng: random.Random) -> list[tuple[str, str | None, bool]]:
    """(category, urgent reason, delayed discharge) for each of `total` people, shuffled."""
    factor = total / NATIONAL_TOTAL
    rows: list[tuple[str, str | None, bool]] = []
    for reason, n in URGENT_SHARE.items():
        count = round(n * factor)
        delayed = (
            round(count * DELAYED_SHARE_OF_HOSPITAL) if reason == UrgentReason.IN_HOSPITAL else 0
        )
        rows += [(Category.URGENT, reason, i < delayed) for i in range(count)]
    rest = total - len(rows)
    enhanced = round(rest * ENHANCED_SHARE_OF_REST)
    rows += [(Category.ENHANCED_MONITORING, None, False)] * enhanced
    rows += [(Category.APPROPRIATE_OUT_OF_AREA, None, False)] * (rest - enhanced)
    rng.shuffle(rows)
    return rows


def seed(*, scale: float = 1.0, stdout=None) -> SeedResult:
    """Create localities, staff and synthetic registers for every authority that has none."""
    rng = random.Random(f"dsr-demo-{scale}")
    authorities = list(IntegrationAuthority.objects.order_by("code"))
    weights = {code: weight for code, _name, weight in AUTHORITIES}
    total = max(len(authorities), round(NATIONAL_TOTAL * scale))
    counts = allocate(total, [weights.get(a.code, 100) for a in authorities])
    categories = iter(national_categories(total, rng))
    password = make_password(DEMO_PASSWORD)
    result = SeedResult(0, 0, 0, 0)
    with transaction.atomic(), access.system_scope("seed_demo: national analyst"):
        _national_analyst(password)
        already = set(
            Person.objects.filter(local_reference__startswith=DEMO_PREFIX)
            .values_list("authority_id", flat=True)
            .distinct()
        )
    for authority, count in zip(authorities, counts, strict=True):
        share = [next(categories) for _ in range(count)]
        if authority.pk in already:
            continue
        # One transaction per authority: an interrupted run keeps what it finished.
        with transaction.atomic(), access.system_scope(f"seed_demo: {authority.code}"):
            localities = _localities(authority)
            _staff(authority, localities, password)
            people, changes, reviews = _register(authority, localities, share, rng)
        result.authorities_seeded += 1
        result.people += people
        result.status_changes += changes
        result.reviews += reviews
        if stdout:
            stdout.write(f"  {authority.name}: {people} people")
    if result.authorities_seeded:
        # Seeding appended the counts a statement at a time; the list reads them folded.
        compact_register_counts()
    return result


def _national_analyst(password: str) -> None:
    analyst, _ = User.objects.get_or_create(
        email=NATIONAL_ANALYST_EMAIL,
        defaults={
            "username": NATIONAL_ANALYST_EMAIL,
            "first_name": "Nat",
            "last_name": "Analyst",
            "is_national_analyst": True,
            "password": password,
        },
    )
    ensure_demo_second_factor(analyst)


def _localities(authority: IntegrationAuthority) -> list[Locality]:
    names = LOCALITIES.get(authority.code, [f"{authority.name} {d}" for d in DEFAULT_LOCALITIES])
    return [Locality.objects.get_or_create(authority=authority, name=n)[0] for n in names]


def _staff(authority: IntegrationAuthority, localities: list[Locality], password: str) -> None:
    def user(role: str, first: str) -> User:
        email = demo_email(role, authority)
        return User.objects.get_or_create(
            email=email,
            defaults={
                "username": email,
                "first_name": first,
                "last_name": authority.name,
                "password": password,
            },
        )[0]

    lead = user("lead", "Lead")
    ensure_demo_second_factor(lead)
    if not Membership.objects.filter(authority=authority, role=Role.LEAD).exists():
        staff.hand_over_lead(None, authority, to_user=lead)
    for role, first, granted in (
        (Role.PRACTITIONER, "Practitioner", localities[:2]),
        (Role.VIEWER, "Viewer", localities),
    ):
        member = user(role, first)
        if not Membership.objects.filter(authority=authority, user=member).exists():
            staff.add_staff_member(
                lead, authority, email=member.email, role=role, localities=granted
            )


def _register(
    authority: IntegrationAuthority,
    localities: list[Locality],
    share: list[tuple[str, str | None, bool]],
    rng: random.Random,
) -> tuple[int, int, int]:
    today = timezone.localdate()
    other_codes = [c for c, _n, _w in AUTHORITIES if c != authority.code]
    used_chi: set[str] = set()
    people: list[Person] = []
    histories: list[list[tuple[dt.date, str, dict]]] = []
    for n, (category, reason, delayed) in enumerate(share, start=1):
        person = _person(
            authority,
            rng.choice(localities),
            n,
            category,
            reason,
            delayed,
            other_codes,
            used_chi,
            rng,
            today,
        )
        history = list(_history(person, rng, today))
        person.version = len(history)
        people.append(person)
        histories.append(history)
    _copy_people(people)

    changes: list[tuple] = []
    reviews: list[tuple] = []
    tz = timezone.get_current_timezone()
    for person, history in zip(people, histories, strict=True):
        previous: dict = {}
        for version, (when, kind, state) in enumerate(history, start=1):
            at = dt.datetime.combine(when, dt.time(10, 0), tzinfo=tz)
            changes.append(
                (
                    authority.pk,
                    person.pk,
                    kind,
                    at,
                    when,
                    previous.get("category") or "",
                    state["category"],
                    previous.get("urgent_reason") or "",
                    state["urgent_reason"] or "",
                    previous.get("risk_rating") or "",
                    state["risk_rating"] or "",
                    state["risk_factors"],
                    _REASONS[kind],
                    json.dumps(state),
                    version,
                    json.dumps(
                        {k: [previous.get(k), v] for k, v in state.items() if previous.get(k) != v}
                    ),
                )
            )
            if kind == ChangeKind.REVIEW_RECORDED:
                reviews.append(
                    (
                        authority.pk,
                        person.pk,
                        when,
                        "Key worker, family, care provider",
                        "Plan reviewed",
                        "",
                        when + dt.timedelta(days=90),
                        at + dt.timedelta(hours=1),
                    )
                )
            previous = state
    _copy_rows(StatusChange, _CHANGE_COLUMNS, changes)
    _copy_rows(Review, _REVIEW_COLUMNS, reviews)
    return len(people), len(changes), len(reviews)


_CHANGE_COLUMNS = (
    "authority_id",
    "person_id",
    "kind",
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
    "state",
    "version",
    "changes",
)
_REVIEW_COLUMNS = (
    "authority_id",
    "person_id",
    "review_date",
    "attendees",
    "outcome",
    "actions",
    "next_review_due",
    "recorded_at",
)


@functools.cache
def _choices(choices: type) -> list[str]:
    return values(choices)


def _copy_people(people: list[Person]) -> None:
    """Give the people ids from the table's own sequence, then load them like the history."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('registers_person', 'id')) "
            "FROM generate_series(1, %s)",
            [len(people)],
        )
        for person, (pk,) in zip(people, cursor.fetchall(), strict=True):
            person.pk = pk
    fields = [f for f in Person._meta.concrete_fields if not f.generated]
    columns = tuple(f.column for f in fields)
    _copy_rows(Person, columns, [tuple(getattr(p, f.attname) for f in fields) for p in people])


def _copy_rows(model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows fast: COPY into a temporary table, then one INSERT ... SELECT.

    PostgreSQL refuses COPY FROM into a table under row-level security, so the rows pass through
    a temporary table (no policy) and enter the real one by INSERT, where the policy applies.
    """
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE demo_load ON COMMIT DROP AS "  # noqa: S608 - fixed names
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY demo_load ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM demo_load"  # noqa: S608
        )
        cursor.execute("DROP TABLE demo_load")


_REASONS = {
    ChangeKind.ADDED: "Referred to the register",
    ChangeKind.STATUS: "Circumstances changed",
    ChangeKind.REVIEW_RECORDED: "Plan reviewed",
}


def _person(
    authority: IntegrationAuthority,
    locality: Locality,
    n: int,
    category: str,
    reason: str | None,
    delayed: bool,
    other_codes: list[str],
    used_chi: set[str],
    rng: random.Random,
    today: dt.date,
) -> Person:
    sex = "male" if rng.random() < MALE_SHARE else "female"
    born = today - dt.timedelta(days=rng.randint(18 * 366, 75 * 365))
    added = REGISTER_START + dt.timedelta(days=rng.randint(0, (today - REGISTER_START).days - 30))
    person = Person(
        authority=authority,
        locality=locality,
        given_name=rng.choice(GIVEN[sex]),
        family_name=rng.choice(FAMILY),
        date_of_birth=born,
        sex=sex,
        chi_number=_chi(born, sex, used_chi, rng),
        local_reference=f"{DEMO_PREFIX}{n:06d}",
        category=category,
        urgent_reason=reason,
        referral_source=rng.choice(_choices(ReferralSource)),
        date_added=added,
        key_worker_name=f"{rng.choice(GIVEN['female'])} {rng.choice(FAMILY)}",
        lead_professional_team="Community Learning Disability Team",
        risk_factors=sorted(rng.sample(_choices(RiskFactor), rng.randint(0, 3))),
        info_sharing_recorded=rng.random() < 0.8,
    )
    if reason == UrgentReason.IN_HOSPITAL:
        person.risk_factors = []
        # Long stays are common: PHS reports many people in hospital for years.
        stay = int(rng.choice([60, 200, 500, 1200, 2500, 4000]) * rng.uniform(0.5, 1.2))
        person.admission_date = today - dt.timedelta(days=stay)
        person.hospital_name = rng.choice(HOSPITALS)
        person.hospital_type = rng.choice(_choices(HospitalType))
        person.hospital_in_area = rng.random() < 0.7
        person.legal_status = rng.choice(_choices(LegalStatus))
        if delayed:
            ready = person.admission_date + dt.timedelta(days=rng.randint(14, max(15, stay - 7)))
            person.ready_for_discharge_date = min(ready, today - dt.timedelta(days=7))
            person.delay_reason = rng.choice(_choices(DelayReason))
    else:
        person.risk_rating = (
            rng.choice([RiskRating.RED, RiskRating.AMBER])
            if reason == UrgentReason.AT_RISK_OF_BREAKDOWN
            else rng.choice([RiskRating.GREEN, RiskRating.GREEN, RiskRating.AMBER])
        )
    if (
        category == Category.APPROPRIATE_OUT_OF_AREA
        or reason == UrgentReason.INAPPROPRIATE_OUT_OF_AREA
    ):
        person.host_area = rng.choice([*other_codes[:6], *_choices(HostAreaOutsideScotland)[:2]])
        person.placement_type = rng.choice(_choices(PlacementType))
        person.placement_start_date = today - dt.timedelta(days=rng.randint(60, 3000))
        person.placement_chosen = category == Category.APPROPRIATE_OUT_OF_AREA
    person.next_review_due = today + dt.timedelta(days=rng.randint(-30, 90))
    return person


def _chi(born: dt.date, sex: str, used: set[str], rng: random.Random) -> str | None:
    if rng.random() < 0.05:
        return None  # not every record has a CHI number yet
    serial = rng.randint(0, 499)
    for step in range(500):
        chi = make_chi(born, sex, serial + step)
        if chi and chi not in used:
            used.add(chi)
            return chi
    return None


def _history(
    person: Person, rng: random.Random, today: dt.date
) -> Iterator[tuple[dt.date, str, dict]]:
    """A coherent past: added, the risk rating revised now and then (what practitioners update
    most often), perhaps a change of category into today's state, and reviews. On average a
    person has more than five status changes besides the opening entry and the reviews."""
    final = person.register_state()
    anchor = person.admission_date or person.placement_start_date
    start = person.date_added
    earlier = dict(final)
    if anchor is None or anchor >= start:
        earlier.update(
            category=Category.ENHANCED_MONITORING,
            urgent_reason=None,
            risk_rating=rng.choice([RiskRating.GREEN, RiskRating.AMBER]),
            **dict.fromkeys((*HOSPITAL_FIELDS[1:], *PLACEMENT_FIELDS)),
            hospital_name="",
        )
    change_on = (
        anchor
        if anchor and anchor >= start
        else start + dt.timedelta(days=rng.randint(0, max(0, (today - start).days)))
    )
    change_on = max(change_on, start)
    events = [(start, ChangeKind.ADDED, earlier)]
    # Rating revisions while in the earlier state (nobody in hospital has a rating).
    if earlier["risk_rating"]:
        ratings = RATINGS_FOR.get(earlier["urgent_reason"], RATINGS_FOR[None])
        until = change_on if earlier != final else today
        state = earlier
        for when in sorted(
            start + dt.timedelta(days=rng.randint(0, max(0, (until - start).days)))
            for _ in range(rng.randint(*RATING_REVISIONS))
        ):
            rating = rng.choice([r for r in ratings if r != state["risk_rating"]])
            factors = sorted(rng.sample(_choices(RiskFactor), rng.randint(0, 3)))
            state = {**state, "risk_rating": rating, "risk_factors": factors}
            events.append((when, ChangeKind.STATUS, state))
        if earlier == final and state != final:
            events.append((today, ChangeKind.STATUS, final))
    if earlier != final:
        events.append((change_on, ChangeKind.STATUS, final))
    span = max(1, (today - start).days)
    review_dates = sorted(
        start + dt.timedelta(days=rng.randint(1, span)) for _ in range(rng.randint(3, 5))
    )
    for when in review_dates:
        events.append((when, ChangeKind.REVIEW_RECORDED, None))
    # Stable: same-day entries keep the order they were made in; the opening entry comes first.
    events.sort(key=lambda e: (e[0], e[1] != ChangeKind.ADDED))
    state = earlier
    for when, kind, new_state in events:
        if new_state is not None:
            state = new_state
        yield when, kind, {**state, "date_added": start.isoformat()}


def summary() -> dict[str, int]:
    """Counts by category and urgent reason of everyone on a demo register."""
    counts: Counter[str] = Counter()
    rows = Person.objects.filter(local_reference__startswith=DEMO_PREFIX, date_left__isnull=True)
    for category, reason, ready in rows.values_list(
        "category", "urgent_reason", "ready_for_discharge_date"
    ).iterator():
        counts["total"] += 1
        counts[category] += 1
        if reason:
            counts[reason] += 1
        if ready:
            counts["delayed_discharge"] += 1
    return dict(counts)
