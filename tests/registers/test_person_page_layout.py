"""The person page reads top down: identity and current status first, the timeline last; the
actions are grouped, the status change has one name, and removals look like what they are."""

import pytest

pytestmark = pytest.mark.django_db


def page_of(client, user, person) -> str:
    client.force_login(user)
    return client.get(f"/register/people/{person.pk}/").content.decode()


def test_identity_and_status_come_before_the_timeline(client, lead, person):
    body = page_of(client, lead, person)
    identity = body.index('id="identity-title"')
    status = body.index('id="status-title"')
    placement = body.index("Placement in the authority")
    timeline = body.index('id="timeline-title"')
    assert identity < status < placement < timeline


def test_the_status_change_is_called_update_status_everywhere(client, lead, person):
    body = page_of(client, lead, person)
    assert '<summary class="ds_details__summary">Update status</summary>' in body
    assert f'<a href="/register/people/{person.pk}/status/">Update status</a>' in body
    assert "Record a new rating or category" not in body
    assert "Change status, hospital stay or placement" not in body
    status_page = client.get(f"/register/people/{person.pk}/status/").content.decode()
    assert f"<h1>Update status: {person.display_name}</h1>" in status_page


def test_removals_are_grouped_apart_and_styled_as_warnings(client, lead, person):
    body = page_of(client, lead, person)
    removals = body[body.index('id="remove-actions"') :]
    removals = removals[: removals.index("</div>")]
    assert "ds_button--cancel" in removals  # the design system's warning button
    assert "Remove from the register" in removals
    assert "Erase an entry added in error" in removals
    changes = body[body.index('id="change-actions"') :]
    changes = changes[: changes.index("</ul>")]
    assert "Edit details" in changes
    assert "Remove from the register" not in changes


def test_a_practitioner_can_remove_but_not_erase(client, practitioner, person):
    body = page_of(client, practitioner, person)
    assert "Remove from the register" in body
    assert "Erase an entry added in error" not in body


def test_a_viewer_is_told_the_access_is_read_only_and_gets_no_actions(client, viewer, person):
    body = page_of(client, viewer, person)
    assert 'id="read-only-notice"' in body
    assert "You have read-only access." in body
    assert 'id="change-actions"' not in body
    assert 'id="remove-actions"' not in body
    client.force_login(viewer)
    assert 'id="read-only-notice"' in client.get("/register/").content.decode()


@pytest.mark.parametrize("role", ["lead", "practitioner"])
def test_staff_who_can_change_records_get_no_read_only_notice(client, request, role, person):
    body = page_of(client, request.getfixturevalue(role), person)
    assert 'id="read-only-notice"' not in body


def test_the_inline_update_answers_with_the_change_to_announce_and_the_new_timeline(
    client, practitioner, person
):
    client.force_login(practitioner)
    response = client.post(
        f"/register/people/{person.pk}/quick-status/",
        {
            "from": "person",
            "version": person.version,
            "status": "enhanced_monitoring",
            "risk_rating": "red",
            "reason": "Provider has given notice",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert f'data-announce="Status updated for {person.display_name}: ' in body
    assert 'id="timeline" aria-labelledby="timeline-title" hx-swap-oob="true"' in body
    assert "Why: Provider has given notice" in body
