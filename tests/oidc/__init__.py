"""A real OpenID Connect provider for the tests: `tests/oidc/provider.mjs` (npm `oidc-provider`,
run by Node) on a free port of 127.0.0.1, and a way to sign in at it without a browser.

tests/conftest.py offers the fixtures `organisation` (the running provider) and
`identity_provider` (its configuration for the `authority` fixture).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from django.conf import settings

SCRIPT = Path(__file__).with_name("provider.mjs")
PASSWORD = "organisation-password"  # the script's default for every account
CLIENT_SECRET = "dsr-test-secret"
SECRET_ENV = "DSR_OIDC_SECRET_TEST"
DOMAIN = "health.example.scot"


class Provider:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        node = shutil.which("node")
        installed = Path(settings.BASE_DIR) / "node_modules" / "oidc-provider"
        if node is None or not installed.exists():
            pytest.fail("Node and npm's oidc-provider are needed: run `bash scripts/assets.sh`.")
        self.process = subprocess.Popen(
            [node, str(SCRIPT), str(self.port)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:
            if line.startswith("listening "):
                break
        else:
            pytest.fail("The OpenID Connect provider did not start.")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()


def sign_in_at(authorization_url: str, username: str, *, password: str = PASSWORD) -> str:
    """Sign in at the provider's own page as `username`: the address it sends the browser back
    to (the service's callback, with the code and state)."""
    session = requests.Session()
    response = session.get(authorization_url, allow_redirects=False, timeout=10)
    while response.is_redirect:
        response = session.get(
            urljoin(response.url, response.headers["Location"]), allow_redirects=False, timeout=10
        )
    assert "/interaction/" in response.url, response.text
    response = session.post(
        response.url,
        data={"username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if "/accounts/organisation-sign-in/callback/" in location:
            return location
        response = session.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"The provider did not send the browser back: {response.text[:500]}")


def id_token_for(
    provider: Provider, username: str, *, client_id: str, client_secret: str, nonce: str = "n"
) -> str:
    """An ID token the provider issues to another client (`other-service`): the whole code flow,
    as that client, without the service."""
    verifier = secrets.token_urlsafe(32)
    callback = "http://testserver/accounts/organisation-sign-in/callback/"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": "s",
        "nonce": nonce,
        "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode(),
        "code_challenge_method": "S256",
    }
    back = sign_in_at(f"{provider.issuer}/auth?{urlencode(query)}", username)
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        auth=(client_id, client_secret),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id_token"]


@pytest.fixture(scope="session")
def organisation():
    """The running provider (one per test session)."""
    provider = Provider()
    yield provider
    provider.stop()


@pytest.fixture
def identity_provider(organisation, authority, monkeypatch):
    """The test organisation configured for `authority`, serving health.example.scot, its
    second factor not trusted (tests that trust it say so)."""
    from accounts.models import IdentityProvider

    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    provider = IdentityProvider.objects.create(
        slug="test-health-board",
        name="Test Health Board",
        issuer=organisation.issuer,
        client_id="dsr",
        client_secret_env=SECRET_ENV,
        email_domains=[DOMAIN],
    )
    provider.authorities.add(authority)
    return provider
