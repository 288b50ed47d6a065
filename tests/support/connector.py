"""A connector wired to the real LRS and the fake Credly API, state in a temporary folder."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator

import pytest

from fakes.credly_api import FakeCredly
from lrs_proxy import LrsProxy
from tests.support.paths import FIXTURE_DIR
from tests.support.route_secrets import route_secrets

FIXTURES = FIXTURE_DIR
ORG_ID = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"


class Connector:
    """Test handle: the Chalice test client, the services and helpers to sign and send."""

    def __init__(self, env: dict[str, str], credly: FakeCredly) -> None:
        from chalice.test import Client

        import app as chalice_app
        from chalicelib.runtime import services

        self.env = env
        self.credly = credly
        self.services = services()
        self.client = Client(chalice_app.app, stage_name="test")

    def restart(self) -> None:
        """The connector as a new process would build it: services read the settings again."""
        from chalicelib.runtime import services

        services.cache_clear()
        self.services = services()

    def post(self, path: str, body: bytes | str | dict, headers: dict | None = None):
        raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        return self.client.http.post(path, body=raw, headers={"Content-Type": "application/json", **(headers or {})})

    def credly_webhook(self, notification: dict, token: str | None = None):
        return self.post(f"/webhooks/credly/{token or self.env['CREDLY_WEBHOOK_TOKEN']}", notification)

    def certifier_webhook(self, body: dict | bytes, secret: str | None = None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        key = (secret or self.env["CERTIFIER_WEBHOOK_SECRET"]).encode()
        signature = hmac.new(key, raw, hashlib.sha256).hexdigest()
        return self.post("/webhooks/certifier", raw, {"X-Webhook-Signature": signature})

    def drain(self) -> None:
        self.services.drainer().run_until_idle(timeout=30)

    def statement_id(self, key: str) -> str:
        """The id the connector gives the statement of `key` (platform|credential|kind, ...)."""
        return str(uuid.uuid5(uuid.UUID(self.env["STATEMENT_ID_NAMESPACE"]), key))

    def pull(self, platform: str, mode: str = "backfill", on_page=None, since=None):
        """One backfill or sync run of `platform` into this connector's queue (PullReport)."""
        from chalicelib.platforms import puller
        from chalicelib.pull.runner import PullRunner

        source = puller(platform, self.services.settings, mode)
        return PullRunner(self.services.store, self.services.queue).run(
            platform, mode, source, since=since, on_page=on_page
        )


@pytest.fixture
def connector(lrs, tmp_path, monkeypatch) -> Iterator[Connector]:
    from chalicelib.runtime import services

    credly_token = "credly-" + uuid.uuid4().hex
    with FakeCredly(org_id=ORG_ID, token=credly_token) as credly:
        credly.load_events_dir(FIXTURES / "credly")
        env = {
            "LRS_ENDPOINT": lrs.endpoint,
            "STATE_PATH": str(tmp_path / "state.sqlite"),
            "LEARNER_DIRECTORY": str(FIXTURES / "directory.csv"),
            # Each test its own statement ids: the LRS process is shared by the whole session.
            "STATEMENT_ID_NAMESPACE": str(uuid.uuid4()),
            "CREDLY_API_BASE": credly.base_url,
            "CREDLY_ORG_ID": ORG_ID,
            "CREDLY_TOKEN": credly_token,
            **route_secrets(),
            "HTTP_BACKOFF_BASE": "0.01",
            "HTTP_BACKOFF_CAP": "0.05",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        services.cache_clear()
        try:
            yield Connector(env, credly)
        finally:
            services.cache_clear()


@pytest.fixture
def hostile_lrs(lrs) -> Iterator[LrsProxy]:
    """The session LRS behind tools/lrs_proxy.py: answers oldest first, ignores statementId and
    voidedStatementId (a page of other statements), has no /about; refusals on demand."""
    with LrsProxy(lrs.endpoint) as proxy:
        yield proxy


def fixture_json(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text())
