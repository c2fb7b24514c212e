"""axe-core (from npm, served locally) run against the main pages: no serious or critical
violations. It is added as an init script, which a Content-Security-Policy does not block."""

import pytest

from tests.browser.conftest import VENDOR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUN_AXE = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations
    .filter(v => ["serious", "critical"].includes(v.impact))
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


def test_the_main_pages_have_no_serious_accessibility_violations(
    signed_in, lead, varied_register, other_authority
):
    person = varied_register
    page = signed_in(lead, init_script=(VENDOR / "axe-core" / "axe.min.js").read_text())
    pages = [
        "/register/",
        "/register/?category=urgent",
        f"/register/people/{person.pk}/",
        "/register/add/",
        f"/register/people/{person.pk}/status/",
        f"/register/people/{person.pk}/review/",
        f"/register/people/{person.pk}/leave/",
        "/register/reviews/",
        "/register/transfers/",
        "/register/dashboard/",
        "/staff/",
        "/staff/add/",
        f"/register/people/{person.pk}/quick-status/",
        "/register/people/999999/",
        "/accounts/login/",
        "/reporting/",
    ]
    problems = {}
    for path in pages:
        page.goto(path)
        found = page.evaluate(RUN_AXE)
        if found:
            problems[path] = found
    # A form with errors, with its error summary.
    page.goto("/register/add/")
    page.get_by_role("button", name="Add to the register").click()
    page.wait_for_selector("#error-summary")
    found = page.evaluate(RUN_AXE)
    if found:
        problems["/register/add/ (errors)"] = found
    assert problems == {}
