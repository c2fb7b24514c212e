"""Seals for the tenant scope's database settings (registers migration 0010).

Row-level security reads the scope from transaction-local settings, which any statement may set.
Each scope setting therefore travels with a seal, `dsr.seal_<name>`: a keyed hash of its name, value
and day that only a holder of the key can make. The service derives the key from its secret key;
the database keeps a copy that only the owner role can read, written after every migrate
(`store_key`). Rotating DJANGO_SECRET_KEY therefore means running migrate before serving again.
"""

import hashlib
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.crypto import salted_hmac

# The settings the policies read; each counts only beside its seal.
SEALED_SETTINGS = ("dsr.scope", "dsr.user_id", "dsr.authorities", "dsr.api_token_hash")


@cache
def _key(secret: str) -> bytes:
    return salted_hmac("dsr.seal", "scope settings", secret=secret, algorithm="sha256").digest()


def key() -> bytes:
    return _key(settings.SECRET_KEY)


def seal(name: str, value: str) -> str:
    """The seal of setting `dsr.<name>` holding `value`, as `dsr_seal()` computes it today."""
    day = datetime.now(UTC).date().isoformat()
    k = key()
    inner = hashlib.sha256(k + f"{name}={value}@{day}".encode()).digest()
    return hashlib.sha256(k + inner).hexdigest()


def with_seals(values: dict[str, str]) -> dict[str, str]:
    """`values` plus the seal of each scope setting among them (a blank value needs none)."""
    sealed = dict(values)
    for setting in SEALED_SETTINGS:
        if setting in values:
            name = setting.removeprefix("dsr.")
            sealed[f"dsr.seal_{name}"] = seal(name, values[setting]) if values[setting] else ""
    return sealed


def store_key(connection: BaseDatabaseWrapper) -> None:
    """Give the database the key (as the owner role, which alone may write it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('dsr_scope_key') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute(
            "INSERT INTO dsr_scope_key (id, key) VALUES (true, %s) "
            "ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key",
            [key()],
        )
