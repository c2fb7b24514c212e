"""Reads of the register. Every function takes the acting user first and starts from the scope.

One module although it is over 600 lines: the register's pages read through it, and audited reads
(`viewed_person_page`, `searched_page`, `audit_entries`) sit beside the reads they audit. The next
split, by subject (people and search; history and audit; localities and transfers), follows the
views package's subjects.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Count, Prefetch, QuerySet, Sum, Window
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from dsr import onerow, prepared

from . import access, labels
from .audit import AuditAction, record_event
from .codes import HostAreaOutsideScotland, TransferStatus
from .models import (
    AuditEvent,
    ImportBatch,
    IntegrationAuthority,
    Locality,
    Person,
    Review,
    StatusChange,
    Transfer,
)
from .rows import ROW_VALUES


def visible_people(user: User, *, include_left: bool = False) -> QuerySet[Person]:
    people = access.visible_people(user).select_related("locality", "authority")
    return people if include_left else people.on_register()


def category_counts(user: User, *, authority_id: int | None = None) -> dict[str, int]:
    """People on the register by category, and by urgent reason under `urgent:<reason>`: the
    counts the database keeps (`RegisterCount`, registers/0022), for the people the user may
    read, as `counts_by_category(visible_people(user).on_register())` would count them."""
    counts = access.visible_counts(user)
    if authority_id is not None:
        counts = counts.filter(authority_id=authority_id)
    return _by_category(counts.order_by().values("category", "urgent_reason").annotate(n=Sum("n")))


def counts_by_category(people: QuerySet[Person]) -> dict[str, int]:
    """`category_counts` of an already scoped (and perhaps filtered) list, in one query."""
    return _by_category(
        people.order_by().values("category", "urgent_reason").annotate(n=Count("id"))
    )


def _by_category(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["category"]] = counts.get(row["category"], 0) + row["n"]
        if row["urgent_reason"]:
            counts[f"urgent:{row['urgent_reason']}"] = row["n"]
    return counts


def register_people(user: User, *, authority_id: int | None) -> QuerySet[Person]:
    """The register list for one of the user's authorities (the one chosen in the session)."""
    people = visible_people(user)
    if authority_id is None:
        return people.none()
    return people.filter(authority_id=authority_id)


def page_of_people(
    people: QuerySet[Person],
    number: Any,
    *,
    per_page: int,
    count: int | None = None,
    rows: QuerySet | None = None,
) -> Page:
    """One page of a list of people, in two queries however long the list.

    The page's ids come first from a narrow query on the person table alone, which the name, date
    and review indexes answer in order; it also counts the whole list (a window count) unless the
    caller already knows the total. Only those people are then read, as `rows` reads them (by
    default `people` itself), with their locality and authority. `people` must join nothing:
    with a join (the locality's name of `row_columns`) the planner sorted a whole register of
    11,000 people for each page (7 ms) instead of walking an index in order (0.2 ms). (Sorting
    the whole joined register cost tens of milliseconds at a large authority, and counting a
    search separately scanned it twice.)
    """
    rows = people if rows is None else rows
    ids = people.values_list("pk", flat=True)
    paginator = Paginator(ids, per_page)
    if count is not None:
        paginator.count = count  # a cached property: this is the value it would compute
    else:
        wanted = _page_number(number)
        start = (wanted - 1) * per_page
        counted = list(
            ids.annotate(total=Window(Count("pk"))).values_list("pk", "total")[
                start : start + per_page
            ]
        )
        if counted:
            paginator.count = counted[0][1]
            return _with_people(rows, Page([pk for pk, _ in counted], wanted, paginator))
        # Past the end (or an empty list): count, and show the last page as Paginator would.
    page = paginator.get_page(number)
    return _with_people(rows, Page(list(page.object_list), page.number, paginator))


def counted_page(
    people: QuerySet[Person], number: Any, *, per_page: int, rows: QuerySet | None = None
) -> tuple[Page, dict[str, int]]:
    """`page_of_people` and `counts_by_category` of a filtered list, from one scan of it.

    A search (or any filter) has no index that answers it in order, so its page and its counts
    each scanned the authority's people: one statement now collects the matches once, counts
    them by category and picks the page from them. The page's people are then read as
    `page_of_people` reads them. A list ordered by anything but columns is left to those two.
    """
    rows = people if rows is None else rows
    ordering = list(people.query.order_by) or list(Person._meta.ordering)
    if people.query.is_empty():
        return page_of_people(people, number, per_page=per_page, count=0, rows=rows), {}
    columns = [name.removeprefix("-") for name in ordering if isinstance(name, str)]
    if len(columns) < len(ordering) or not all(name.isidentifier() for name in columns):
        return page_of_people(people, number, per_page=per_page, rows=rows), counts_by_category(
            people
        )
    inner, params = (
        people.order_by()
        .values_list("pk", "category", "urgent_reason", *columns)
        .query.sql_with_params()
    )
    keys = [f"o{i}" for i in range(len(columns))]
    order = ", ".join(
        f"{key} {'DESC' if name.startswith('-') else 'ASC'}"
        for key, name in zip(keys, ordering, strict=True)
    )
    wanted = _page_number(number)
    # The inner query is the ORM's own (its values are parameters); the rest is identifiers
    # checked above and keywords.
    sql = (
        f"WITH m (pk, category, urgent_reason, {', '.join(keys)}) AS MATERIALIZED ({inner}) "  # noqa: S608
        "SELECT NULL::bigint, category, urgent_reason, count(*) FROM m GROUP BY 2, 3 "
        "UNION ALL SELECT p.pk, NULL, NULL, p.n FROM unnest(ARRAY("
        f"SELECT pk FROM m ORDER BY {order} LIMIT %s OFFSET %s"
        ")) WITH ORDINALITY AS p (pk, n)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, per_page, (wanted - 1) * per_page])
        found = cursor.fetchall()
    counts: dict[str, int] = {}
    for pk, category, reason, n in found:
        if pk is None:
            counts[category] = counts.get(category, 0) + n
            if reason:
                counts[f"urgent:{reason}"] = n
    total = sum(n for pk, _, _, n in found if pk is None)
    ids = [pk for pk, _, _, n in sorted((r for r in found if r[0] is not None), key=lambda r: r[3])]
    if not ids:
        # Past the end (or nothing found): the last page, as Paginator would show it.
        return page_of_people(people, number, per_page=per_page, count=total, rows=rows), counts
    paginator = Paginator(people.values_list("pk", flat=True), per_page)
    paginator.count = total
    return _with_people(rows, Page(ids, wanted, paginator)), counts


def _page_number(number: Any) -> int:
    try:
        return max(int(number), 1)
    except (TypeError, ValueError):
        return 1


def _with_people(rows: QuerySet, page: Page) -> Page:
    found = {person.pk: person for person in rows.filter(pk__in=page.object_list).order_by()}
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    return page


def reviews_due(user: User, *, authority_id: int | None, within_days: int) -> QuerySet[Person]:
    """People whose next review is overdue or falls due within `within_days`, soonest first."""
    until = timezone.localdate() + dt.timedelta(days=within_days)
    return (
        register_people(user, authority_id=authority_id)
        .filter(next_review_due__lte=until)
        .order_by("next_review_due", "family_name", "id")
    )


def changes_since(user: User, person: Person, version: int) -> list[StatusChange]:
    """What others changed after the version a form was opened at (to explain a refusal)."""
    return list(
        StatusChange.objects.filter(person__in=access.visible_people(user))
        .filter(person=person, version__gt=version)
        .select_related("changed_by")
        .order_by("version")
    )


def transfers_in(user: User, *, authority_id: int | None) -> QuerySet[Transfer]:
    """Transfers waiting for this authority's lead to decide."""
    if not access.is_lead(user, authority_id):
        return Transfer.objects.none()
    return Transfer.objects.filter(
        to_authority_id=authority_id, status=TransferStatus.PENDING
    ).select_related("authority", "requested_by")


def transfers_out(user: User, *, authority_id: int | None) -> QuerySet[Transfer]:
    """Transfers of people the user can see, sent from this authority, newest first."""
    return Transfer.objects.filter(
        authority_id=authority_id, person__in=access.visible_people(user)
    ).select_related("to_authority", "person", "requested_by", "decided_by")


def transfer_to_cancel(user: User, pk: int, *, authority_id: int | None) -> Transfer:
    """One of the authority's outgoing transfers (404 for any other)."""
    transfer = transfers_out(user, authority_id=authority_id).filter(pk=pk).first()
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def transfer_for_decision(user: User, pk: int) -> Transfer:
    """A pending transfer into an authority the user leads, or 404."""
    transfer = transfers_in_any(user).filter(pk=pk).first()
    if transfer is None:
        raise access.out_of_scope(user, "transfer", pk, "No such transfer waiting for you.")
    return transfer


def transfers_in_any(user: User) -> QuerySet[Transfer]:
    return Transfer.objects.filter(
        to_authority_id__in=access.led_authority_ids(user), status=TransferStatus.PENDING
    ).select_related("authority", "to_authority", "requested_by")


@dataclass(frozen=True)
class TrendPoint:
    month_end: dt.date
    in_hospital: int
    delayed_discharge: int
    out_of_area: int

    @property
    def is_today(self) -> bool:
        """The last point is today, not a month end (unless today is the last day of a month)."""
        return self.month_end == timezone.localdate()


def _month_ends(today: dt.date, months: int) -> list[dt.date]:
    ends = []
    year, month = today.year, today.month
    for _ in range(months):
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        ends.append(min(last, today))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


# People counted at each date: the spells that contain it (`TrendSpell`, kept from the history by
# triggers, registers/0013), of the people the user sees. A spell is a span over which a person
# counts the same way (consecutive history entries joined), so there are far fewer spells than
# entries: about one per person ever in hospital or out of area, and a few for those who moved.
TREND_SQL = """
SELECT month_end,
       count(*) FILTER (WHERE in_hospital),
       count(*) FILTER (WHERE in_hospital AND ready_for_discharge_date < month_end),
       count(*) FILTER (WHERE out_of_area)
FROM registers_trendspell
JOIN unnest(%(ends)s::date[]) AS month_end
  ON valid_from <= month_end AND (valid_until IS NULL OR valid_until > month_end)
WHERE authority_id = %(authority)s
  AND valid_from <= %(last)s AND (valid_until IS NULL OR valid_until > %(first)s)
  AND person_id IN ({visible})
GROUP BY month_end
"""


def monthly_trend(user: User, *, authority_id: int, months: int = 12) -> list[TrendPoint]:
    """People in hospital, delayed discharges and out-of-area placements at each month end and
    today, as the history has them (each person's state as of their last entry on or before the
    date), for the people the user sees. One query over the spells the history's triggers keep."""
    ends = _month_ends(timezone.localdate(), months)
    visible = access.visible_people(user).filter(authority_id=authority_id).order_by()
    visible_sql, visible_params = visible.values("pk").query.sql_with_params()
    names = {f"visible{i}": value for i, value in enumerate(visible_params)}
    sql = TREND_SQL.format(visible=visible_sql % tuple(f"%({name})s" for name in names))
    params = {"authority": authority_id, "first": ends[0], "last": ends[-1], "ends": ends}
    with connection.cursor() as cursor:
        cursor.execute(sql, params | names)
        counts = {row[0]: row[1:] for row in cursor.fetchall()}
    return [TrendPoint(end, *counts.get(end, (0, 0, 0))) for end in ends]


def long_stay_days() -> int:
    return settings.DSR_LONG_HOSPITAL_STAY_DAYS


def person_detail(user: User, pk: int) -> Person:
    """One person with their history and reviews, in a fixed number of queries."""
    queryset = Person.objects.select_related(
        "locality", "authority", "created_by"
    ).prefetch_related(
        Prefetch(
            "status_changes",
            queryset=StatusChange.objects.select_related("changed_by").order_by(
                "-effective_date", "-changed_at", "-id"
            ),
        ),
        Prefetch("reviews", queryset=Review.objects.select_related("recorded_by")),
    )
    return access.person_for_read(user, pk, queryset)


def _columns(model: type[models.Model], alias: str, *, leave_out: tuple[str, ...] = ()) -> str:
    return ", ".join(
        f'{alias}."{field.column}"'
        for field in model._meta.concrete_fields
        if field.name not in leave_out
    )


# The person page's reads after the person, written out once: compiling the same three
# querysets on every view cost about a millisecond of the page's Python (Django builds their SQL
# anew each time). The history leaves out its stored register state, and of whoever recorded an
# entry reads only what the timeline shows (`User.__str__`), never their password hash.
PAGE_HISTORY_SQL = f"""
SELECT {_columns(StatusChange, "h", leave_out=("state",))},
       u.first_name AS by_first_name, u.last_name AS by_last_name,
       u.email AS by_email, u.username AS by_username
FROM {StatusChange._meta.db_table} h
LEFT JOIN {User._meta.db_table} u ON u.id = h.changed_by_id
WHERE h.person_id = %s
ORDER BY h.effective_date DESC, h.changed_at DESC, h.id DESC
"""  # noqa: S608 - fixed names
PAGE_REVIEWS_SQL = f"""
SELECT {_columns(Review, "r")} FROM {Review._meta.db_table} r
WHERE r.person_id = %s ORDER BY r.review_date DESC, r.id DESC
"""  # noqa: S608 - fixed names
PAGE_TRANSFERS_SQL = f"""
SELECT {_columns(Transfer, "t")}, a.code AS to_code, a.name AS to_name
FROM {Transfer._meta.db_table} t
JOIN {IntegrationAuthority._meta.db_table} a ON a.id = t.to_authority_id
WHERE t.person_id = %s AND t.status = %s ORDER BY t.requested_at DESC, t.id DESC
"""  # noqa: S608 - fixed names


PAGE_PLACES_SQL = f"""
SELECT {onerow.columns(Locality, "l")}, a.code, a.name
FROM {Locality._meta.db_table} l
JOIN {IntegrationAuthority._meta.db_table} a ON a.id = l.authority_id
WHERE l.authority_id = %s
"""  # noqa: S608 - fixed names


def _page_places(authority_id: int) -> tuple[IntegrationAuthority | None, dict[int, Locality]]:
    """The authority and every one of its localities, retired ones too (the history names them)."""
    with prepared.cursor() as cursor:
        cursor.execute(PAGE_PLACES_SQL, [authority_id])
        rows = cursor.fetchall()
    width = onerow.width(Locality)
    localities = {row[0]: onerow.instance(Locality, row[:width]) for row in rows}
    if not rows:
        return None, localities
    code, name = rows[0][width:]
    return IntegrationAuthority(id=authority_id, code=code, name=name), localities


def _page_history(person_id: int) -> list[StatusChange]:
    history = list(prepared.raw(StatusChange, PAGE_HISTORY_SQL, [person_id]))
    for change in history:
        if change.changed_by_id is not None:
            # Only the names the timeline shows: the person page never saves these.
            change.changed_by = User(
                id=change.changed_by_id,
                first_name=change.by_first_name,
                last_name=change.by_last_name,
                email=change.by_email,
                username=change.by_username,
            )
    return history


def _page_transfers(person_id: int) -> list[Transfer]:
    transfers = list(
        prepared.raw(Transfer, PAGE_TRANSFERS_SQL, [person_id, TransferStatus.PENDING.value])
    )
    for transfer in transfers:
        transfer.to_authority = IntegrationAuthority(
            id=transfer.to_authority_id, code=transfer.to_code, name=transfer.to_name
        )
    return transfers


@dataclass
class PersonPage:
    """What the person page shows: the record (with its locality and authority), its history
    (newest first), its reviews, its pending transfer and the names of the authority's localities
    (retired ones too: the history names them)."""

    person: Person
    history: list[StatusChange]
    reviews: list[Review]
    transfers: list[Transfer]
    locality_names: dict[int, str]


def person_page(user: User, pk: int) -> PersonPage:
    """The person page's read, in a fixed number of queries (`PAGE_HISTORY_SQL` and after)."""
    person = access.person_for_read(user, pk)  # SQL written once (access._person_by_pk)
    authority, localities = _page_places(person.authority_id)
    if authority is not None and person.locality_id in localities:
        person.authority, person.locality = authority, localities[person.locality_id]
    history = _page_history(person.pk)
    return PersonPage(
        person=person,
        history=history,
        reviews=list(prepared.raw(Review, PAGE_REVIEWS_SQL, [person.pk])),
        transfers=_page_transfers(person.pk),
        locality_names={pk: locality.name for pk, locality in localities.items()},
    )


def viewed_person_page(user: User, pk: int) -> PersonPage:
    """The person page's read, audited as a view of the record."""
    page = person_page(user, pk)
    record_read(user, AuditAction.PERSON_VIEWED, page.person)
    return page


def row_columns(people: QuerySet[Person]) -> QuerySet:
    """`people` as the register list's rows read them: 12 of the person's 45 columns and their
    locality's name, as named tuples (`rows.ROW_VALUES`). Whole people with their locality and
    authority as model instances cost a 50-row page about 1.5 ms more in Python, for values no
    row shows."""
    return people.select_related(None).values_list(*ROW_VALUES, named=True)


def record_read(
    user: User,
    action: AuditAction,
    obj: Any,
    *,
    authority_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """The audit row for a read of identifying data (a page shown, a file downloaded). The reads
    that audit themselves call it beside the read; a page whose form can still succeed calls it
    only when the page is shown."""
    record_event(user, action, authority_id=authority_id, obj=obj, changes=changes)


def searched_page(
    user: User,
    people: QuerySet[Person],
    number: Any,
    *,
    per_page: int,
    count: int | None,
    search: str,
    authority_id: int | None,
    rows: QuerySet | None = None,
) -> Page:
    """`page_of_people`, and for a search (by CHI number above all, a read of identifying data)
    one audit row per results page."""
    page = page_of_people(people, number, per_page=per_page, count=count, rows=rows)
    record_search(user, page, search, authority_id=authority_id)
    return page


def record_search(user: User, page: Page, search: str, *, authority_id: int | None) -> None:
    """The audit row of a search's results page (none when the list was not searched)."""
    if search:
        record_read(
            user,
            AuditAction.PEOPLE_SEARCHED,
            None,
            authority_id=authority_id,
            changes={
                "by_chi_number": any(word.isdigit() for word in search.split()),
                "people": [person.pk for person in page],
            },
        )


def transfers_of(user: User, person: Person) -> list[Transfer]:
    """The transfers of a person the user has already read, with the receiving authority."""
    return list(person.transfers.select_related("to_authority").all())


def host_area_authorities(*, authority_id: int | None) -> list[tuple[str, str]]:
    """The authorities in Scotland a person of `authority_id` can be placed in (every other one),
    as (code, name), by name. The one read of host areas: forms add the nations outside Scotland
    as choices, the API lists them by code, and the services check codes against them. Reference
    data, the same for every user, so no scope is taken."""
    others = IntegrationAuthority.objects.exclude(pk=authority_id).order_by("name")
    return list(others.values_list("code", "name"))


def authority_by_code(code: str) -> IntegrationAuthority | None:
    """The authority with this HSCP code, if any. Reference data: whether the caller may see
    anything of it is the caller's question (a returns view asks `require_member`)."""
    return IntegrationAuthority.objects.filter(code=code).first()


def host_area_codes(*, authority_id: int | None) -> set[str]:
    """Every host area code open to the authority's placements, outside Scotland included."""
    return {code for code, _ in host_area_authorities(authority_id=authority_id)} | {
        str(choice) for choice in HostAreaOutsideScotland.values
    }


def person_row(user: User, pk: int) -> Person:
    """One person as a row of the register list shows them (with their locality)."""
    return access.person_for_read(user, pk, Person.objects.select_related("locality"))


def localities_for(
    user: User,
    *,
    write: bool = False,
    authority_id: int | None = None,
    active: bool = False,
    exclude: int | None = None,
) -> QuerySet[Locality]:
    """The localities the user may read (or, with `write`, change records in), optionally those
    of one authority, only active ones, and without one (the person's own, when moving them)."""
    localities = access.localities(user, write=write)
    if active:
        localities = localities.active()
    if authority_id is not None:
        localities = localities.filter(authority_id=authority_id)
    if exclude is not None:
        localities = localities.exclude(pk=exclude)
    return localities


def localities_by_id(user: User, *, authority_id: int) -> dict[int, Locality]:
    """Every locality of the API client's authority by id, read once for a bulk request (the
    items' locality field checks against it, as it would against the authority's list)."""
    return {
        locality.pk: locality for locality in Locality.objects.filter(authority_id=authority_id)
    }


def locality_move_targets(user: User, locality: Locality) -> QuerySet[Locality]:
    """The active localities of the locality's authority that its people can be moved to (for
    its lead, who was checked when the locality was read)."""
    return (
        Locality.objects.active().filter(authority_id=locality.authority_id).exclude(pk=locality.pk)
    )


# The audit trail's reads of a person: the page, the profile page and the profile PDF.
VIEW_ACTIONS = (
    AuditAction.PERSON_VIEWED,
    AuditAction.PERSON_PROFILE_VIEWED,
    AuditAction.PERSON_PROFILE_DOWNLOADED,
)


def audit_events(user: User, *, authority_id: int) -> QuerySet[AuditEvent]:
    """The authority's audit trail, newest first: for its lead only (403 for other staff)."""
    access.require_lead(user, authority_id)
    return AuditEvent.objects.filter(authority_id=authority_id).order_by("-at", "-id")


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as the log shows it: the event as a sentence, its object by name (and a link
    to the person's record when it is one), its details in words."""

    event: AuditEvent
    sentence: str
    object_name: str
    person_id: int | None
    details: list[str]


def _name_people(ids: list[str]) -> dict[str, str]:
    people = Person.objects.filter(pk__in=ids).only(
        "given_name", "preferred_name", "family_name", "local_reference"
    )
    return {str(p.pk): f"{p.display_name} ({p.local_reference})" for p in people}


def _quoted(name: str) -> str:
    return f"\u2018{name}\u2019"


def _namer(app_model: str, related: tuple[str, ...], name) -> Any:
    def names(ids: list[str]) -> dict[str, str]:
        from django.apps import apps

        model = apps.get_model(app_model)
        found = model._base_manager.filter(pk__in=ids).select_related(*related)
        return {str(o.pk): name(o) for o in found}

    return names


# How the log names each kind of object (the `object_type` column is the model's name); each
# kind costs one query per page however many rows name it. An object that is gone (an erased
# entry, a removed client) or out of the scope keeps its kind and number.
AUDIT_OBJECT_NAMES: dict[str, tuple[str, Any]] = {
    "person": ("Person", _name_people),
    "user": ("User", _namer("accounts.User", (), str)),
    "apiclient": (
        "API client",
        _namer("accounts.ApiClient", (), lambda o: f"API client {_quoted(o.name)}"),
    ),
    "membership": (
        "Role",
        _namer(
            "accounts.Membership",
            ("user",),
            lambda o: f"{o.user}: {o.get_role_display().lower()}",
        ),
    ),
    "identityprovider": (
        "Sign-in provider",
        _namer("accounts.IdentityProvider", (), lambda o: f"Sign-in provider {_quoted(o.name)}"),
    ),
    "locality": (
        "Locality",
        _namer("registers.Locality", (), lambda o: f"Locality {_quoted(o.name)}"),
    ),
    "transfer": (
        "Transfer",
        _namer(
            "registers.Transfer",
            ("authority", "to_authority"),
            lambda o: f"Transfer from {o.authority.name} to {o.to_authority.name}",
        ),
    ),
    "importbatch": (
        "Register file",
        _namer("registers.ImportBatch", (), lambda o: f"Register file {_quoted(o.filename)}"),
    ),
    "authorityreturn": (
        "Return",
        _namer(
            "reporting.AuthorityReturn",
            ("authority",),
            lambda o: f"{o.authority.name} return for {labels.display_date(o.census_date)}",
        ),
    ),
    "censussnapshot": (
        "Census snapshot",
        _namer(
            "reporting.CensusSnapshot",
            (),
            lambda o: f"Census snapshot of {labels.display_date(o.census_date)}",
        ),
    ),
    "reportjob": ("Report", _namer("reporting.ReportJob", (), lambda o: o.get_kind_display())),
}


def _audit_value(key: str, value: Any) -> Any:
    if isinstance(value, str) and labels.is_authority_code(value):
        return labels.host_area(value)
    shown = labels.field_value(key, value)
    if isinstance(shown, list | tuple):
        return ", ".join(str(v) for v in shown)
    return shown


def _is_change(key: str, value: Any) -> bool:
    """Whether a detail is an [old, new] pair (as history and most audit rows store a change)
    rather than one value (a list of risk factors is one value; two lists are a change)."""
    if not (isinstance(value, list) and len(value) == 2):
        return False
    if key == "risk_factors":
        return all(v is None or isinstance(v, list) for v in value)
    return True


def _audit_details(changes: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in changes.items():
        name = key[:1].upper() + key[1:].replace("_", " ")
        if _is_change(key, value):
            old, new = (_audit_value(key, v) if v not in (None, "", []) else "" for v in value)
            lines.append(f"{name}: {old or 'blank'} to {new or 'blank'}")
        else:
            lines.append(f"{name}: {_audit_value(key, value)}")
    return lines


def audit_entries(events: list[AuditEvent]) -> list[AuditEntry]:
    """A page of the audit log in words: one query per kind of object named on the page (a
    constant number, whatever the page holds), never one per row."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in AUDIT_OBJECT_NAMES and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    names = {kind: AUDIT_OBJECT_NAMES[kind][1](sorted(ids)) for kind, ids in wanted.items()}
    actions = dict(AuditAction.choices)
    entries = []
    for event in events:
        kind = event.object_type
        if not kind:
            object_name = ""
        else:
            word = AUDIT_OBJECT_NAMES.get(kind, (kind.capitalize(), None))[0]
            object_name = names.get(kind, {}).get(event.object_id) or f"{word} {event.object_id}"
        entries.append(
            AuditEntry(
                event=event,
                sentence=str(actions.get(event.action, event.action)),
                object_name=object_name,
                person_id=int(event.object_id) if kind == "person" and event.object_id else None,
                details=_audit_details(event.changes or {}),
            )
        )
    return entries


def recent_viewers(user: User, person: Person, *, limit: int = 10) -> list[AuditEvent]:
    """Who has recently read the person's record (the page, the profile page or its PDF)."""
    if not access.can_see_viewers(user, person):
        return []
    return list(
        AuditEvent.objects.filter(
            authority_id=person.authority_id,
            object_type="person",
            object_id=str(person.pk),
            action__in=VIEW_ACTIONS,
        ).order_by("-at", "-id")[:limit]
    )


def import_batches(user: User, *, authority_id: int | None, limit: int = 10) -> list[ImportBatch]:
    """The latest imports of an authority the user leads (lead only; others get none)."""
    if not access.is_lead(user, authority_id):
        return []
    return list(
        ImportBatch.objects.filter(authority_id=authority_id).select_related("uploaded_by")[:limit]
    )


def import_batch(user: User, pk: int) -> ImportBatch:
    """One import of an authority the user leads. Staff who lead no authority are refused (403)
    before any lookup, so the answer never tells them whether an import exists; anyone else gets
    404 for another authority's imports and for ones that do not exist alike."""
    access.require_lead_somewhere(user)
    batch = (
        ImportBatch.objects.filter(pk=pk, authority_id__in=access.led_authority_ids(user))
        .select_related("authority", "uploaded_by")
        .first()
    )
    if batch is None:
        raise access.out_of_scope(user, "import", pk, "No such import.")
    return batch


def api_people(user: User, *, authority_id: int) -> QuerySet[Person]:
    """An API client's register, leavers included (a sync needs to learn who left). Their
    authority is the client's own: `with_authority` gives it to each person of a page rather
    than joining it again for every row (a hundred identical instances a page)."""
    return access.visible_people(user).filter(authority_id=authority_id)


def api_person(user: User, person_id: int, *, authority: IntegrationAuthority) -> Person:
    """One person of an API client's register (leavers included), or 404. Their authority is the
    client's own, already read with its token: given to the record rather than joined again."""
    person = access.person_for_read(user, person_id, authority_id=authority.pk)
    return with_authority(person, authority)


def with_authority(person: Person, authority: IntegrationAuthority) -> Person:
    """The person with `authority` as their loaded authority, when it is theirs (no query)."""
    if person.authority_id == authority.pk:
        Person.authority.field.set_cached_value(person, authority)
    return person


def person_history(user: User, person_id: int) -> QuerySet[StatusChange]:
    person = access.person_for_read(user, person_id)
    return StatusChange.objects.filter(
        authority_id=person.authority_id, person=person
    ).select_related("changed_by")


def person_reviews(user: User, person_id: int) -> QuerySet[Review]:
    person = access.person_for_read(user, person_id)
    return Review.objects.filter(authority_id=person.authority_id, person=person)


def localities_of(user: User, *, authority_id: int) -> QuerySet[Locality]:
    return localities_for(user).filter(authority_id=authority_id).order_by("name")


def locality_overview(user: User, *, authority_id: int) -> QuerySet[Locality]:
    """The authority's localities for its lead, active first, each with how many people are on
    the register there, how many left while there, and how many staff are granted it: one query
    whatever the number of localities."""
    from django.db.models import F, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from accounts.models import LocalityUserObjectPermission

    from .access import require_lead

    require_lead(user, authority_id)

    def people(left: bool) -> Subquery:
        counted = (
            Person.objects.filter(
                authority_id=authority_id, locality=OuterRef("pk"), date_left__isnull=not left
            )
            .order_by()
            .values("locality")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    staff = (
        LocalityUserObjectPermission.objects.filter(content_object=OuterRef("pk"))
        .order_by()
        .values("content_object")
        .annotate(n=Count("user", distinct=True))
        .values("n")
    )
    return (
        Locality.objects.filter(authority_id=authority_id)
        .annotate(
            on_register=people(False),
            left_register=people(True),
            staff_granted=Coalesce(Subquery(staff, output_field=IntegerField()), 0),
        )
        .order_by(F("retired_at").asc(nulls_first=True), "name")
    )


def people_in_locality(user: User, locality: Locality) -> QuerySet[Person]:
    """Everyone on the register in the locality (for the lead moving people between
    localities), by family name."""
    return (
        access.visible_people(user)
        .on_register()
        .filter(authority_id=locality.authority_id, locality=locality)
        .only("pk", "given_name", "family_name", "preferred_name", "local_reference")
        .order_by("family_name", "given_name", "pk")
    )
