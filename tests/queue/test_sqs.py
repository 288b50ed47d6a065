"""SqsQueue against moto, the record parsing and batch answer of the SQS worker, lazy boto3."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chalicelib.queue import MAX_MESSAGE_BYTES, MessageTooLarge, QueueMessage
from chalicelib.queue.sqs import (
    SqsQueue,
    handle_records,
    message_attributes,
    message_body,
    message_size,
    parse_record,
)
from tests.support.paths import REPO

REPO_ROOT = REPO


@pytest.fixture
def aws(mocked_aws):
    import boto3

    return boto3.client("sqs")


@pytest.fixture
def queue_url(aws) -> str:
    return aws.create_queue(QueueName="unit-events")["QueueUrl"]


def credly_message(**overrides) -> QueueMessage:
    values = {"source": "credly", "kind": "notification", "body": {"id": "evt-1"}, "event_id": "evt-1"}
    return QueueMessage(**{**values, **overrides})


def receive_all(sqs, url: str) -> list[dict]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return answer.get("Messages", [])


class NoCalls:
    """A client that fails the test if anything reaches AWS."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected SQS call: {name}")


# -- sending ----------------------------------------------------------------------------------


def test_send_puts_the_message_json_and_its_attributes(aws, queue_url):
    message = credly_message()
    SqsQueue(queue_url).send(message)

    [received] = receive_all(aws, queue_url)
    assert QueueMessage.model_validate_json(received["Body"]) == message
    assert received["MessageAttributes"] == {
        "source": {"DataType": "String", "StringValue": "credly"},
        "event_id": {"DataType": "String", "StringValue": "evt-1"},
    }


def test_a_message_without_event_id_carries_only_its_source(aws, queue_url):
    SqsQueue(queue_url).send(QueueMessage(source="openbadges", body={"id": "urn:x"}))
    [received] = receive_all(aws, queue_url)
    assert received["MessageAttributes"] == {"source": {"DataType": "String", "StringValue": "openbadges"}}


class BatchRecorder:
    """Records SendMessageBatch calls; refuses the entries whose body mentions `refuse`."""

    def __init__(self, refuse: str | None = None) -> None:
        self.batches: list[list[dict]] = []
        self.refuse = refuse

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.batches.append(Entries)
        failed = [
            {"Id": e["Id"], "Code": "InternalError", "SenderFault": False}
            for e in Entries
            if self.refuse and self.refuse in e["MessageBody"]
        ]
        return {"Successful": [], **({"Failed": failed} if failed else {})}


def test_many_messages_go_in_batches_of_ten_in_order(aws, queue_url):
    messages = [QueueMessage(source="openbadges", body={"n": n}) for n in range(23)]
    client = BatchRecorder()
    SqsQueue(queue_url, client=client).send_many(messages)
    assert [len(batch) for batch in client.batches] == [10, 10, 3]
    sent = [QueueMessage.model_validate_json(e["MessageBody"]) for batch in client.batches for e in batch]
    assert sent == messages


def test_batches_stay_within_one_message_size_limit():
    half = MAX_MESSAGE_BYTES // 2 - 1_000
    messages = [QueueMessage(source="openbadges", body={"text": "x" * half}) for _ in range(5)]
    client = BatchRecorder()
    SqsQueue("https://sqs.us-east-1.amazonaws.com/1/q", client=client).send_many(messages)
    assert [len(batch) for batch in client.batches] == [2, 2, 1]


def test_a_too_large_message_among_many_is_named_before_any_is_sent():
    messages = [QueueMessage(source="openbadges", body={"n": n}) for n in range(3)]
    messages.insert(2, QueueMessage(source="openbadges", body={"text": "x" * MAX_MESSAGE_BYTES}))
    with pytest.raises(MessageTooLarge) as refused:
        SqsQueue("https://sqs.us-east-1.amazonaws.com/1/q", client=NoCalls()).send_many(messages)
    assert refused.value.index == 2


def test_entries_sqs_refuses_fail_the_send():
    from chalicelib.errors import ConnectorError

    messages = [QueueMessage(source="openbadges", body={"n": n}) for n in range(3)]
    with pytest.raises(ConnectorError, match="SQS refused 1 of 3 messages"):
        SqsQueue("https://sqs.us-east-1.amazonaws.com/1/q", client=BatchRecorder(refuse='"n":1')).send_many(messages)


def test_the_client_is_created_once_and_kept(aws, queue_url):
    queue = SqsQueue(queue_url)
    assert queue.client is queue.client


def test_depth_counts_waiting_and_in_flight_messages(aws, queue_url):
    queue = SqsQueue(queue_url)
    assert queue.depth() == 0
    for number in range(3):
        queue.send(credly_message(event_id=f"evt-{number}"))
    aws.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)  # one in flight now
    assert queue.depth() == 3


def test_depth_is_none_when_sqs_does_not_answer(aws):
    missing = "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue"
    assert SqsQueue(missing).depth() is None


def test_too_large_a_message_is_refused_before_any_aws_call():
    message = QueueMessage(source="openbadges", body={"description": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(MessageTooLarge, match="1,048,576"):
        SqsQueue("https://sqs.us-east-1.amazonaws.com/1/q", client=NoCalls()).send(message)


def test_attributes_count_towards_the_limit():
    # A body just under the limit on its own; the `source` attribute pushes it over.
    empty = QueueMessage(source="openbadges", body="", id="fixed", received_at="t")
    overhead = len(message_body(empty).encode())
    message = empty.model_copy(update={"body": "x" * (MAX_MESSAGE_BYTES - overhead - 5)})
    body, attributes = message_body(message), message_attributes(message)
    assert len(body.encode()) < MAX_MESSAGE_BYTES < message_size(body, attributes)
    with pytest.raises(MessageTooLarge):
        SqsQueue("https://sqs.us-east-1.amazonaws.com/1/q", client=NoCalls()).send(message)


def test_size_is_counted_in_utf8_bytes_not_characters():
    body = "é" * 10
    assert message_size(body, {}) == 20


@pytest.mark.parametrize("text", ["\uffff", "\ud800"])
def test_text_sqs_refuses_is_sent_escaped_and_reads_back_the_same(text):
    message = credly_message(body={"name": f"a{text}b", "city": "Zürich"})
    body = message_body(message)
    assert body.isascii()
    assert parse_record({"messageId": "m", "body": body}).message == message


def test_plain_unicode_is_sent_unescaped():
    assert "Zürich 😀" in message_body(credly_message(body={"city": "Zürich 😀"}))


def test_an_attribute_value_sqs_would_refuse_is_left_out():
    assert "event_id" not in message_attributes(credly_message(event_id="bad\ufffe"))
    assert "event_id" not in message_attributes(credly_message(event_id=""))


# -- the worker side --------------------------------------------------------------------------


def record(sqs_id: str, body: str, receive_count: int = 1) -> dict:
    return {"messageId": sqs_id, "body": body, "attributes": {"ApproximateReceiveCount": str(receive_count)}}


def test_parse_record_reads_id_receive_count_and_message():
    message = credly_message()
    parsed = parse_record(record("sqs-1", message.model_dump_json(), receive_count=3))
    assert (parsed.sqs_id, parsed.receive_count, parsed.message, parsed.problem) == ("sqs-1", 3, message, None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("not json", "body is not JSON"),
        ("", "body is not JSON"),
        ('{"kind": "document", "body": "ada@example.com"}', "source: Field required"),
        ('["ada@example.com"]', "(body)"),
    ],
)
def test_a_body_that_is_not_a_queue_message_is_poison_and_its_reason_has_no_payload(body, expected):
    parsed = parse_record(record("sqs-9", body))
    assert parsed.message is None
    assert expected in parsed.problem
    assert "ada@example.com" not in parsed.problem


class Recorder:
    def __init__(self, failed: dict[str, str] | None = None) -> None:
        self.failed = failed or {}
        self.batches: list[list[QueueMessage]] = []
        self.given_up: list[tuple[str, str, int]] = []

    def process(self, messages: list[QueueMessage]) -> dict[str, str]:
        self.batches.append(messages)
        return {k: v for k, v in self.failed.items() if k in {m.id for m in messages}}

    def give_up(self, message: QueueMessage, reason: str, attempts: int) -> None:
        self.given_up.append((message.id, reason, attempts))


def test_batch_answer_lists_the_sqs_ids_of_failed_and_poison_records_only():
    good, retry = credly_message(id="good"), credly_message(id="retry")
    worker = Recorder(failed={"retry": "LRS unavailable"})
    records = [
        record("sqs-good", good.model_dump_json()),
        record("sqs-retry", retry.model_dump_json()),
        record("sqs-poison", "not json"),
    ]

    answer = handle_records(records, worker.process, worker.give_up, max_attempts=5)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "sqs-poison"}, {"itemIdentifier": "sqs-retry"}]}
    assert worker.batches == [[good, retry]]  # one call: the LRS gets one batch
    assert worker.given_up == []


def test_a_message_still_failing_on_its_last_allowed_receive_becomes_a_store_dead_letter():
    message = credly_message(id="tired")
    worker = Recorder(failed={"tired": "LRS unavailable"})
    answer = handle_records([record("sqs-1", message.model_dump_json(), 5)], worker.process, worker.give_up, 5)
    assert answer == {"batchItemFailures": []}  # deleted from SQS: the store holds it now
    assert worker.given_up == [("tired", "LRS unavailable", 5)]


def test_a_batch_of_only_poison_does_not_call_the_worker():
    worker = Recorder()
    answer = handle_records([record("p", "{}")], worker.process, worker.give_up, 5)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "p"}]}
    assert worker.batches == []


# -- import cost and the handler's registration -------------------------------------------------


def run_python(code: str, **env: str) -> str:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "QUEUE_NAME"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_app_and_the_sqs_module_does_not_import_boto3():
    code = (
        "import sys, app, chalicelib.runtime, chalicelib.queue.sqs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    assert run_python(code) == "[]"


def test_worker_function_reads_the_queue_name_from_the_environment_with_the_settings_default():
    from chalicelib.settings import Settings

    code = "import app; print([(s.name, s.queue, s.batch_size) for s in app.app.event_sources])"
    default = Settings.model_fields["queue_name"].default
    assert run_python(code) == str([("sqs_worker", default, 10)])
    assert run_python(code, QUEUE_NAME="prod-events") == str([("sqs_worker", "prod-events", 10)])
