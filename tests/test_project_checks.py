"""The project's own health: deploy settings, migrations in step with models, lint clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, check=False
    )


def test_deploy_check_is_clean_under_production_settings():
    result = run(
        sys.executable,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DSR_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="dsr.example.scot",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run(
        sys.executable,
        "manage.py",
        "check",
        DSR_ENV="production",
        DJANGO_SECRET_KEY="",
        DJANGO_ALLOWED_HOSTS="dsr.example.scot",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_migrations_are_in_step_with_the_models():
    result = run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_lint_and_format_clean():
    ruff = str(Path(sys.executable).parent / "ruff")
    lint = run(ruff, "check", ".")
    fmt = run(ruff, "format", "--check", ".")
    assert lint.returncode == 0, lint.stdout
    assert fmt.returncode == 0, fmt.stdout
