"""A client generated from the schema by openapi-python-client (as an integrator would make one)
works the live API end to end: every answer, success or problem, parses into its model without
raising. The generated models refuse anything off the schema (an enum given "", a missing field, a
status not documented), so this is the schema's truth seen from the client's side."""

import datetime as dt
import importlib
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from accounts.services import create_api_client
from reporting.models import AuthorityReturn
from tests.factories import PersonFactory

PACKAGE = "dsr_generated_client"


@pytest.fixture(scope="session")
def generated(tmp_path_factory, django_db_blocker):
    """The client package, generated once per session from the schema, offline (no post hooks,
    so neither ruff nor the network is needed)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    root = tmp_path_factory.mktemp("client")
    with django_db_blocker.unblock():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    (root / "openapi.json").write_bytes(OpenApiJsonRenderer().render(schema, {}))
    (root / "config.yaml").write_text(
        f"package_name_override: {PACKAGE}\nproject_name_override: {PACKAGE}\npost_hooks: []\n"
    )
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
            "--config",
            str(root / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A schema the generator had to skip parts of would make a client missing endpoints.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))


def _api(package, module: str):
    return importlib.import_module(f"{PACKAGE}.api.{module}")


def _models(package):
    return importlib.import_module(f"{PACKAGE}.models")


def _cursor(next_url: str | None) -> str | None:
    if not next_url:
        return None
    return parse_qs(urlparse(next_url).query)["cursor"][0]


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_parses_every_answer_of_every_endpoint(
    generated, live_server, lead, authority, nithsdale, stewartry
):
    m = _models(generated)
    people = [PersonFactory(locality=nithsdale) for _ in range(3)]
    PersonFactory(locality=nithsdale, date_left=dt.date(2025, 1, 1), leaving_reason="died")
    AuthorityReturn.objects.create(
        authority=authority, census_date=dt.date(2026, 3, 31), tables=[], warnings=[]
    )
    _, token = create_api_client(lead, authority, name="Generated", scopes=["read", "write"])
    client = generated.AuthenticatedClient(
        base_url=live_server.url,
        token=token,
        raise_on_unexpected_status=True,
        # No kept-alive connection: its server thread would hold a database session open.
        headers={"Connection": "close"},
    )
    seen: list[str] = []

    def call(module: str, expected: int, **kwargs):
        endpoint = _api(generated, module)
        response = endpoint.sync_detailed(client=client, **kwargs)
        assert response.status_code == expected, (module, response.content[:500])
        assert response.parsed is not None, module
        seen.append(module)
        return response

    # Who am I, the code lists, the localities.
    me = call("me.me_retrieve", 200).parsed
    assert me.authority.code == authority.code
    codes = call("codes.codes_retrieve", 200).parsed
    assert codes.category[0].value == "urgent"
    localities = call("localities.localities_list", 200).parsed
    assert {loc.name for loc in localities} == {"Nithsdale", "Stewartry"}

    # The list, page by page (leavers and people on the register alike).
    ids, cursor = [], None
    while True:
        kwargs = {"page_size": 2} | ({"cursor": cursor} if cursor else {})
        page = call("people.people_list", 200, **kwargs).parsed
        ids += [p.id for p in page.results]
        cursor = _cursor(page.next_)
        if cursor is None:
            break
    assert len(ids) == 4
    leavers = call("people.people_list", 200, on_register=False).parsed
    assert [p.leaving_reason.value for p in leavers.results] == ["died"]

    # Add, read, replace (If-Match), change some fields, by reference, bulk.
    body = m.PersonRequest(
        locality=nithsdale.pk,
        local_reference="GEN-1",
        given_name="Morag",
        family_name="Campbell",
        date_of_birth=dt.date(1988, 3, 14),
        sex=m.SexEnum.FEMALE,
        category=m.CategoryEnum.ENHANCED_MONITORING,
        urgent_reason=None,
        risk_rating=m.RiskRatingEnum.AMBER,
        referral_source=m.ReferralSourceEnum.SOCIAL_WORK,
        reason="Referred by social work",
    )
    added = call("people.people_create", 201, body=body)
    person = added.parsed
    assert person.urgent_reason is None
    assert added.headers["ETag"] == '"1"'
    read = call("people.people_retrieve", 200, person_id=person.id).parsed
    assert read.local_reference == "GEN-1"
    body.key_worker_name = "Iain Ross"
    replaced = call("people.people_update", 200, person_id=person.id, body=body, if_match='"1"')
    assert replaced.parsed.key_worker_name == "Iain Ross"
    patched = call(
        "people.people_partial_update",
        200,
        person_id=person.id,
        body=m.PatchedPersonRequest(risk_rating=m.RiskRatingEnum.RED, reason="Carer unwell"),
        if_match=replaced.headers["ETag"],
    )
    assert patched.parsed.risk_rating == m.RiskRatingEnum.RED
    stale = call(
        "people.people_partial_update",
        412,
        person_id=person.id,
        body=m.PatchedPersonRequest(given_name="Ailsa"),
        if_match='"1"',
    )
    assert stale.parsed.type_ == "urn:dsr:problem:stale-version"
    malformed = call(
        "people.people_partial_update",
        400,
        person_id=person.id,
        body=m.PatchedPersonRequest(given_name="Ailsa"),
        if_match="yesterday",
    )
    assert malformed.parsed.type_ == "urn:dsr:problem:if-match-malformed"

    upsert = m.PersonUpsertRequest.from_dict(body.to_dict() | {"local_reference": "GEN-2"})
    call("people.people_by_reference_update", 201, reference="GEN-2", body=upsert)
    call("people.people_by_reference_update", 200, reference="GEN-2", body=upsert)
    call("people.people_by_reference_retrieve", 200, reference="GEN-2")
    item = m.BulkPersonRequest.from_dict(body.to_dict() | {"local_reference": "GEN-3"})
    bulk = call("people.people_bulk_create", 200, body=m.BulkRequestRequest(people=[item]))
    assert [(r.local_reference, r.created) for r in bulk.parsed.results] == [("GEN-3", True)]

    # History: the list (with the absent codes as None) and a new status change.
    history = call("people.people_status_changes_list", 200, person_id=person.id).parsed
    assert history.results[0].old_category is None
    etag = call("people.people_retrieve", 200, person_id=person.id).headers["ETag"]
    change = call(
        "people.people_status_changes_create",
        201,
        person_id=person.id,
        body=m.StatusChangeCreateRequest(
            category=m.CategoryEnum.ENHANCED_MONITORING,
            risk_rating=m.RiskRatingEnum.GREEN,
            reason="Settled at home",
        ),
        if_match=etag,
    )
    assert change.parsed.new_urgent_reason is None
    call("people.people_status_changes_list", 200, person_id=people[0].pk, page_size=1)

    # Reviews.
    review = call(
        "people.people_reviews_create",
        201,
        person_id=person.id,
        body=m.ReviewRequest(
            review_date=dt.date.today(), attendees="Morag, key worker", outcome="Stable"
        ),
        if_match=change.headers["ETag"],
    )
    assert review.parsed.outcome == "Stable"
    call("people.people_reviews_list", 200, person_id=person.id)

    # Leaving and transfers (reads).
    call("people.people_leave_retrieve", 200, person_id=person.id)
    call("people.people_transfers_list", 200, person_id=person.id)

    # Returns, by id and by HSCP code.
    returns = call("returns.authorities_returns_list", 200, authority_id=authority.pk).parsed
    assert [r.census_date for r in returns] == [dt.date(2026, 3, 31)]
    call(
        "returns.authorities_returns_retrieve",
        200,
        authority_id=authority.pk,
        census_date="2026-03-31",
    )
    call("returns.authorities_by_code_returns_list", 200, authority_code=authority.code)
    missing = call(
        "returns.authorities_returns_retrieve",
        404,
        authority_id=authority.pk,
        census_date="2020-01-01",
    )
    assert missing.parsed.status == 404

    # The change feed, followed from the start to its end.
    after, kinds = None, []
    while True:
        feed = call("changes.changes_retrieve", 200, **({"after": after} if after else {}))
        kinds += [change.kind for change in feed.parsed.changes]
        after = feed.parsed.next_
        if not feed.parsed.has_more:
            break
    assert "created" in {str(kind) for kind in kinds}

    # Problems parse too: an unknown field, an unknown person.
    refused = call(
        "people.people_create",
        400,
        body=m.PersonRequest.from_dict(body.to_dict() | {"keyworker_name": "X"}),
    )
    assert "keyworker_name" in refused.parsed.errors.additional_properties
    call("people.people_retrieve", 404, person_id=999_999)
    assert len(seen) >= 30
