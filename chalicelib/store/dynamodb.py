"""The store on DynamoDB: one table (pk, sk), TTL on `expires_at`, conditional writes where races matter.

Items: delivery#<key> (claims), deadletter/<id>, counter/<name>, flag/<name>,
award#<key> (ledger), progress#<learner>#<rule>/<criterion>.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Iterator

from . import DeadLetter

# The table, as infra/ creates it in AWS and the tests create it under moto.
TABLE_SCHEMA = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "BillingMode": "PAY_PER_REQUEST",
}
TTL_ATTRIBUTE = "expires_at"

DEAD = "deadletter"
COUNTER = "counter"
FLAG = "flag"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class DynamoDbStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._table = None
        self._lock = threading.Lock()

    @property
    def table(self):
        with self._lock:
            if self._table is None:
                import boto3  # only the AWS path pays for it, on first use

                self._table = boto3.resource("dynamodb").Table(self.table_name)
            return self._table

    # -- delivery de-duplication -----------------------------------------------------------------

    def claim_delivery(self, key: str, ttl_seconds: int) -> bool:
        now = int(time.time())
        # TTL deletion lags (up to days): an expired claim must be claimable again meanwhile.
        return self._put_if(
            {"pk": f"delivery#{key}", "sk": "-", "expires_at": now + ttl_seconds},
            "attribute_not_exists(pk) OR expires_at <= :now",
            {":now": now},
        )

    def release_delivery(self, key: str) -> None:
        self.table.delete_item(Key={"pk": f"delivery#{key}", "sk": "-"})

    # -- dead letters ----------------------------------------------------------------------------

    def put_dead_letter(self, message_id: str, source: str, reason: str, message: dict) -> DeadLetter:
        now = _now_iso()
        item = self.table.update_item(
            Key={"pk": DEAD, "sk": message_id},
            UpdateExpression=(
                "SET #source = :source, reason = :reason, message = :message, last_at = :now, "
                "first_at = if_not_exists(first_at, :now) ADD attempts :one"
            ),
            ExpressionAttributeNames={"#source": "source"},
            ExpressionAttributeValues={":source": source, ":reason": reason, ":message": json.dumps(message),
                                       ":now": now, ":one": 1},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _letter(item)

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        letters = sorted((_letter(i) for i in self._query(DEAD)), key=lambda l: (l.first_at, l.id))
        return letters[:limit] if limit else letters

    def dead_letter(self, message_id: str) -> DeadLetter | None:
        item = self.table.get_item(Key={"pk": DEAD, "sk": message_id}).get("Item")
        return _letter(item) if item else None

    def delete_dead_letter(self, message_id: str) -> None:
        self.table.delete_item(Key={"pk": DEAD, "sk": message_id})

    def count_dead_letters(self) -> int:
        return sum(1 for _ in self._query(DEAD, Select="COUNT"))

    # -- counters and flags ----------------------------------------------------------------------

    def increment(self, counters: dict[str, int]) -> None:
        for name, value in counters.items():
            self.table.update_item(
                Key={"pk": COUNTER, "sk": name}, UpdateExpression="ADD #v :v",
                ExpressionAttributeNames={"#v": "value"}, ExpressionAttributeValues={":v": value},
            )

    def counters(self) -> dict[str, int]:
        return {i["sk"]: int(i["value"]) for i in self._query(COUNTER)}

    def set_flag(self, name: str, value: str | None) -> None:
        if value is None:
            self.table.delete_item(Key={"pk": FLAG, "sk": name})
        else:
            self.table.put_item(Item={"pk": FLAG, "sk": name, "value": value})

    def flags(self) -> dict[str, str]:
        return {i["sk"]: i["value"] for i in self._query(FLAG)}

    # -- award ledger and progress ---------------------------------------------------------------

    def claim_award(self, key: str) -> bool:
        return self._put_if(
            {"pk": f"award#{key}", "sk": "-", "state": "claimed", "updated_at": _now_iso()},
            "attribute_not_exists(pk) OR #state = :failed",
            {":failed": "failed"},
            {"#state": "state"},
        )

    def complete_award(self, key: str, vendor_id: str, detail: dict) -> None:
        self._set_award(key, "awarded", vendor_id=vendor_id, detail=json.dumps(detail))

    def fail_award(self, key: str, reason: str) -> None:
        self._set_award(key, "failed", reason=reason)

    def _set_award(self, key: str, state: str, **fields: str) -> None:
        values = {f":{k}": v for k, v in fields.items()}
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        self.table.update_item(
            Key={"pk": f"award#{key}", "sk": "-"},
            UpdateExpression=f"SET #state = :state, updated_at = :now, {sets}",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": state, ":now": _now_iso(), **values},
        )

    def release_award(self, key: str) -> None:
        self.table.delete_item(Key={"pk": f"award#{key}", "sk": "-"})

    def award(self, key: str) -> dict | None:
        item = self.table.get_item(Key={"pk": f"award#{key}", "sk": "-"}).get("Item")
        if not item:
            return None
        record = {k: item.get(k) for k in ("state", "vendor_id", "reason", "updated_at")}
        if item.get("detail"):
            record["detail"] = json.loads(item["detail"])
        return {k: v for k, v in record.items() if v is not None}

    def add_progress(self, learner: str, rule: str, criterion: str, at: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.table.put_item(
                Item={"pk": f"progress#{learner}#{rule}", "sk": criterion, "at": at},
                ConditionExpression="attribute_not_exists(pk) OR #at < :at",
                ExpressionAttributeNames={"#at": "at"}, ExpressionAttributeValues={":at": at},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # otherwise a later time is already stored: keep it

    def progress(self, learner: str, rule: str) -> dict[str, str]:
        return {i["sk"]: i["at"] for i in self._query(f"progress#{learner}#{rule}")}

    # -- plumbing --------------------------------------------------------------------------------

    def _put_if(self, item: dict, condition: str, values: dict, names: dict | None = None) -> bool:
        from botocore.exceptions import ClientError

        options: dict[str, Any] = {"ConditionExpression": condition, "ExpressionAttributeValues": values}
        if names:
            options["ExpressionAttributeNames"] = names
        try:
            self.table.put_item(Item=item, **options)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def _query(self, pk: str, **options: Any) -> Iterator[dict]:
        """Every item of a partition, following LastEvaluatedKey (a Query returns at most 1 MB)."""
        from boto3.dynamodb.conditions import Key

        start: dict | None = None
        while True:
            page = self.table.query(
                KeyConditionExpression=Key("pk").eq(pk), **options, **({"ExclusiveStartKey": start} if start else {})
            )
            if options.get("Select") == "COUNT":
                yield from range(page["Count"])
            else:
                yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return


def _letter(item: dict) -> DeadLetter:
    return DeadLetter(
        id=item["sk"], source=item["source"], reason=item["reason"], message=json.loads(item["message"]),
        attempts=int(item["attempts"]), first_at=item["first_at"], last_at=item["last_at"],
    )
