"""The real local stack: chalice local + outbox worker thread + real LRS + fake Credly API."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.settings import DEFAULT_STATEMENT_NAMESPACE
from devstack import Stack, fixture_deliveries, running

pytestmark = pytest.mark.integration

NAMESPACE = uuid.UUID(DEFAULT_STATEMENT_NAMESPACE)
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"


def statement_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


@pytest.fixture(scope="module")
def stack():
    with Stack() as started:
        yield started


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
        data=b'{"id": ',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    unsigned = requests.post(f"{stack.url}/webhooks/certifier", json={"id": "x"}, timeout=10)
    assert unsigned.status_code == 401


def test_the_credly_path_token_never_reaches_the_access_log(stack):
    import requests

    token = stack.secrets["CREDLY_WEBHOOK_TOKEN"]
    answer = requests.post(
        f"{stack.url}/webhooks/credly/{token}", data=b"{}", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert answer.status_code == 400
    log = stack.log_path.read_text(errors="replace")
    assert "POST /webhooks/credly/<secret>" in log  # the request was logged ...
    assert token not in log  # ... without its token


def test_the_running_connector_killed_mid_batch_and_restarted_loses_and_duplicates_nothing():
    """SIGKILL of chalice local while its worker thread delivers; the restarted process delivers
    what was leased and never settled (after LOCAL_LEASE_SECONDS) and the rest."""
    import copy
    import json
    import time
    from pathlib import Path

    import requests

    template = json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "openbadges" / "ob3_credential.json").read_text()
    )
    achievement = f"https://credentials.example.edu/achievements/kill-{uuid.uuid4()}"
    learners = ["ada.lovelace", "grace.hopper", "katherine.johnson", "dorothy.vaughan"]
    documents = []
    for index in range(300):
        document = copy.deepcopy(template)
        document["id"] = f"urn:uuid:{uuid.uuid4()}"
        document["credentialSubject"]["achievement"]["id"] = achievement
        document["credentialSubject"]["identifier"][0]["identityHash"] = f"{learners[index % 4]}@example.com"
        documents.append(document)

    with Stack() as stack:
        stack.kill_connector()
        stack.start_connector(LOCAL_LEASE_SECONDS="2", LRS_BATCH_SIZE="5", WORKER_BATCH_SIZE="5")
        for start in range(0, len(documents), 50):
            assert stack.send_openbadges(documents[start : start + 50]).status_code == 202
        deadline = time.monotonic() + 30
        while stack.health()["checks"]["counters"].get("delivered", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        stack.kill_connector()  # SIGKILL mid-run: some delivered, some leased, most waiting
        before = stack_counted(stack, achievement)
        assert 0 < before < len(documents)

        stack.start_connector(LOCAL_LEASE_SECONDS="2", LRS_BATCH_SIZE="5", WORKER_BATCH_SIZE="5")
        health = stack.wait_until_drained(timeout=120)
        assert health["checks"]["dead_letters"] == 0
        assert stack_counted(stack, achievement) == len(documents)  # every one, once (GET by activity)
        ids = [s["id"] for s in stack.lrs_statements(activity=achievement)]
        assert len(ids) == len(set(ids)) == len(documents)
        assert requests.get(f"{stack.url}/health", timeout=5).status_code == 200


def stack_counted(stack, achievement: str) -> int:
    return sum(1 for _ in stack.lrs_statements(activity=achievement))


def _wait_for(condition, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _serving_workers(stack) -> list[int]:
    """The worker processes that said they serve, in order (from the connector's log)."""
    import json

    events = (json.loads(line) for line in stack.log_path.read_text().splitlines() if line.startswith("{"))
    return [event["pid"] for event in events if event.get("event") == "local_worker_serving"]


def test_the_worker_process_is_started_again_when_it_died_and_stops_with_chalice_local():
    import json
    import os
    import signal
    from pathlib import Path

    document = json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "openbadges" / "ob2_assertion.json").read_text()
    )
    with Stack() as stack:
        assert stack.send_openbadges(document).status_code == 202
        stack.wait_until_drained()
        [first] = _serving_workers(stack)
        assert stack.worker_pids() == [first]

        os.kill(first, signal.SIGKILL)  # the worker dies; chalice local goes on and starts another
        assert _wait_for(lambda: len(_serving_workers(stack)) == 2)
        replacement = _serving_workers(stack)[1]
        second = {**document, "id": document["id"] + "-again"}
        assert stack.send_openbadges(second).status_code == 202
        assert stack.wait_until_drained()["checks"]["dead_letters"] == 0
        stored = {s["id"] for s in stack.lrs_statements()}
        assert statement_id(f"openbadges|{second['id']}|issued") in stored
        assert stack.worker_pids() == [replacement]

        stack.kill_connector(worker_too=False)  # chalice local killed: its worker follows by itself
        assert _wait_for(lambda: not running(replacement), timeout=5)
