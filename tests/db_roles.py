"""Credentials of the database roles for the test suite (docs/security.md, "Database roles").

Each role's URL comes from its variable (DATABASE_OWNER_URL, DATABASE_WORKER_URL, and the runtime
role's DATABASE_RUNTIME_URL), or else from DATABASE_URL's host, port and database with the role's
name as user and password (the development set-up of scripts/services.sh).
"""

import os
import re
from typing import Any

import environ

ROLES = {"owner": "dsr_owner", "runtime": "dsr_app", "worker": "dsr_worker", "backup": "dsr_backup"}
VARIABLES = {
    "owner": "DATABASE_OWNER_URL",
    "runtime": "DATABASE_RUNTIME_URL",
    "worker": "DATABASE_WORKER_URL",
    "backup": "DATABASE_BACKUP_URL",
}


def url(role: str) -> str:
    given = os.environ.get(VARIABLES[role])
    if given:
        return given
    base = os.environ.get("DATABASE_URL", "postgres://dsr_app:dsr_app@127.0.0.1:5432/dsr")
    name = ROLES[role]
    return re.sub(r"//[^@/]*@", f"//{name}:{name}@", base, count=1)


def credentials(role: str) -> dict[str, Any]:
    parsed = environ.Env.db_url_config(url(role))
    return {"USER": parsed["USER"], "PASSWORD": parsed["PASSWORD"]}


def owner_credentials() -> dict[str, Any]:
    return credentials("owner")
