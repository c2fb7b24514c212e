"""Single rows read with SQL written once (dsr/onerow.py) are the rows, and the instances, the ORM
gives: a person by primary key in a scope (access._person_by_pk against `in_scope`), and an API
client by its token (access._client_by_token against `select_related`); and an audit row
inserted that way is stored as the ORM's INSERT stores it."""

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ApiClient, User
from accounts.services import create_api_client
from dsr import onerow
from registers import access
from registers.models import AuditEvent, IntegrationAuthority, Person
from tests.factories import AuthorityFactory, LocalityFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_models_read_this_way_need_no_database_converter():
    for model in (Person, ApiClient, User, IntegrationAuthority):
        assert onerow.unconverted(model), model


@pytest.fixture
def register():
    authorities = [AuthorityFactory(code=f"S3700000{n}", name=f"Authority {n}") for n in (1, 2)]
    localities = [
        LocalityFactory(authority=a, name=f"{a.name} {n}") for a in authorities for n in (1, 2)
    ]
    for locality in localities:
        PersonFactory.create_batch(2, locality=locality)
    PersonFactory(locality=localities[0], in_hospital=True)
    PersonFactory(locality=localities[3], at_risk=True)
    return authorities, localities, Person.objects.order_by("pk")


def _ids(values: list[int]):
    return st.frozensets(st.sampled_from(values)) if values else st.just(frozenset())


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_person_by_primary_key_is_the_one_in_scope_the_orm_finds(register, data):
    authorities, localities, people = register
    authority_ids = [a.pk for a in authorities]
    locality_ids = [loc.pk for loc in localities]
    person_ids = list(people.values_list("pk", flat=True))
    roles = data.draw(
        st.dictionaries(
            st.sampled_from(authority_ids),
            st.sampled_from(["lead", "practitioner", "viewer", "api_client"]),
        )
    )
    scope = access.Scope(
        user_id=1,
        roles=roles,
        read_localities=data.draw(_ids(locality_ids)),
        write_localities=data.draw(_ids(locality_ids)),
        read_authorities=data.draw(_ids(authority_ids)),
        write_authorities=data.draw(_ids(authority_ids)),
        system=data.draw(st.booleans()),
    )
    pk = data.draw(st.sampled_from([*person_ids, max(person_ids) + 1]))
    write = data.draw(st.booleans())
    lock = data.draw(st.booleans())
    authority_id = data.draw(st.none() | st.sampled_from(authority_ids))

    expected = Person.objects.in_scope(scope, write=write).filter(pk=pk)
    if authority_id is not None:
        expected = expected.filter(authority_id=authority_id)
    expected = expected.first()
    with transaction.atomic():
        found = access._person_by_pk(scope, pk, write=write, lock=lock, authority_id=authority_id)
    if expected is None:
        assert found is None
    else:
        assert isinstance(found, Person) and not found._state.adding
        assert _values(found) == _values(expected)


def test_an_api_client_by_its_token_is_the_orm_s_with_its_user_and_authority(
    authority, lead, django_assert_num_queries
):
    client, token = create_api_client(lead, authority, name="Care First", scopes=["read"])
    expected = ApiClient.objects.select_related("service_user", "authority").get(pk=client.pk)
    found = access._client_by_token(access.token_hash(token))
    assert _values(found) == _values(expected)
    assert _values(found.service_user) == _values(expected.service_user)
    assert _values(found.authority) == _values(expected.authority)
    with django_assert_num_queries(0):
        assert found.service_user.api_client is found
        assert found.authority.code == authority.code
    assert access._client_by_token(access.token_hash("dsr_not-a-real-token")) is None


def _text(size: int) -> st.SearchStrategy[str]:
    # Text PostgreSQL stores: no NUL, no lone surrogate.
    return st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=size
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(
        _text(10),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text(20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text(5), inner),
            max_leaves=6,
        ),
        max_size=4,
    ),
    ip=st.none() | st.ip_addresses().map(str),
    label=_text(200),
    with_actor=st.booleans(),
    with_authority=st.booleans(),
)
def test_an_audit_row_is_stored_as_the_orm_stores_it(
    authority, lead, changes, ip, label, with_actor, with_authority
):
    now = timezone.now()

    def event() -> AuditEvent:
        return AuditEvent(
            authority_id=authority.pk if with_authority else None,
            actor=lead if with_actor else None,
            actor_label=label,
            action="person.viewed",
            object_type="person",
            object_id="42",
            changes=changes,
            ip_address=ip,
            at=now,
        )

    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    AuditEvent._base_manager._insert([event()], fields=fields, returning_fields=None)
    onerow.insert(event())
    ours, django_s = AuditEvent.objects.order_by("-pk")[:2]
    assert _values(ours) | {"id": None} == _values(django_s) | {"id": None}
    assert ours.changes == changes
