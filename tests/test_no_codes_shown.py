"""Labels, never codes: no page or PDF people read shows a code from registers/codes.py (or the
return's bands, or an audit action) where a label exists.

The data uses every code: a person for every hospital type, legal status, delay reason, host area
and placement type, every risk factor and rating, sex and referral source, one who left for each
leaving reason (through the service, so the timeline names the change), transfers in every state,
and a built return. The main pages are rendered for it, and the PDFs are read back with pypdf.

Which codes are checked: every code that is not a plain word (`carer_breakdown`,
`login.second_factor`, `<6m`, `S37000034`), and the ways a code has been shown before (with its
underscores cut, `carerbreakdown`, or turned into spaces, `transferred to other ia`, where that
is not part of its label in lower case). A one-word code (`urgent`, `pending`) reads as a word in a
sentence, so a page cannot be told apart from prose by its text alone; such codes whose label is
the same word are fine as they are, and the labels of the others are checked on the pages by
the tests of those pages.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from django.db import models
from pypdf import PdfReader

from registers import codes, data_protection
from registers.audit import AuditAction
from registers.authorities import AUTHORITIES
from registers.services import people as people_services
from registers.services import transfers as transfer_services
from reporting.models import JobKind, JobStatus, ReturnStatus
from reporting.tables import BAND_LABELS
from tests.factories import PersonFactory
from tests.reporting.conftest import CENSUS, build_return, run

pytestmark = pytest.mark.django_db

CODE_LISTS: list[type[models.TextChoices]] = [
    value
    for value in vars(codes).values()
    if isinstance(value, type)
    and issubclass(value, models.TextChoices)
    and value is not models.TextChoices
] + [ReturnStatus, JobKind, JobStatus, AuditAction]


def _forbidden() -> set[str]:
    found: set[str] = set()
    for choices in CODE_LISTS:
        for value, label in choices.choices:
            if re.fullmatch(r"[A-Za-z]+", value):
                continue  # a plain word (see the module's docstring)
            found.add(value)
            if "_" in value:
                found.add(value.replace("_", ""))
                spaced = value.replace("_", " ")
                if spaced not in str(label).lower().replace("-", " "):
                    found.add(spaced)
    found |= set(BAND_LABELS)
    found |= {code for code, _name, _weight in AUTHORITIES}
    return found


FORBIDDEN = _forbidden()
PATTERN = re.compile(
    r"(?<![\w<>.+-])("
    + "|".join(re.escape(c) for c in sorted(FORBIDDEN, key=len, reverse=True))
    + r")(?![\w<>+-]|\.\w)"
)


class _Text(HTMLParser):
    """The text a person sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def codes_in(text: str) -> set[str]:
    return {m.group(1) for m in PATTERN.finditer(text)}


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


@pytest.fixture
def register(nithsdale, stewartry, leith, lead, authority, other_authority, other_lead):
    """People that between them use every code; transfers in every state."""
    made = []
    cycle = lambda choices, i: list(choices)[i % len(choices)]  # noqa: E731
    for i in range(6):
        made.append(
            PersonFactory(
                locality=nithsdale,
                in_hospital=True,
                sex=cycle(codes.Sex, i),
                referral_source=cycle(codes.ReferralSource, i),
                hospital_type=cycle(codes.HospitalType, i),
                legal_status=cycle(codes.LegalStatus, i),
                ready_for_discharge_date=dt.date(2024, 3, 1),
                delay_reason=cycle(codes.DelayReason, i),
            )
        )
    hosts = [*codes.HostAreaOutsideScotland, "S37000034"]
    for i, host in enumerate(hosts):
        made.append(
            PersonFactory(
                locality=stewartry,
                **{"inappropriate_out_of_area" if i % 2 else "appropriate_out_of_area": True},
                host_area=str(host),
                placement_type=cycle(codes.PlacementType, i),
            )
        )
    for rating in codes.RiskRating:
        made.append(
            PersonFactory(
                locality=nithsdale,
                at_risk=rating != codes.RiskRating.GREEN,
                risk_rating=rating,
                risk_factors=[str(f) for f in codes.RiskFactor],
            )
        )
    for reason in codes.LeavingReason:
        someone = PersonFactory(locality=nithsdale, at_risk=True, risk_factors=["carer_breakdown"])
        made.append(
            people_services.remove_from_register(
                lead,
                someone,
                version=someone.version,
                date_left=dt.date(2025, 10, 1),
                leaving_reason=reason,
            )
        )
    for status in ("pending", "accepted", "declined", "cancelled"):
        someone = PersonFactory(locality=nithsdale)
        transfer = transfer_services.request_transfer(
            lead, someone, version=someone.version, to_authority=other_authority, reason="Moving"
        )
        if status == "declined":
            transfer_services.decline_transfer(other_lead, transfer, note="Not ours")
        elif status == "cancelled":
            transfer_services.cancel_transfer(lead, transfer)
        elif status == "accepted":
            transfer_services.accept_transfer(
                other_lead,
                transfer,
                locality=leith,
                local_reference=f"T-{someone.pk}",
            )
    return made


def test_the_data_uses_every_code(register):
    used = {
        field: {
            v
            for p in register
            for v in ([getattr(p, field)] if field != "risk_factors" else p.risk_factors)
        }
        for field in (
            "sex",
            "referral_source",
            "hospital_type",
            "legal_status",
            "delay_reason",
            "placement_type",
            "leaving_reason",
            "risk_rating",
            "risk_factors",
            "category",
            "urgent_reason",
        )
    }
    assert used["hospital_type"] >= set(codes.HospitalType)
    assert used["legal_status"] >= set(codes.LegalStatus)
    assert used["delay_reason"] >= set(codes.DelayReason)
    assert used["placement_type"] >= set(codes.PlacementType)
    assert used["leaving_reason"] >= set(codes.LeavingReason)
    assert used["risk_rating"] >= set(codes.RiskRating)
    assert used["risk_factors"] >= set(codes.RiskFactor)
    assert used["category"] >= set(codes.Category)
    assert used["urgent_reason"] >= set(codes.UrgentReason)
    assert used["sex"] >= set(codes.Sex) and used["referral_source"] >= set(codes.ReferralSource)


def test_the_main_pages_show_labels_not_codes(client, lead, authority, register, settings):
    settings.DSR_PAGE_SIZE = 200
    build_return(authority, CENSUS)
    job = run(JobKind.PERSON_PROFILE, authority=authority, census_date=None, person=register[0])
    client.force_login(lead)
    urls = [
        "/reporting/",
        f"/reporting/jobs/{job.pk}/",
        f"/reporting/people/{register[0].pk}/profile/",
        "/register/files/",
        "/register/",
        "/register/dashboard/",
        "/register/audit/",
        "/register/transfers/",
        "/register/reviews/",
        f"/reporting/{authority.pk}/{CENSUS.isoformat()}/",
        *(f"/register/people/{p.pk}/" for p in register),
    ]
    shown = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        # The national team matches authorities to published statistics by their official code,
        # shown beside the name as a caption ("Fife S37000032"): a code with its label.
        beside_names = {code for code, name, _w in AUTHORITIES if f"{name} {code}" in text}
        found = codes_in(text) - beside_names
        if found:
            shown[url] = found
    assert shown == {}


def test_the_transfer_decision_page_shows_labels_and_a_date_in_words(
    client, other_lead, other_authority, register
):
    from registers.models import Transfer

    pending = Transfer.objects.get(status="pending")
    client.force_login(other_lead)
    text = visible_text(client.get(f"/register/transfers/{pending.pk}/").content.decode())
    assert codes_in(text) == set()
    assert pending.person.date_of_birth.isoformat() not in text
    assert "17 May 1990" in text


def test_the_pdfs_show_labels_not_codes(lead, authority, register):
    build_return(authority, CENSUS)
    found = {}
    summary = run(JobKind.AUTHORITY_PDF, authority=authority, user=lead)
    assert summary.status == "done", summary.error
    found["summary"] = codes_in(pdf_text(summary.output.open("rb").read()))
    for person in register:
        profile = run(
            JobKind.PERSON_PROFILE, authority=authority, census_date=None, person=person, user=lead
        )
        assert profile.status == "done", profile.error
        found[f"profile {person.pk}"] = codes_in(pdf_text(profile.output.open("rb").read()))
    for person in register[:3] + register[-3:]:
        content, _name = data_protection.subject_access_report(lead, person.pk)
        found[f"subject access {person.pk}"] = codes_in(pdf_text(content))
    assert {k: v for k, v in found.items() if v} == {}


def test_a_code_shown_raw_is_caught():
    assert codes_in(visible_text("<p>Risk factors: carer_breakdown, recentcrisis</p>")) == {
        "carer_breakdown",
        "recentcrisis",
    }
    assert codes_in("Left: transferred to other ia; stay <6m; api_client.revoked") == {
        "transferred to other ia",
        "<6m",
        "api_client.revoked",
    }
    assert codes_in(visible_text('<a href="/x?risk=carer_breakdown">Carer breakdown</a>')) == set()


def test_a_return_stored_before_the_bands_had_labels_still_reads_in_words():
    from reporting.documents import grid_sheet

    table = {
        "key": "hospital_stay",
        "title": "Length of stay",
        "rows": [["<6m", "<6m"], ["1-2y", "1-2y"]],
        "columns": [["ld_inpatient", "Learning disability inpatient"]],
        "cells": [[1], [2]],
        "additive": True,
    }
    sheet = grid_sheet(table)
    assert [row[0] for row in sheet.rows] == ["Under 6 months", "1 to 2 years"]


def test_the_national_pages_show_labels_not_codes(client, analyst, lead, authority, register):
    from reporting import services as reporting_services

    ret = reporting_services.submit_return(lead, build_return(authority, CENSUS))
    client.force_login(analyst)
    day = CENSUS.isoformat()
    shown = {}
    for url in (
        f"/reporting/national/{day}/",
        f"/reporting/national/returns/{ret.pk}/",
        f"/reporting/national/{day}/figures/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        # The national team matches authorities to published statistics by their official code,
        # shown beside the name as a caption ("Fife S37000032"): a code with its label.
        beside_names = {code for code, name, _w in AUTHORITIES if f"{name} {code}" in text}
        found = codes_in(text) - beside_names
        if found:
            shown[url] = found
    assert shown == {}
