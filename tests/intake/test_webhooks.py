"""Webhook routes through the Chalice test client, the outbox worker and the real LRS."""

from __future__ import annotations

import json

import pytest

from tests.support.connector import ORG_ID, fixture_json

pytestmark = pytest.mark.integration

EARNED = "http://specification.openbadges.org/xapi/verbs/earned"


def stored_for(lrs_session, lrs, statement_id: str) -> int:
    return lrs_session.get(lrs.statements_url, params={"statementId": statement_id}).status_code


def issued_id(connector, platform: str, credential_id: str) -> str:
    import uuid

    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    return str(uuid.uuid5(namespace, f"{platform}|{credential_id}|issued"))


def test_credly_notification_delivered_three_times_gives_one_set_of_statements(connector, lrs, lrs_session):
    notification = fixture_json("credly/webhook_badge_created.json")
    answers = [connector.credly_webhook(notification) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [json.loads(a.body)["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert connector.services.queue.depth() == 1
    connector.drain()

    statement_id = issued_id(connector, "credly", "9f1e2d3c-4b5a-4697-8877-665544332211")
    stored = lrs_session.get(lrs.statements_url, params={"statementId": statement_id})
    assert stored.status_code == 200
    assert stored.json()["verb"]["id"] == EARNED
    assert stored.json()["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    counters = connector.services.store.counters()
    assert counters["delivered"] == 1 and counters["duplicate_deliveries"] == 2
    # Only the first delivery was fetched from Credly.
    event_fetches = [p for m, p in connector.credly.requests if "/events/" in p]
    assert len(event_fetches) == 1
    assert connector.services.store.count_dead_letters() == 0


def test_wrong_credly_token_is_401_and_nothing_is_queued(connector):
    answer = connector.credly_webhook(fixture_json("credly/webhook_badge_created.json"), token="guess")
    assert answer.status_code == 401
    assert connector.services.queue.depth() == 0


def test_credly_notification_of_another_organisation_is_refused(connector):
    notification = {**fixture_json("credly/webhook_badge_created.json"), "organization_id": "someone-else"}
    assert connector.credly_webhook(notification).status_code == 403
    assert connector.services.queue.depth() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"id": "x", "organization_id": ', "(body)"),
        (b"[1, 2]", "(body)"),
        (json.dumps({"organization_id": ORG_ID, "event_type": "badge.created"}).encode(), "id"),
    ],
)
def test_malformed_credly_notification_is_400_naming_the_problem(connector, body, field):
    answer = connector.credly_webhook(body)
    assert answer.status_code == 400
    assert json.loads(answer.body)["field"] == field
    assert connector.services.queue.depth() == 0


def test_credly_event_unknown_to_credly_becomes_a_dead_letter(connector):
    notification = {**fixture_json("credly/webhook_badge_created.json"), "id": "no-such-event"}
    assert connector.credly_webhook(notification).status_code == 200
    connector.drain()
    letters = connector.services.store.dead_letters()
    assert len(letters) == 1
    assert "404" in letters[0].reason or "not found" in letters[0].reason.lower()
    assert letters[0].message["event_id"] == "no-such-event"


def test_credly_refusing_our_token_becomes_a_dead_letter_with_that_reason(connector, monkeypatch):
    connector.credly.token = "rotated"  # the API token we hold no longer works
    assert connector.credly_webhook(fixture_json("credly/webhook_badge_created.json")).status_code == 200
    connector.drain()
    letters = connector.services.store.dead_letters()
    assert len(letters) == 1 and "401" in letters[0].reason


def test_certifier_bad_signature_is_401_and_nothing_stored(connector):
    body = fixture_json("certifier/webhook_credential_issued.json")
    answer = connector.certifier_webhook(body, secret="not-the-secret")
    assert answer.status_code == 401
    assert connector.services.queue.depth() == 0
    assert connector.services.store.counters() == {}


def test_certifier_signed_webhooks_reach_the_lrs(connector, lrs, lrs_session):
    for name in ("webhook_credential_issued", "webhook_credential_shared_linkedin", "webhook_credential_viewed_guest"):
        answer = connector.certifier_webhook(fixture_json(f"certifier/{name}.json"))
        assert answer.status_code == 202, answer.body
    connector.drain()
    assert connector.services.store.counters()["delivered"] == 3
    statement_id = issued_id(connector, "certifier", "01JD8Q1A2B3C4D5E6F7G8H9J0K")
    assert stored_for(lrs_session, lrs, statement_id) == 200


def test_certifier_body_of_unknown_type_is_400(connector):
    body = {**fixture_json("certifier/webhook_credential_issued.json"), "type": "credential.exploded"}
    answer = connector.certifier_webhook(body)
    assert answer.status_code == 400
    assert "credential.exploded" in json.loads(answer.body)["error"]


def test_openbadges_ingest_needs_the_bearer_token(connector):
    document = fixture_json("openbadges/ob3_credential.json")
    assert connector.post("/ingest/openbadges", document).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert connector.post("/ingest/openbadges", document, wrong).status_code == 401
    assert connector.services.queue.depth() == 0


def test_openbadges_array_is_accepted_and_delivered(connector, lrs, lrs_session):
    documents = [fixture_json("openbadges/ob2_assertion.json"), fixture_json("openbadges/ob3_credential.json")]
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    answer = connector.post("/ingest/openbadges", documents, auth)
    assert answer.status_code == 202
    assert len(json.loads(answer.body)["ids"]) == 2
    connector.drain()
    assert connector.services.store.counters()["delivered"] == 2
    assert stored_for(lrs_session, lrs, issued_id(connector, "openbadges", documents[1]["id"])) == 200


def test_openbadges_document_missing_its_recipient_is_400_naming_it(connector):
    document = fixture_json("openbadges/ob2_assertion.json")
    del document["recipient"]
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    answer = connector.post("/ingest/openbadges", [document], auth)
    assert answer.status_code == 400
    assert json.loads(answer.body)["field"] == "[0].recipient"


def test_unresolvable_hashed_recipient_is_accepted_then_dead_lettered_and_replayable(connector, monkeypatch, tmp_path):
    document = fixture_json("openbadges/ob2_assertion.json")
    empty_directory = tmp_path / "directory.csv"
    empty_directory.write_text("employee_id,email,name,job_role,team,lms_account\n")
    monkeypatch.setenv("LEARNER_DIRECTORY", str(empty_directory))
    from chalicelib.runtime import services

    connector.restart()
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    assert connector.post("/ingest/openbadges", document, auth).status_code == 202
    connector.drain()
    letters = connector.services.store.dead_letters()
    assert len(letters) == 1 and "hashed recipient" in letters[0].reason

    # The directory is fixed: a replay through the worker delivers it.
    from chalicelib.deadletters import replay

    monkeypatch.setenv("LEARNER_DIRECTORY", connector.env["LEARNER_DIRECTORY"])
    services.cache_clear()
    outcomes = replay(services(), letters)
    assert [o.result for o in outcomes] == ["delivered"]
    assert services().store.count_dead_letters() == 0


def certifier_resource_only(body: dict) -> dict:
    return {**body, "data": {"resource": body["data"]["resource"]}}


def test_certifier_delivery_without_details_is_completed_from_the_api(connector, monkeypatch, lrs, lrs_session):
    from fakes.certifier_api import FakeCertifier

    full = fixture_json("certifier/webhook_credential_issued.json")
    with FakeCertifier(token="cert-token") as certifier:
        certifier.add_credential(full["data"]["credential"])
        monkeypatch.setenv("CERTIFIER_API_BASE", certifier.base_url)
        monkeypatch.setenv("CERTIFIER_TOKEN", "cert-token")
        connector.restart()
        assert connector.certifier_webhook(certifier_resource_only(full)).status_code == 202
        connector.drain()
        assert certifier.requests == [("GET", "/v1/credentials/01JD8Q1A2B3C4D5E6F7G8H9J0K")]
    assert connector.services.store.count_dead_letters() == 0
    statement_id = issued_id(connector, "certifier", "01JD8Q1A2B3C4D5E6F7G8H9J0K")
    assert stored_for(lrs_session, lrs, statement_id) == 200


def test_certifier_delivery_without_details_and_no_token_is_a_dead_letter_naming_the_setting(connector):
    full = fixture_json("certifier/webhook_credential_issued.json")
    assert connector.certifier_webhook(certifier_resource_only(full)).status_code == 202
    connector.drain()
    letters = connector.services.store.dead_letters()
    assert len(letters) == 1 and "CERTIFIER_TOKEN" in letters[0].reason


def test_a_secret_that_cannot_be_read_answers_503_not_500(connector, monkeypatch, mocked_aws):
    monkeypatch.setenv("CERTIFIER_WEBHOOK_SECRET", "ssm:/missing/parameter")
    connector.restart()
    answer = connector.certifier_webhook(fixture_json("certifier/webhook_credential_issued.json"))
    assert answer.status_code == 503
    assert "CERTIFIER_WEBHOOK_SECRET" in json.loads(answer.body)["error"]


def test_a_refused_credly_token_turns_health_red_until_a_fetch_succeeds(connector):
    connector.credly.token = "rotated"
    connector.credly_webhook(fixture_json("credly/webhook_badge_created.json"))
    connector.drain()
    health = health_details(connector)
    assert health.status_code == 503
    assert "CREDLY_TOKEN" in json.loads(health.body)["checks"]["problems"]["credly_auth"]

    connector.credly.token = connector.env["CREDLY_TOKEN"]  # renewed
    notification = {**fixture_json("credly/webhook_badge_created.json"), "id": "1c7d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"}
    connector.credly_webhook(notification)
    connector.drain()
    assert "credly_auth" not in connector.services.store.flags()


def test_health_says_degraded_when_the_state_store_is_unreachable(connector, monkeypatch):
    def down(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(connector.services.store, "count_dead_letters", down)
    assert connector.client.http.get("/health").status_code == 503
    answer = health_details(connector)
    assert answer.status_code == 503
    assert json.loads(answer.body)["checks"]["store"] == "unreachable: OSError"


def test_a_non_ascii_signature_is_401_not_500(connector):
    raw = json.dumps(fixture_json("certifier/webhook_credential_issued.json")).encode()
    answer = connector.post("/webhooks/certifier", raw, {"X-Webhook-Signature": "é" * 64})
    assert answer.status_code == 401


def test_json_nested_too_deeply_is_400(connector):
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    answer = connector.post("/ingest/openbadges", b"[" * 100_000, auth)
    assert answer.status_code == 400 and "nested" in json.loads(answer.body)["error"]


def test_health_with_an_unusable_lrs_endpoint_is_503_not_500(connector, monkeypatch):
    monkeypatch.setenv("LRS_ENDPOINT", "lrs.example.com/xAPI")
    connector.restart()
    answer = health_details(connector)
    assert answer.status_code == 503
    assert json.loads(answer.body)["checks"]["lrs"].startswith("unreachable")


def test_an_unexpected_error_on_one_message_dead_letters_it_and_delivers_the_rest(connector, monkeypatch):
    original = connector.services.worker.translator.translate_event

    def translate_event(events, as_of=None):  # intake queues the events it read from the document
        if any(event["kind"] == "shared" for event in events):
            raise KeyError("surprise")
        return original(events, as_of)

    monkeypatch.setattr(connector.services.worker.translator, "translate_event", translate_event)
    for name in ("webhook_credential_issued", "webhook_credential_shared_linkedin"):
        assert connector.certifier_webhook(fixture_json(f"certifier/{name}.json")).status_code == 202
    connector.drain()
    letters = connector.services.store.dead_letters()
    assert len(letters) == 1 and "internal error: KeyError" in letters[0].reason
    assert connector.services.store.counters()["delivered"] == 1


def test_unauthenticated_health_checks_do_not_drive_calls_to_the_lrs(connector, monkeypatch):
    from chalicelib import health
    from chalicelib.xapi.lrs import LrsClient

    calls = []
    about = LrsClient.about
    monkeypatch.setattr(LrsClient, "about", lambda self: calls.append(1) or about(self))
    monkeypatch.setattr(health, "_lrs_answers", {})
    answers = [connector.client.http.get("/health") for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert len(calls) == 1  # the others were answered from the last check

    monkeypatch.setenv("HEALTH_LRS_CHECK_SECONDS", "0")  # an operator who wants every request checked
    connector.restart()
    connector.client.http.get("/health")
    connector.client.http.get("/health")
    assert len(calls) == 3


def test_a_signed_certifier_body_shaped_like_a_list_page_is_400(connector):
    page = {"type": "credential.issued", "data": [fixture_json("certifier/webhook_credential_issued.json")["data"]]}
    answer = connector.certifier_webhook(page)
    assert answer.status_code == 400 and json.loads(answer.body)["field"] == "data"
    assert connector.services.queue.depth() == 0


@pytest.mark.parametrize("depth", [150, 230, 300])
def test_a_credly_notification_nested_deeper_than_any_queue_takes_is_400(connector, depth):
    notification = {**fixture_json("credly/webhook_badge_created.json"), "extra": json.loads("[" * depth + "]" * depth)}
    answer = connector.credly_webhook(notification)
    assert answer.status_code == 400 and "nested" in json.loads(answer.body)["error"]
    assert connector.services.queue.depth() == 0


def test_a_lone_surrogate_anywhere_is_400_not_a_retry_later(connector):
    raw = json.dumps({**fixture_json("credly/webhook_badge_created.json"), "note": "x"})
    raw = raw.replace('"x"', '"\\ud800"').encode()
    answer = connector.post(f"/webhooks/credly/{connector.env['CREDLY_WEBHOOK_TOKEN']}", raw)
    assert answer.status_code == 400
    assert connector.services.queue.depth() == 0


def test_a_document_too_large_for_the_queue_is_413_on_the_local_backend_too(connector):
    document = fixture_json("openbadges/ob2_assertion.json")
    document["badge"]["description"] = "x" * 1_100_000  # read into the event that is queued
    headers = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    answer = connector.post("/ingest/openbadges", [fixture_json("openbadges/ob2_assertion.json"), document], headers)
    assert answer.status_code == 413
    assert (
        "document [1]" in json.loads(answer.body)["error"] and "nothing was queued" in json.loads(answer.body)["error"]
    )
    assert connector.services.queue.depth() == 0  # not even the first, small one


def test_health_names_every_route_setting_left_unset(connector, monkeypatch):
    for name in ("LAP_TOKEN", "SHARE_LINK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    connector.restart()
    checks = json.loads(health_details(connector).body)["checks"]
    assert {"LAP_TOKEN", "SHARE_LINK_SECRET"} <= set(checks["routes_not_configured"])
    assert "OPENBADGES_INGEST_TOKEN" not in checks["routes_not_configured"]  # set: not listed


def health_details(connector):
    return connector.client.http.get(
        "/health/details", headers={"Authorization": f"Bearer {connector.env['STATUS_TOKEN']}"}
    )


def store_reads(connector, monkeypatch) -> list[str]:
    """The store and queue reads /health makes, recorded as they happen."""
    reads: list[str] = []
    for owner, name in (
        (connector.services.store, "count_dead_letters"),
        (connector.services.store, "counters"),
        (connector.services.store, "flags"),
        (connector.services.queue, "depth"),
    ):
        original = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, _o=original, _n=name: reads.append(_n) or _o(*a))
    return reads


def test_unauthenticated_health_says_up_or_down_and_reads_the_store_once_per_interval(connector, monkeypatch):
    from chalicelib import __version__

    reads = store_reads(connector, monkeypatch)
    connector.services.store.put_dead_letter("m1", "credly", "no learner", {"id": "m1"})
    answers = [connector.client.http.get("/health") for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert [json.loads(a.body) for a in answers] == [{"status": "ok", "version": __version__}] * 20
    assert sorted(reads) == ["count_dead_letters", "counters", "depth", "flags"]  # one check for all 20


def test_health_with_an_interval_of_zero_reads_the_store_on_every_request(connector, monkeypatch):
    monkeypatch.setenv("HEALTH_LRS_CHECK_SECONDS", "0")
    connector.restart()
    reads = store_reads(connector, monkeypatch)
    for _ in range(3):
        connector.client.http.get("/health")
    assert reads.count("count_dead_letters") == 3


def test_health_details_need_the_status_token(connector, monkeypatch):
    connector.services.store.put_dead_letter("m1", "credly", "no learner", {"id": "m1"})
    for authorization in (None, "Bearer wrong", f"Basic {connector.env['STATUS_TOKEN']}"):
        answer = connector.client.http.get(
            "/health/details", headers={"Authorization": authorization} if authorization else {}
        )
        assert answer.status_code == 401 and b"dead_letters" not in answer.body
    answer = health_details(connector)
    assert answer.status_code == 200
    body = json.loads(answer.body)
    assert body["checks"]["dead_letters"] == 1 and body["checks"]["queue_depth"] == 0
    assert body["checks"]["lrs"] == "reachable" and "version" in body

    monkeypatch.delenv("STATUS_TOKEN")
    connector.restart()
    answer = health_details(connector)
    assert answer.status_code == 503 and "STATUS_TOKEN" in json.loads(answer.body)["error"]


def test_health_names_what_a_named_connections_route_lacks(connector, monkeypatch, tmp_path):
    path = tmp_path / "connections.toml"
    path.write_text(
        '[connections.credly-academy]\nplatform = "credly"\nCREDLY_ORG_ID = "org-b"\n'  # no webhook token
        '[connections.ob-partners]\nplatform = "openbadges"\nOPENBADGES_INGEST_TOKEN = "partner-token"\n'
    )
    monkeypatch.setenv("CONNECTIONS", str(path))
    connector.restart()

    answer = health_details(connector)
    checks = json.loads(answer.body)["checks"]
    assert "CREDLY_WEBHOOK_TOKEN of connection credly-academy (CONNECTIONS)" in checks["routes_not_configured"]
    assert not [m for m in checks["routes_not_configured"] if "ob-partners" in m]  # its token is set
    assert "connections" not in checks


def test_health_is_degraded_when_the_connections_file_cannot_be_used(connector, monkeypatch, tmp_path):
    path = tmp_path / "connections.toml"
    path.write_text("[connections.credly-academy\n")  # not TOML
    monkeypatch.setenv("CONNECTIONS", str(path))
    connector.restart()

    answer = health_details(connector)
    body = json.loads(answer.body)
    assert (answer.status_code, body["status"]) == (503, "degraded")
    assert "not valid TOML" in body["checks"]["connections"] and str(path) in body["checks"]["connections"]
