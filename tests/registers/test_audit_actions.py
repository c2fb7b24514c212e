"""Audit actions are one list (`AuditAction`), not free strings at each writer.

The scan finds the writers' calls in every product module, as the access-door test finds access
decisions: an action named by a literal string or an unchecked f-string is a new free string.
"""

from __future__ import annotations

import ast
from pathlib import Path

from registers import reminders
from registers.audit import AuditAction
from registers.codes import ChangeKind, TransferStatus
from reporting.models import ReturnStatus

from .test_access_door import ROOT, product_files

# The writers of audit rows, and where each takes its action.
WRITERS = {
    "record_event": 1,
    "record_account_event": 1,
    "record_read": 1,
    "delete_job_file": None,
    "_delete_person_files": None,
}
# The access module is the lead's to change; its few actions are checked against the list.
STRINGS_ALLOWED_IN = {ROOT / "registers" / "access.py"}


def _action_arguments(tree: ast.AST) -> list[ast.expr]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in WRITERS:
            continue
        position = WRITERS[name]
        if position is not None and len(node.args) > position:
            found.append(node.args[position])
        found += [keyword.value for keyword in node.keywords if keyword.arg == "action"]
    return found


def _outside_conversions(node: ast.AST) -> list[ast.AST]:
    """The nodes of an action argument, leaving out `AuditAction(...)`: a value built at run time
    (from a kind or a status) is checked by the conversion, and by the test of each family."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AuditAction":
        return []
    nodes = [node]
    for child in ast.iter_child_nodes(node):
        nodes += _outside_conversions(child)
    return nodes


def _free_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for argument in _action_arguments(tree):
        for node in _outside_conversions(argument):
            if isinstance(node, ast.JoinedStr):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                known = node.value in AuditAction.values
                if path not in STRINGS_ALLOWED_IN or not known:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return out


def test_every_audit_writer_names_an_action_from_the_list():
    python = [path for path in product_files() if path.suffix == ".py"]
    found = [hit for path in python for hit in _free_strings(path)]
    assert found == [], "Name an AuditAction member (or AuditAction(...)) instead:\n" + "\n".join(
        found
    )


def test_the_scan_sees_the_writers():
    text = (ROOT / "accounts" / "services.py").read_text(encoding="utf-8")
    assert len(_action_arguments(ast.parse(text))) > 10


def test_actions_built_from_a_kind_or_status_are_all_in_the_list():
    built = [f"person.{kind}" for kind in ChangeKind.values]
    built += [f"transfer.{status}" for status in TransferStatus.values if status != "pending"]
    built += [f"return.{status}" for status in (ReturnStatus.ACCEPTED, ReturnStatus.RETURNED)]
    built += [f"reminder.{kind}" for kind in reminders.TEMPLATES]
    assert set(built) <= set(AuditAction.values)


def test_the_stored_strings_are_the_ones_the_trail_has_always_held():
    assert AuditAction.PERSON_VIEWED == "person.viewed"
    assert AuditAction.LOGIN == "login"
    assert AuditAction.SYSTEM_SCOPE == "system_scope"
    assert AuditAction.ACCESS_REFUSED == "access.refused"
