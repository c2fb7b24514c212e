"""The audit trail: who did what, when, in which authority, to which object."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User

    from .models import AuditEvent

# Set by the request middleware so services need not pass the request around.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
actor_label_override: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "actor_label_override", default=None
)


def record_event(
    actor: User | None,
    action: str,
    *,
    authority_id: int | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    from .models import AuditEvent

    label = actor_label_override.get() or (str(actor.email) if actor else "system")
    return AuditEvent.objects.create(
        authority_id=authority_id
        if authority_id is not None
        else getattr(obj, "authority_id", None),
        actor=actor if actor and actor.pk else None,
        actor_label=label,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        changes=changes or {},
        ip_address=client_ip.get(),
    )
