"""Every access decision goes through registers/access.py.

No other product module or template tests roles, national flags or authority lists itself: it asks
the access module a named question. The scan discovers both sides, as the row-level security test
discovers tenant tables: the files are every Python module of the project's own apps (migrations
aside) and every template; the decisions are the members of `access.Scope`, the ways to obtain a
scope, and the user's national flag.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

from registers import access
from registers.models import scoped_rows

ROOT = Path(settings.BASE_DIR)
# The door itself, and the template filters that ask it about one object.
DOORS = {ROOT / "registers" / "access.py", ROOT / "registers" / "templatetags" / "access.py"}
# The function that applies a scope the access module built to people and to their counts (its
# `visible_people`, `writable_people` and `visible_counts` are the way in): it reads the scope,
# and decides nothing.
SCOPE_APPLIERS = [scoped_rows]
# The flag a national analyst's scope is built from (a field of the user model).
NATIONAL_FLAG = "is_national_analyst"


def _model_attributes() -> set[str]:
    """Names any model answers to (fields, their `_id` columns, reverse relations): a read of
    `authority.localities` is a relation, not a decision, so such names are left to the checks on
    how a scope is obtained."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            names.add(field.name)
            names.add(getattr(field, "attname", field.name))
            if field.is_relation and field.auto_created:
                names.add(field.get_accessor_name())
    return names


def decision_names() -> set[str]:
    """What a scope knows and answers: its fields, properties and methods."""
    members = {name for name, _ in inspect.getmembers(access.Scope) if not name.startswith("_")}
    fields = {field.name for field in dataclasses.fields(access.Scope)}
    return ((members | fields) - _model_attributes()) | {NATIONAL_FLAG}


def decision_pattern() -> re.Pattern[str]:
    names = "|".join(sorted(map(re.escape, decision_names())))
    # An attribute read of a decision (not the access module's function of the same name), or
    # obtaining a scope to ask it directly.
    return re.compile(rf"(?<!access)\.(?:{names})\b|\bscope_for\(|\bScope\(|_dsr_scope\b")


def product_files() -> list[Path]:
    """The project's own apps (by where they live) with their templates, and the template dirs."""
    roots = [
        Path(app.path)
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(ROOT) and "site-packages" not in Path(app.path).parts
    ]
    roots.append(ROOT / "dsr")
    files = [
        path
        for root in roots
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and path not in DOORS
    ]
    for template_dirs in (entry["DIRS"] for entry in settings.TEMPLATES):
        files += [path for folder in template_dirs for path in Path(folder).rglob("*.html")]
    for root in roots:
        files += list((root / "templates").rglob("*.html"))
    return sorted(set(files))


def _applier_lines() -> set[tuple[Path, int]]:
    lines = set()
    for function in SCOPE_APPLIERS:
        source, first = inspect.getsourcelines(function)
        path = Path(inspect.getsourcefile(function))
        lines |= {(path, number) for number in range(first, first + len(source))}
    return lines


def decisions_in(path: Path) -> list[str]:
    pattern = decision_pattern()
    skipped = _applier_lines()
    text = path.read_text(encoding="utf-8")
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if pattern.search(line) and (path, number) not in skipped
    ]


def test_no_access_decision_is_made_outside_the_access_module():
    found = [hit for path in product_files() for hit in decisions_in(path)]
    assert found == [], "Ask registers/access.py a named question instead:\n" + "\n".join(found)


def test_the_scan_covers_every_app_and_the_templates():
    files = {path.relative_to(ROOT).parts[0] for path in product_files()}
    assert {"registers", "accounts", "reporting", "dsr", "templates"} <= files


def test_the_scan_recognises_the_decisions_the_access_module_makes():
    names = decision_names()
    assert {"lead_authorities", "authority_ids", "can_write_locality", NATIONAL_FLAG} <= names
    hits = decisions_in(ROOT / "registers" / "access.py")
    assert any(".lead_authorities" in hit for hit in hits)
    assert any("scope_for(" in hit for hit in hits)


# Thin views: the modules that answer URLs (found from the URL configuration, as the role x
# endpoint test finds its pages) read through selectors and write through services. An empty
# queryset for a schema generator (`.objects.none()`) reads nothing.
INLINE_QUERY = re.compile(r"\.objects\.(?!none\(\))")
AUDIT_WRITE = re.compile(r"\brecord_events?\(")


def view_modules() -> set[Path]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[Path] = set()

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                module = inspect.getmodule(inspect.unwrap(pattern.callback))
                path = Path(inspect.getsourcefile(module)) if module else None
                if path and path.is_relative_to(ROOT) and "site-packages" not in path.parts:
                    found.add(path)

    walk(get_resolver().url_patterns)
    # A views package's helpers (`common.py`) answer no URL themselves but are part of the views.
    return found | {
        sibling
        for path in found
        if path.parent.name == "views"
        for sibling in path.parent.glob("*.py")
    }


def test_the_scan_finds_the_views_of_every_app_and_the_api():
    names = {str(path.relative_to(ROOT)) for path in view_modules()}
    assert {
        "registers/views/people.py",
        "accounts/views/staff.py",
        "reporting/views.py",
        "registers/api/views.py",
        "reporting/api/views.py",
    } <= names


def test_views_write_no_queries_and_no_audit_rows_of_their_own():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(view_modules())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if INLINE_QUERY.search(line) or AUDIT_WRITE.search(line)
    ]
    assert found == [], "Call a selector (reads, audited reads) or a service:\n" + "\n".join(found)
