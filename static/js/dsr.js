// Progressive enhancement only: every page works without this file.
// No inline scripts anywhere (a Content-Security-Policy without 'unsafe-inline' is planned).

function initDesignSystem(scope) {
  if (window.DS && typeof window.DS.initAll === "function") {
    window.DS.initAll(scope);
  }
}

// Sections marked data-show-when="field=value1|value2" show only while that field has one of
// the values (hospital stay only when in hospital, placement only when out of area). Without
// JavaScript they all show and the server ignores what does not apply.
function initConditionalSections(root) {
  root.querySelectorAll("form[data-conditional]").forEach((form) => {
    const sections = form.querySelectorAll("[data-show-when]");
    const update = () => {
      sections.forEach((section) => {
        const [name, wanted] = section.dataset.showWhen.split("=");
        const checked = form.querySelector(`[name="${name}"]:checked`);
        const value = checked ? checked.value : "";
        section.hidden = !wanted.split("|").includes(value);
      });
    };
    form.addEventListener("change", update);
    update();
  });
}

function focusErrorSummary(root) {
  const summary = root.querySelector(".ds_error-summary");
  if (summary) {
    summary.focus();
  }
}

// One polite live region for the whole page, there from the start so that screen readers
// announce what is later written into it.
function announcer() {
  let region = document.getElementById("dsr-announcer");
  if (!region) {
    region = document.createElement("div");
    region.id = "dsr-announcer";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.appendChild(region);
  }
  return region;
}

// After an inline update the server marks the change with data-announce: move focus and scroll
// to it (the page may have been scrolled away while the form was open) and announce it.
function showChange() {
  const changed = document.querySelector("[data-announce]");
  if (!changed) return false;
  const message = changed.dataset.announce;
  delete changed.dataset.announce;
  if (!changed.hasAttribute("tabindex")) changed.setAttribute("tabindex", "-1");
  changed.focus({ preventScroll: true });
  changed.scrollIntoView({ block: "center" });
  const region = announcer();
  region.textContent = "";
  // A fresh text node after a tick is announced even when the same words come twice.
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
  return true;
}

// "Print this page" buttons need JavaScript, so they are hidden until it runs.
function initPrintButtons(root) {
  root.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    const item = button.closest("[data-print-item]");
    if (item) item.hidden = false;
    button.addEventListener("click", () => window.print());
  });
}

document.addEventListener("DOMContentLoaded", () => {
  announcer();
  initPrintButtons(document);
  initDesignSystem(document);
  initConditionalSections(document);
  focusErrorSummary(document);
});

// After htmx swaps content in, wire it up and move focus where a keyboard user expects it.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  const root = target.isConnected ? target : document;
  initConditionalSections(root);
  if (showChange()) return;
  const form = document.querySelector(".dsr-quick-row form");
  if (form && event.detail.elt.closest && !event.detail.elt.closest("form")) {
    const first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
    return;
  }
  focusErrorSummary(root);
});
