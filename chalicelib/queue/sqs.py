"""The SQS queue (QUEUE_BACKEND=sqs): what the routes send in AWS, and the worker function's batches.

boto3 is imported on first use, never at import: every Lambda function imports app.py, and a
webhook's cold start should not pay for boto3 before it sends.

The worker side mirrors the local outbox drainer (queue/local.py): the same `Worker.process`
decides; this module only maps its answer onto SQS partial batch responses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..awsclients import aws_client
from ..errors import ConnectorError
from ..observability import log
from . import MAX_MESSAGE_BYTES, QueueMessage, ensure_fits

# Characters SQS refuses in a body or attribute value (it answers InvalidMessageContents).
_NOT_SQS_TEXT = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_REGION_IN_URL = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com")


class SqsQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws_client("sqs", _region_of(self.queue_url))

    def send(self, message: QueueMessage) -> None:
        self.send_many([message])

    def send_many(self, messages: Sequence[QueueMessage]) -> None:
        entries = [_entry(message, index) for index, message in enumerate(messages)]  # all checked first
        for batch in _batches(entries):
            answer = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=[e for e, _ in batch])
            if answer.get("Failed"):
                codes = sorted({failure.get("Code", "?") for failure in answer["Failed"]})
                raise ConnectorError(
                    f"SQS refused {len(answer['Failed'])} of {len(batch)} messages ({', '.join(codes)})"
                )

    def depth(self) -> int | None:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        try:
            found = self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)["Attributes"]
            return sum(int(found.get(name, 0)) for name in names)
        except Exception as error:  # health reports "unknown" rather than failing on SQS trouble
            log("queue_depth_failed", error=type(error).__name__, detail=str(error)[:200])
            return None


# SendMessageBatch takes at most ten entries, their sizes together at most one message's limit.
BATCH_ENTRIES = 10


def _entry(message: QueueMessage, index: int) -> tuple[dict, int]:
    """A SendMessageBatch entry and its size; SQS counts the body plus every attribute's name,
    type and value, in UTF-8 bytes."""
    body, attributes = message_body(message), message_attributes(message)
    size = message_size(body, attributes)
    ensure_fits(message, size, index)
    entry: dict[str, object] = {"Id": str(index), "MessageBody": body}
    if attributes:
        entry["MessageAttributes"] = attributes
    return entry, size


def _batches(entries: list[tuple[dict, int]]) -> Iterator[list[tuple[dict, int]]]:
    batch: list[tuple[dict, int]] = []
    for entry in entries:
        if batch and (len(batch) == BATCH_ENTRIES or sum(size for _, size in batch) + entry[1] > MAX_MESSAGE_BYTES):
            yield batch
            batch = []
        batch.append(entry)
    if batch:
        yield batch


def message_body(message: QueueMessage) -> str:
    """The message as JSON that SQS accepts; ASCII-escaped only when the plain form would be refused."""
    try:
        body = message.model_dump_json()
        if not _NOT_SQS_TEXT.search(body):
            return body
    except ValueError:  # a lone surrogate (valid in a JSON escape) cannot be encoded as UTF-8
        pass
    return json.dumps(message.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))


def message_attributes(message: QueueMessage) -> dict[str, dict[str, str]]:
    """Searchable metadata (console, DLQ inspection); the body alone is what the worker reads."""
    values = {"source": message.source, "event_id": message.event_id}
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in values.items()
        if value and not _NOT_SQS_TEXT.search(value)  # SQS refuses empty or invalid attribute values
    }


def message_size(body: str, attributes: dict[str, dict[str, str]]) -> int:
    size = len(body.encode())
    for name, attribute in attributes.items():
        size += len(name.encode()) + len(attribute["DataType"].encode()) + len(attribute["StringValue"].encode())
    return size


def _region_of(queue_url: str) -> str | None:
    """The region named by the queue URL, so a CLI run needs no separate region setting."""
    match = _REGION_IN_URL.match(queue_url or "")
    return match.group(1) if match else None


# -- the worker function's side ---------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One record of a Lambda SQS event; `message` is None for a body that is not a QueueMessage."""

    sqs_id: str
    receive_count: int
    message: QueueMessage | None
    problem: str | None = None


def parse_record(record: dict) -> Received:
    sqs_id = str(record["messageId"])
    receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
    try:
        # json.loads, not model_validate_json: it reads the \ud800-style escapes message_body may write.
        message = QueueMessage.model_validate(json.loads(record.get("body") or ""))
    except json.JSONDecodeError as error:
        return Received(sqs_id, receive_count, None, f"body is not JSON ({error.msg})")
    except ValidationError as error:
        # Field paths and messages only: the input may hold personal data, logs must not.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(body)'}: {e['msg']}" for e in error.errors())
        return Received(sqs_id, receive_count, None, f"body is not a queue message ({problems})")
    return Received(sqs_id, receive_count, message)


def handle_records(
    records: list[dict],
    process: Callable[[list[QueueMessage]], dict[str, str]],
    give_up: Callable[[QueueMessage, str, int], None],
    max_attempts: int,
) -> dict:
    """Run one SQS batch through `process` (Worker.process); answer a partial batch response.

    Failed messages go back to the queue by being listed in batchItemFailures. A message still
    failing on its `max_attempts`-th receive becomes a dead letter in the store (listed and
    replayable like the local outbox's) and is deleted. A body that is not a QueueMessage is
    only listed: it was not written by this connector's intake (or by another version of it),
    cannot be replayed through the worker, and so goes to the SQS DLQ with its raw bytes.
    """
    received = [parse_record(record) for record in records]
    failures: list[str] = []
    for item in received:
        if item.message is None:
            log("poison_message", sqs_message_id=item.sqs_id, receive_count=item.receive_count, problem=item.problem)
            failures.append(item.sqs_id)
    good = [(item, item.message) for item in received if item.message is not None]
    failed = process([message for _, message in good]) if good else {}
    for item, message in good:
        reason = failed.get(message.id)
        if reason is None:
            continue
        if item.receive_count >= max_attempts:
            give_up(message, reason, item.receive_count)
        else:
            failures.append(item.sqs_id)
    return {"batchItemFailures": [{"itemIdentifier": sqs_id} for sqs_id in failures]}
