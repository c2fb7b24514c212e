"""The Content-Security-Policy in a real browser: the service's own scripts run, a script or
event handler injected into the page does not, and normal use triggers no violation."""

import pytest
from playwright.sync_api import expect

from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Added before any page script (init scripts are outside the page's policy): note violations.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__inlineRan = true;";
  document.body.appendChild(script);
  const button = document.createElement("button");
  button.id = "injected";
  button.setAttribute("onclick", "window.__handlerRan = true;");
  button.textContent = "Injected";
  document.body.appendChild(button);
}"""


def test_an_injected_inline_script_and_event_handler_do_not_run(signed_in, lead, nithsdale):
    person = PersonFactory(locality=nithsdale)
    page = signed_in(lead, init_script=WATCH_VIOLATIONS)
    page.goto(f"/register/people/{person.pk}/", timeout=20000)  # the first load warms up
    # The service's own (external) scripts ran: htmx loaded the "who has viewed" table.
    expect(page.locator("#viewers table")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.__cspViolations") == []

    page.evaluate(INJECT)
    page.locator("#injected").click()
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__inlineRan === undefined")
    assert page.evaluate("window.__handlerRan === undefined")
    violations = page.evaluate("window.__cspViolations")
    assert all(v.startswith("script-src") for v in violations), violations


def test_the_main_pages_load_without_any_policy_violation(signed_in, lead, nithsdale):
    person = PersonFactory(locality=nithsdale)
    page = signed_in(lead, init_script=WATCH_VIOLATIONS)
    for path in [
        "/register/",
        f"/register/people/{person.pk}/",
        "/register/add/",
        f"/register/people/{person.pk}/status/",
        "/register/dashboard/",
        "/register/audit/",
        "/staff/",
        "/reporting/",
    ]:
        page.goto(path, timeout=20000)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__cspViolations") == [], path
