"""The DynamoDB store and the expiry sweep batch their calls (docs/cost.md): counted with a
botocore hook on the store's client under moto, and checked to give what one-by-one calls gave."""

from __future__ import annotations

from collections import Counter
from datetime import UTC

import pytest

from tests.support.stores import TABLE, create_table

pytestmark = pytest.mark.contract


@pytest.fixture
def calls(mocked_aws):
    """(store, Counter of API operations made through the store's client)."""
    from chalicelib.awsclients import aws_client
    from chalicelib.store.dynamodb import DynamoDbStore

    create_table(TABLE)
    counted: Counter = Counter()
    client = aws_client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda model, **_: counted.update([model.name]))
    return DynamoDbStore(TABLE), counted


def at(day: int) -> str:
    return f"2027-01-{day:02d}T12:00:00.000Z"


def test_seen_deliveries_reads_a_hundred_keys_a_call(calls):
    store, counted = calls
    keys = [f"ob:{n}" for n in range(250)]
    store.claim_deliveries(keys[::2], 3600)
    counted.clear()
    assert store.seen_deliveries(keys + keys[:3]) == set(keys[::2])  # repeated keys read once
    assert counted == Counter(BatchGetItem=3)


def test_update_expiries_batches_reads_and_writes_and_keeps_one_by_one_results(calls):
    from chalicelib.store import Expiry

    store, counted = calls
    store.remember_expiry("credly|moved", at(3), {"v": 0})
    store.remember_expiry("credly|revoked", at(4), {})
    remember = [Expiry(f"credly|{n}", at(5 + n % 20), {"n": n}) for n in range(40)]
    remember += [
        Expiry("credly|moved", at(6), {"v": 1}),
        Expiry("credly|moved", at(7), {"v": 2}),
        Expiry("credly|revoked", at(8), {}),
    ]  # the last remember wins; a forget after it
    counted.clear()
    store.update_expiries(remember, ["credly|revoked", "credly|never"])
    # 43 keys read in one call; the moved item's old day deleted first; 41 x 2 puts, 2 deletes in 4 calls;
    # the earliest day lowered once.
    assert counted == Counter(BatchGetItem=1, BatchWriteItem=5, UpdateItem=1)
    due = {e.key: e for e in store.due_expiries("2027-02-01T00:00:00.000Z", 1000)}
    assert len(due) == 41 and "credly|revoked" not in due
    assert (due["credly|moved"].expires_at, due["credly|moved"].event) == (at(7), {"v": 2})
    assert store.due_expiries("2027-01-05T23:59:59.000Z") == [
        Expiry("credly|0", at(5), {"n": 0}),
        Expiry("credly|20", at(5), {"n": 20}),
    ]
    store.forget_expiry("credly|moved")  # its old day's item went: nothing of it is due at day 3
    assert [e.key for e in store.due_expiries(at(3))] == []


def test_a_batch_left_unprocessed_is_sent_again(calls, monkeypatch):
    from chalicelib.store import Expiry

    store, _ = calls
    client = store.client
    original = client.batch_write_item
    held: list[dict] = []

    def throttled(RequestItems):  # noqa: N803 - boto3's parameter name
        if not held:  # the first call: DynamoDB takes only the first request
            ((table, requests),) = RequestItems.items()
            held.extend(requests[1:])
            original(RequestItems={table: requests[:1]})
            return {"UnprocessedItems": {table: held}}
        return original(RequestItems=RequestItems)

    monkeypatch.setattr(client, "batch_write_item", throttled)
    monkeypatch.setattr("chalicelib.store.dynamodb.time.sleep", lambda seconds: None)
    store.update_expiries([Expiry("credly|a", at(3), {}), Expiry("credly|b", at(4), {})], [])
    assert held and [e.key for e in store.due_expiries(at(30))] == ["credly|a", "credly|b"]


def test_the_expiry_sweep_queues_ten_expiries_a_call(calls):
    from datetime import datetime

    import boto3

    from chalicelib.delivery.expiry import sweep
    from chalicelib.queue.sqs import SqsQueue
    from chalicelib.store import Expiry

    store, _ = calls
    url = boto3.client("sqs").create_queue(QueueName="sweep")["QueueUrl"]
    queue = SqsQueue(url)
    event = {
        "kind": "issued",
        "platform": "credly",
        "occurred_at": "2026-01-01T00:00:00Z",
        "credential": {"id": "c", "template_iri": "https://credly.example/t", "name": "Badge", "expires_at": at(3)},
        "learner": {"email": "a@example.com"},
    }
    store.update_expiries(
        [
            Expiry(f"credly|{n}", at(3), {**event, "credential": {**event["credential"], "id": f"c{n}"}})
            for n in range(25)
        ],
        [],
    )
    sent: Counter = Counter()
    queue.client.meta.events.register("before-call.sqs", lambda model, **_: sent.update([model.name]))
    report = sweep(store, queue, datetime(2027, 1, 4, tzinfo=UTC))
    assert report.expired == 25 and store.due_expiries(at(30)) == []
    assert sent == Counter(SendMessageBatch=3)
