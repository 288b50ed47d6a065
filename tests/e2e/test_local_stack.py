"""The real local stack: chalice local + outbox worker thread + real LRS + fake Credly API."""

from __future__ import annotations

import uuid

import pytest

from devstack import Stack, fixture_deliveries
from chalicelib.settings import DEFAULT_STATEMENT_NAMESPACE

pytestmark = pytest.mark.integration

NAMESPACE = uuid.UUID(DEFAULT_STATEMENT_NAMESPACE)
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"


def statement_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


@pytest.fixture(scope="module")
def stack():
    with Stack() as running:
        yield running


def test_every_sample_webhook_reaches_the_lrs_through_the_running_connector(stack):
    deliveries = fixture_deliveries()
    senders = {"credly": stack.send_credly, "certifier": stack.send_certifier, "openbadges": stack.send_openbadges}
    answers = [senders[source](body) for source, body in deliveries]
    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]

    health = stack.wait_until_drained()
    assert health["checks"]["dead_letters"] == 0
    assert health["checks"]["lrs"] == "reachable"
    assert health["checks"]["counters"]["duplicate_deliveries"] == 1

    stored = {s["id"]: s for s in stack.lrs_statements()}
    credly_badge = "9f1e2d3c-4b5a-4697-8877-665544332211"
    accepted = stored[statement_id(f"credly|{credly_badge}|accepted")]
    assert accepted["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    assert accepted["timestamp"] == "2026-11-21T08:15:00.000Z"
    share = stored[statement_id("certifier|ci_01JD9A0S1H2A3R4E5D6L7N8K9D")]
    assert share["context"]["extensions"]["http://id.tincanapi.com/extension/share-medium"] == "linkedin"
    view = stored[statement_id("certifier|ci_01JDB7V1E2W3E4D5G6U7E8S9T0")]
    assert view["actor"]["account"]["name"] == "guest"
    ob2 = stored[statement_id("openbadges|https://badges.example.org/assertions/4a1d5c9e-0001|issued")]
    assert ob2["actor"]["mbox"] == "mailto:katherine.johnson@example.com" and ob2["verb"]["id"] == EARNED
    # The Credly badge was revoked: its earned statement is voided, so the LRS no longer lists it.
    assert statement_id(f"credly|{credly_badge}|issued") not in stored
    assert statement_id(f"credly|{credly_badge}|revoked") in stored


def test_bad_input_to_the_running_connector_is_refused_without_a_500(stack):
    import requests

    bad_json = requests.post(
        f"{stack.url}/webhooks/credly/{stack.secrets['CREDLY_WEBHOOK_TOKEN']}",
        data=b'{"id": ', headers={"Content-Type": "application/json"}, timeout=10,
    )
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    unsigned = requests.post(f"{stack.url}/webhooks/certifier", json={"id": "x"}, timeout=10)
    assert unsigned.status_code == 401


def test_the_credly_path_token_never_reaches_the_access_log(stack):
    import requests

    token = stack.secrets["CREDLY_WEBHOOK_TOKEN"]
    answer = requests.post(f"{stack.url}/webhooks/credly/{token}", data=b"{}",
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 400
    log = stack.log_path.read_text(errors="replace")
    assert "POST /webhooks/credly/<secret>" in log  # the request was logged ...
    assert token not in log  # ... without its token
