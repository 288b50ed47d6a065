"""The Chalice app with every route configured (all secrets set), a fake LRS for /health and
state in a temporary folder: what the API tests send requests to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.fake_lrs import FakeLrs
from tests.support.paths import FIXTURE_DIR
from tests.support.route_secrets import route_secrets

FIXTURES = FIXTURE_DIR
ORG_ID = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"


class Api:
    """The Chalice test client and the secrets it was configured with."""

    def __init__(self, env: dict[str, str]) -> None:
        from chalice.test import Client

        import app as chalice_app

        self.env = env
        self.client = Client(chalice_app.app, stage_name="test")

    def signature(self, raw_body: bytes) -> str:
        return hmac.new(self.env["CERTIFIER_WEBHOOK_SECRET"].encode(), raw_body, hashlib.sha256).hexdigest()

    def bearer(self, setting: str) -> str:
        return f"Bearer {self.env[setting]}"

    def basic(self, setting: str) -> str:
        return "Basic " + base64.b64encode(f"forwarder:{self.env[setting]}".encode()).decode()

    def post(self, path: str, body: bytes | dict | list, headers: dict[str, str] | None = None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.http.post(path, body=raw, headers={"Content-Type": "application/json", **(headers or {})})


def settings_env(tmp_path: Path, lrs_endpoint: str) -> dict[str, str]:
    return {
        "LRS_ENDPOINT": lrs_endpoint,
        "STATE_PATH": str(tmp_path / "state.sqlite"),
        "QUEUE_BACKEND": "local",
        "LOCAL_WORKER": "false",
        "CREDLY_ORG_ID": ORG_ID,
        "CREDLY_TOKEN": "credly-api-" + uuid.uuid4().hex,
        **route_secrets(),
    }


@pytest.fixture(scope="session")
def fake_lrs() -> Iterator[FakeLrs]:
    with FakeLrs() as lrs:
        yield lrs


@pytest.fixture
def api(tmp_path, monkeypatch, fake_lrs) -> Iterator[Api]:
    from chalicelib.runtime import services

    env = settings_env(tmp_path, fake_lrs.endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    try:
        yield Api(env)
    finally:
        services.cache_clear()


def fixture_json(relative: str):
    return json.loads((FIXTURES / relative).read_text())
