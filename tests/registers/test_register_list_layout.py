"""The register list as people scan it: date of birth to tell namesakes apart, references kept
whole, count cards that are links within the current filters, plurals, and "my caseload"."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def refs(response) -> set[str]:
    return {p.local_reference for p in response.context["page"].object_list}


def test_namesakes_are_told_apart_by_date_of_birth_and_age(client, lead, nithsdale):
    today = timezone.localdate()
    born = dt.date(today.year - 30, 1, 1)
    PersonFactory(locality=nithsdale, given_name="Sam", family_name="Reid", date_of_birth=born)
    PersonFactory(
        locality=nithsdale, given_name="Sam", family_name="Reid", date_of_birth=dt.date(1990, 6, 2)
    )
    client.force_login(lead)
    body = client.get("/register/").content.decode()
    assert '<th scope="col">Date of birth</th>' in body
    assert f'1 Jan {born.year} <span class="dsr-muted">(age 30)</span>' in body
    assert "2 Jun 1990" in body


def test_references_are_never_broken_across_lines(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, local_reference="DG-2024-000123")
    client.force_login(lead)
    body = client.get("/register/").content.decode()
    assert '<td class="dsr-nowrap">DG-2024-000123</td>' in body


@pytest.mark.parametrize(
    ("how_many", "sentence"),
    [(1, "1 person matches your filters"), (2, "2 people match your filters")],
)
def test_the_result_count_is_a_sentence_with_the_right_plural(
    client, lead, nithsdale, how_many, sentence
):
    PersonFactory.create_batch(how_many, locality=nithsdale, at_risk=True)
    PersonFactory(locality=nithsdale)
    client.force_login(lead)
    assert sentence in client.get("/register/", {"category": "urgent"}).content.decode()


def test_the_unfiltered_count_says_one_person_or_many_people(client, lead, nithsdale):
    client.force_login(lead)
    PersonFactory(locality=nithsdale)
    assert ">1 person</p>" in client.get("/register/").content.decode()
    PersonFactory(locality=nithsdale)
    assert ">2 people</p>" in client.get("/register/").content.decode()


def test_count_cards_count_within_the_other_filters_and_link_to_their_category(
    client, lead, nithsdale, stewartry
):
    PersonFactory(locality=nithsdale, at_risk=True)
    PersonFactory(locality=stewartry, at_risk=True)
    PersonFactory(locality=stewartry, in_hospital=True)
    client.force_login(lead)
    response = client.get("/register/", {"locality": stewartry.pk, "page": "1"})
    cards = response.context["cards"]
    assert cards["total"] == 2
    assert cards["narrowed"] is True
    urgent = next(card for card in cards["cards"] if card["key"] == "urgent")
    assert urgent["n"] == 2
    assert urgent["url"] == f"?locality={stewartry.pk}&category=urgent"
    hospital = next(card for card in cards["cards"] if card["key"] == "urgent:in_hospital")
    assert hospital["url"] == f"?locality={stewartry.pk}&category=urgent&urgent_reason=in_hospital"
    body = response.content.decode()
    assert f'href="/register/?locality={stewartry.pk}&amp;category=urgent"' in body
    assert "match your search and other filters" in body


def test_the_chosen_category_card_is_marked_current(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, at_risk=True)
    client.force_login(lead)
    response = client.get("/register/", {"category": "urgent"})
    current = [card["key"] for card in response.context["cards"]["cards"] if card["current"]]
    assert current == ["urgent"]
    assert response.context["cards"]["total_current"] is False
    assert response.content.decode().count('aria-current="true"') >= 1


def test_an_htmx_filter_also_refreshes_the_count_cards(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, at_risk=True)
    client.force_login(lead)
    body = client.get("/register/", {"q": "zzz"}, HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'id="register-counts" hx-swap-oob="true"', body)


def test_my_caseload_is_the_people_whose_key_worker_is_me(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, local_reference="MINE1", key_worker_name=" alex LEAD ")
    PersonFactory(locality=nithsdale, local_reference="MINE2", key_worker_name="Alex Lead")
    PersonFactory(locality=nithsdale, local_reference="THEIRS", key_worker_name="Alex Leader")
    PersonFactory(locality=nithsdale, local_reference="NONE", key_worker_name="")
    lead.first_name, lead.last_name = "Alex", "Lead"
    lead.save()
    client.force_login(lead)
    response = client.get("/register/", {"key_worker": "me"})
    assert refs(response) == {"MINE1", "MINE2"}
    assert response.context["cards"]["total"] == 2


def test_a_user_without_a_name_has_an_empty_caseload(client, lead, nithsdale):
    PersonFactory(locality=nithsdale, key_worker_name="")
    lead.first_name = lead.last_name = ""
    lead.save()
    client.force_login(lead)
    assert refs(client.get("/register/", {"key_worker": "me"})) == set()


@pytest.mark.parametrize("rows", [5, 300])
def test_filtered_counts_and_caseload_keep_the_query_count_constant(
    client, lead, nithsdale, rows, django_assert_max_num_queries, settings
):
    settings.DSR_PAGE_SIZE = 500
    PersonFactory.create_batch(
        rows, locality=nithsdale, at_risk=True, chi_number=None, key_worker_name="Alex Lead"
    )
    lead.first_name, lead.last_name = "Alex", "Lead"
    lead.save()
    client.force_login(lead)
    client.get("/register/")
    query = {"key_worker": "me", "locality": nithsdale.pk, "category": "urgent", "q": ""}
    with django_assert_max_num_queries(17):
        response = client.get("/register/", query)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows
