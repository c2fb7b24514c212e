"""The one way the service sends email: a plain-text template per message, rendered with a
context, with the service's own address for links.

Templates live in `templates/emails/<name>.txt`; the first line is `Subject: ...`, the rest is
the body. No email carries personal data about people on the register: counts, the authority's
name and a link to sign in (tests/accounts/test_emails.py renders every template to check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string


def site_link(path: str) -> str:
    """An absolute link to a page of the service (DSR_SITE_URL + path)."""
    return settings.DSR_SITE_URL.rstrip("/") + path


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of `templates/emails/<template>.txt`."""
    text = render_to_string(f"emails/{template}.txt", {"site_url": site_link(""), **context})
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"emails/{template}.txt must start with a 'Subject:' line.")
    return first.removeprefix("Subject:").strip(), body.strip() + "\n"


def send_email(to: str | Iterable[str], template: str, context: dict[str, Any]) -> None:
    subject, body = render_email(template, context)
    recipients = [to] if isinstance(to, str) else list(to)
    EmailMessage(subject=subject, body=body, to=recipients).send()


def send_emails(messages: Iterable[tuple[str, str, dict[str, Any]]]) -> int:
    """Send many (to, template, context) over one connection; returns how many were sent."""
    built = []
    for to, template, context in messages:
        subject, body = render_email(template, context)
        built.append(EmailMessage(subject=subject, body=body, to=[to]))
    if not built:
        return 0
    with get_connection() as connection:
        return connection.send_messages(built) or 0
