import pytest
from django.core.management import call_command

from accounts.models import Membership, User
from registers import demo
from registers.models import Person, StatusChange

pytestmark = pytest.mark.django_db


def test_seed_demo_follows_the_national_distribution_and_is_idempotent():
    call_command("seed_demo", "--quiet")
    counts = demo.summary()
    # PHS, 25 Sep 2025: 1,490 people; 385 urgent (171 in hospital, 66 delayed, 34 inappropriate
    # out of area, 180 at risk); of the rest 80% enhanced monitoring, 20% appropriate out of area.
    assert counts["total"] == pytest.approx(1490, abs=15)
    assert counts["urgent"] == pytest.approx(385, abs=8)
    assert counts["in_hospital"] == pytest.approx(171, abs=5)
    assert counts["delayed_discharge"] == pytest.approx(66, abs=4)
    assert counts["inappropriate_out_of_area"] == pytest.approx(34, abs=3)
    assert counts["at_risk_of_breakdown"] == pytest.approx(180, abs=5)
    rest = counts["total"] - counts["urgent"]
    assert counts["enhanced_monitoring"] == pytest.approx(0.8 * rest, abs=10)
    assert counts["appropriate_out_of_area"] == pytest.approx(0.2 * rest, abs=10)
    male = Person.objects.filter(sex="male").count() / counts["total"]
    assert male == pytest.approx(0.627, abs=0.04)
    assert StatusChange.objects.count() / counts["total"] >= 5
    # Status changes proper (not the opening entry, not reviews): at least five each on average.
    assert StatusChange.objects.filter(kind="status").count() / counts["total"] >= 5
    assert Membership.objects.filter(role="lead").count() == 31
    assert User.objects.filter(is_national_analyst=True).count() == 1

    before = (
        Person.objects.count(),
        StatusChange.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    call_command("seed_demo", "--quiet")
    after = (
        Person.objects.count(),
        StatusChange.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    assert after == before


def test_seeded_history_ends_in_each_persons_current_state():
    call_command("seed_demo", "--scale", "0.1", "--quiet")
    for person in Person.objects.prefetch_related("status_changes")[:200]:
        latest = max(person.status_changes.all(), key=lambda c: (c.effective_date, c.version))
        assert latest.state["category"] == person.category
        assert latest.state["urgent_reason"] == person.urgent_reason
        assert person.version == len(person.status_changes.all())


def test_demo_staff_can_sign_in_and_see_their_register(client):
    """Through the real sign-in pages: the password, then the demo lead's second-factor code."""
    call_command("seed_demo", "--scale", "0.1", "--quiet")
    signed_in = client.post(
        "/accounts/login/",
        {"username": "lead.dumfries-and-galloway@demo.dsr.scot", "password": demo.DEMO_PASSWORD},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0].startswith("/accounts/second-factor/")
    client.post("/accounts/second-factor/", {"code": demo.demo_totp_code(), "next": "/register/"})
    response = client.get("/register/")
    assert response.status_code == 200
    assert b"DEMO-" in response.content


def test_demo_practitioners_sign_in_with_their_password_alone(client):
    call_command("seed_demo", "--scale", "0.1", "--quiet")
    client.post(
        "/accounts/login/",
        {
            "username": "practitioner.dumfries-and-galloway@demo.dsr.scot",
            "password": demo.DEMO_PASSWORD,
        },
    )
    assert client.get("/register/").status_code == 200


def test_allocation_splits_exactly_by_weight():
    assert demo.allocate(10, [1, 1, 2]) == [2, 3, 5] or demo.allocate(10, [1, 1, 2]) == [3, 2, 5]
    assert sum(demo.allocate(1490, [w for _c, _n, w in demo.AUTHORITIES])) == 1490
