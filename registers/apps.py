from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from dsr.seal import store_key


def _store_scope_key(*, using: str, **_: Any) -> None:
    store_key(connections[using])


class RegistersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registers"
    verbose_name = "Registers"

    def ready(self) -> None:
        # After every migrate (the owner's), so a new secret key reaches the database too.
        post_migrate.connect(_store_scope_key, sender=self, dispatch_uid="dsr-scope-key")
