"""One store fixture, two backends: every contract test runs against SQLite and DynamoDB (moto)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

TABLE = "connector-state"


def create_table(name: str) -> None:
    """The table as infra/merge_template.py declares it: same schema constant, TTL enabled."""
    import boto3

    from chalicelib.store.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE

    client = boto3.client("dynamodb")
    client.create_table(TableName=name, **TABLE_SCHEMA)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@pytest.fixture
def moto_is_atomic(monkeypatch) -> None:
    """DynamoDB applies each write atomically; moto checks a condition and then writes without a
    lock, so threads can interleave there. Serialise moto's writes: the race tests must test the
    store's conditions, not moto's."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def serialised(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


@pytest.fixture
def dynamodb_store(request, moto_is_atomic) -> Any:
    request.getfixturevalue("mocked_aws")  # tests/conftest.py: fake credentials, region, mock_aws()
    create_table(TABLE)
    from chalicelib.store.dynamodb import DynamoDbStore

    return DynamoDbStore(TABLE)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path) -> Iterator[Any]:
    if request.param == "sqlite":
        from chalicelib.store.sqlite import SqliteStore

        sqlite = SqliteStore(str(tmp_path / "state.sqlite"))
        yield sqlite
        sqlite.db.close()
    else:
        yield request.getfixturevalue("dynamodb_store")


@pytest.fixture
def backend_calls(store) -> Counter:
    """DynamoDB operations the store made, by name (empty for SQLite): proves paging happened."""
    calls: Counter = Counter()
    if hasattr(store, "client"):
        store.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    return calls
