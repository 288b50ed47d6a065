"""One store fixture, two backends: every contract test runs against SQLite and DynamoDB (moto)."""

from __future__ import annotations

import pytest


def create_table(name: str) -> None:
    import boto3

    from chalicelib.store.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE

    client = boto3.client("dynamodb")
    client.create_table(TableName=name, **TABLE_SCHEMA)
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    if request.param == "sqlite":
        from chalicelib.store.sqlite import SqliteStore

        return SqliteStore(str(tmp_path / "state.sqlite"))
    request.getfixturevalue("mocked_aws")
    create_table("connector-state")
    from chalicelib.store.dynamodb import DynamoDbStore

    return DynamoDbStore("connector-state")
