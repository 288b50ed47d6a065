"""The AWS path end to end: routes -> SQS (moto) -> the SQS worker function -> the real LRS.

Lambda's SQS event source is played by hand: receive with boto3, invoke the handler through
the Chalice test client with the real message ids, delete what the answer did not list.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.support.connector import fixture_json
from tests.support.stores import create_table

pytestmark = pytest.mark.integration

QUEUE_NAME = "connector-events-test"
MAX_RECEIVES = 2  # redrive to the DLQ after this many receives


@dataclass
class Sqs:
    client: object
    url: str
    dlq_url: str

    def receive(self, url: str | None = None) -> list[dict]:
        answer = self.client.receive_message(
            QueueUrl=url or self.url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        return answer.get("Messages", [])


@pytest.fixture
def sqs(connector, monkeypatch, mocked_aws):
    """A main queue with a DLQ and the state table under moto; the connector switched to them."""
    import boto3

    from chalicelib.runtime import services

    client = boto3.client("sqs")
    dlq_url = client.create_queue(QueueName=f"{QUEUE_NAME}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
    # VisibilityTimeout=0: a message the worker lists as failed can be received again at once.
    url = client.create_queue(
        QueueName=QUEUE_NAME, Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "0"}
    )["QueueUrl"]
    monkeypatch.setenv("QUEUE_BACKEND", "sqs")
    monkeypatch.setenv("QUEUE_URL", url)
    # State in DynamoDB too, as deployed: the whole AWS path in one test.
    create_table("connector-state-test")
    monkeypatch.setenv("STATE_BACKEND", "dynamodb")
    monkeypatch.setenv("TABLE_NAME", "connector-state-test")
    connector.restart()
    yield Sqs(client, url, dlq_url)
    services.cache_clear()


def lambda_event(connector, messages: list[dict]) -> dict:
    """What Lambda would pass: the test client's event, with each record's real id and counts.

    The test client gives every generated record the same messageId, which would make a
    partial batch answer ambiguous.
    """
    event = connector.client.events.generate_sqs_event(
        queue_name=QUEUE_NAME, message_bodies=[m["Body"] for m in messages]
    )
    for record, message in zip(event["Records"], messages, strict=True):
        record["messageId"] = message["MessageId"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["attributes"] = message["Attributes"]
    return event


def run_worker(connector, sqs: Sqs, messages: list[dict]) -> dict:
    """Invoke the worker function on `messages`; delete the ones it did not list, as Lambda does."""
    answer = connector.client.lambda_.invoke("sqs_worker", lambda_event(connector, messages)).payload
    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.client.delete_message(QueueUrl=sqs.url, ReceiptHandle=message["ReceiptHandle"])
    return answer


def statement_id(connector, platform: str, credential_id: str, kind: str) -> str:
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    return str(uuid.uuid5(namespace, f"{platform}|{credential_id}|{kind}"))


def stored(lrs_session, lrs, statement_id: str) -> int:
    return lrs_session.get(lrs.statements_url, params={"statementId": statement_id}).status_code


def string_attributes(message: dict) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}


def thin_notification(event_fixture: str) -> dict:
    """The notification Credly posts for an event: it only names the event."""
    data = fixture_json(event_fixture)["data"]
    return {key: data[key] for key in ("id", "organization_id", "event_type", "occurred_at")}


CREDLY_BADGE = "9f1e2d3c-4b5a-4697-8877-665544332211"
CERTIFIER_CREDENTIAL = "01JD8Q1A2B3C4D5E6F7G8H9J0K"
CERTIFIER_WEBHOOKS = (
    "webhook_credential_issued",
    "webhook_credential_shared_linkedin",
    "webhook_credential_viewed_guest",
)


def test_webhooks_go_through_sqs_to_the_lrs_and_poison_ends_in_the_dlq(connector, sqs, lrs, lrs_session):
    created = fixture_json("credly/webhook_badge_created.json")
    accepted = thin_notification("credly/event_badge_accepted.json")
    for notification in (created, accepted):
        answer = connector.credly_webhook(notification)
        assert answer.status_code == 200 and json.loads(answer.body)["status"] == "accepted", answer.body
    for name in CERTIFIER_WEBHOOKS:
        assert connector.certifier_webhook(fixture_json(f"certifier/{name}.json")).status_code == 202
    sqs.client.send_message(QueueUrl=sqs.url, MessageBody="not json")
    assert connector.services.queue.depth() == 6

    messages = sqs.receive()
    assert len(messages) == 6
    attributes = [string_attributes(m) for m in messages]
    assert sorted(a["event_id"] for a in attributes if a.get("source") == "credly") == sorted(
        [created["id"], accepted["id"]]
    )
    certifier_ids = {fixture_json(f"certifier/{name}.json")["id"] for name in CERTIFIER_WEBHOOKS}
    assert {a["event_id"] for a in attributes if a.get("source") == "certifier"} == certifier_ids
    assert attributes.count({}) == 1  # the poison, sent without attributes
    poison_id = next(m["MessageId"] for m in messages if m["Body"] == "not json")

    answer = run_worker(connector, sqs, messages)

    assert answer == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert connector.services.store.counters()["delivered"] == 5
    for platform, credential, kind in [
        ("credly", CREDLY_BADGE, "issued"),
        ("credly", CREDLY_BADGE, "accepted"),
        ("certifier", CERTIFIER_CREDENTIAL, "issued"),
    ]:
        assert stored(lrs_session, lrs, statement_id(connector, platform, credential, kind)) == 200, kind
    assert connector.services.store.count_dead_letters() == 0

    # Lambda keeps handing the poison back until the redrive policy moves it to the DLQ.
    receives = 1
    while messages := sqs.receive():
        assert [m["MessageId"] for m in messages] == [poison_id]
        assert run_worker(connector, sqs, messages) == answer
        receives += 1
        assert receives <= MAX_RECEIVES
    assert receives == MAX_RECEIVES
    assert [(m["MessageId"], m["Body"]) for m in sqs.receive(sqs.dlq_url)] == [(poison_id, "not json")]
    assert connector.services.queue.depth() == 0


def test_a_message_failing_up_to_queue_max_attempts_becomes_a_replayable_dead_letter(
    connector, sqs, monkeypatch, lrs, lrs_session
):
    monkeypatch.setenv("QUEUE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    connector.restart()
    connector.credly.fail_next(503, times=2 * 2)  # Credly is down for both receives, then back
    assert connector.credly_webhook(fixture_json("credly/webhook_badge_created.json")).status_code == 200

    first = run_worker(connector, sqs, sqs.receive())
    assert len(first["batchItemFailures"]) == 1  # retried by SQS
    second = run_worker(connector, sqs, sqs.receive())
    assert second == {"batchItemFailures": []}  # given up: deleted from SQS, kept in the store

    assert connector.services.queue.depth() == 0 and sqs.receive(sqs.dlq_url) == []
    [letter] = connector.services.store.dead_letters()
    assert "gave up after 2 attempts" in letter.reason and letter.message["source"] == "credly"

    from chalicelib.deadletters import replay

    assert [o.result for o in replay(connector.services, [letter])] == ["delivered"]
    assert stored(lrs_session, lrs, statement_id(connector, "credly", CREDLY_BADGE, "issued")) == 200


def test_an_openbadges_document_too_large_for_sqs_is_413_and_nothing_is_queued(connector, sqs):
    document = fixture_json("openbadges/ob3_credential.json")
    document["credentialSubject"]["achievement"]["description"] = "x" * 1_100_000  # one event over SQS's 1 MiB
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}

    answer = connector.post("/ingest/openbadges", [document], auth)

    assert answer.status_code == 413
    assert "too large to queue" in json.loads(answer.body)["error"]
    assert connector.services.queue.depth() == 0
    assert connector.services.store.counters() == {}


def test_a_too_large_certifier_webhook_is_413_and_its_delivery_claim_is_released(connector, sqs):
    body = fixture_json("certifier/webhook_credential_issued.json")
    body["data"]["credential"]["group"]["name"] = "x" * 1_100_000  # the credential's name, in the queued event

    answer = connector.certifier_webhook(body)

    assert answer.status_code == 413, answer.body
    assert connector.services.queue.depth() == 0
    # Released: the same delivery id can be claimed again (a fixed, smaller re-send would be accepted).
    assert connector.services.store.claim_delivery(f"certifier:{body['id']}", 60)


def test_other_send_failures_stay_503(connector, sqs):
    notification = fixture_json("credly/webhook_badge_created.json")
    sqs.client.delete_queue(QueueUrl=sqs.url)
    assert connector.credly_webhook(notification).status_code == 503
    # Credly retries anything but 200: the claim is released so its retry is not a "duplicate".
    assert connector.services.store.claim_delivery(f"credly:{notification['id']}", 60)


def test_chalice_returns_the_handlers_answer_to_lambda(connector, sqs):
    """Guards the contract the partial batch answer relies on: the wrapper passes it through."""
    import app

    event = connector.client.events.generate_sqs_event(queue_name=QUEUE_NAME, message_bodies=["not json"])
    answer = app.app.handler_map["sqs_worker"](event, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "message-id"}]}
