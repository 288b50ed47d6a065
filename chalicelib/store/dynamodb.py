"""The store on DynamoDB (STATE_BACKEND=dynamodb): one table, conditional writes where races matter.

Items (pk / sk):

    delivery#<key> / -                        a claim; expires_at (epoch seconds: the table's TTL)
    delivered-log / endpoint#<LRS endpoint>   generation: the delivered-statement log's current one
    delivered#<generation>#<statement id> / - the LRS acknowledged it; expires_at (TTL: DELIVERED_TTL_SECONDS)
    deadletter / <message id>                 source, reason, attempts, first_at, last_at, and
                                              message (JSON) or parts (count of parts below)
    deadletter-part#<message id> / 0000...    zlib-compressed slices of a message too large to inline
    discarded / <discarded_at>#<nanoseconds><random>   a discarded letter's audit record: id, source,
                                              reason, discard_reason, discarded_at, attempts, first_at,
                                              last_at, message or parts (discarded-part#<sk> / 0000...)
    counter / <name>                          value (ADD)
    flag / <name>                             value
    award#<key> / -                           state, vendor_id, detail (JSON), reason, updated_at
    progress#["<learner>","<rule>"] / <criterion>   at
    cursor / <name>                           value, updated_at
    run / ["<source>","<mode>","last|success"]   record (JSON): the last run, the last successful one
    verified / <name>                         at: the last call with those credentials that succeeded
    expiry#<YYYY-MM-DD> / <credential key>    expires_at, event (JSON): the day's due expiries
    expiry-of#<credential key> / -            day: where the credential's expiry item is
    expiry-since / -                          day: no expiry item is in an earlier day
    sharelink#<link id> / -                   channel, target, created_at, event (JSON)

Keys longer than MAX_KEY_BYTES, or not encodable as UTF-8, become <kind>-sha256#<hex digest>.
boto3 is imported on first use only: every Lambda function imports app.py (see queue/sqs.py).
Only GetItem, PutItem, UpdateItem, DeleteItem, Query, BatchGetItem and BatchWriteItem are used:
the stage IAM policies allow exactly those. Reads and unconditional writes of many items go in
batches (docs/cost.md); a write whose condition decides something (a claim, a settle) stays one
call per item, since BatchWriteItem takes no condition.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..awsclients import aws_client
from . import DeadLetter, DeadLetterHead, DiscardedLetter, Expiry, LetterFilter, Run, RunHistory, ShareLink

# The table, as infra/merge_template.py creates it in AWS and the contract tests under moto.
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "BillingMode": "PAY_PER_REQUEST",
}
TTL_ATTRIBUTE = "expires_at"

DEAD = "deadletter"
DISCARDED = "discarded"
HEAD_ATTRIBUTES = ("source", "reason", "attempts", "first_at", "last_at")
COUNTER = "counter"
FLAG = "flag"
CURSOR = "cursor"
RUN = "run"
VERIFIED = "verified"
EXPIRY_SINCE = "expiry-since"
DELIVERED_LOG = "delivered-log"
# A delivered record outlives this long: a statement skipped since is then sent once more (the LRS
# answers that it holds it) and recorded again.
DELIVERED_TTL_SECONDS = 180 * 24 * 3600
SINGLE = "-"  # the sort key of kinds with one item per partition
# A partition key may be 2048 bytes: longer (attacker-chosen) delivery ids are hashed, not refused.
MAX_KEY_BYTES = 1024
# An item may be 400 KB but an SQS message 1 MB: larger messages go compressed into part items.
INLINE_MESSAGE_BYTES = 200_000
PART_BYTES = 300_000
CONDITION_FAILED = "ConditionalCheckFailedException"
BATCH_GET, BATCH_WRITE = 100, 25  # the most keys of a BatchGetItem, requests of a BatchWriteItem
BATCH_ATTEMPTS = 8  # calls of one batch while DynamoDB leaves part of it unprocessed


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DynamoDbStore:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        """The low-level client: thread-safe, unlike boto3 resources."""
        return self._client or aws_client("dynamodb")

    # -- delivery de-duplication -----------------------------------------------------------------

    def claim_delivery(self, key: str, ttl_seconds: int) -> bool:
        now = int(time.time())
        item = _item(pk=_pk("delivery", key), sk=SINGLE, **{TTL_ATTRIBUTE: now + ttl_seconds})
        # TTL deletion is lazy (up to 48 h): a claim past its expiry that still exists is free again.
        # `<=` as in SQLite, so a claim made with ttl_seconds=0 has expired at once.
        return self._claim(item, f"attribute_not_exists(pk) OR {TTL_ATTRIBUTE} <= :now", _values(now=now))

    def delivery_seen(self, key: str) -> bool:
        item = self._get(_pk("delivery", key), SINGLE)
        return item is not None and item.get(TTL_ATTRIBUTE, 0) > int(time.time())

    def claim_deliveries(self, keys: list[str], ttl_seconds: int) -> set[str]:
        # One conditional write each: BatchWriteItem takes no conditions.
        return {key for key in keys if self.claim_delivery(key, ttl_seconds)}

    def seen_deliveries(self, keys: list[str]) -> set[str]:
        return self._unexpired({_pk("delivery", key): key for key in keys})

    def release_delivery(self, key: str) -> None:
        self._delete(_pk("delivery", key), SINGLE)

    # -- the delivered-statement log -------------------------------------------------------------
    # Records are keyed by the endpoint's generation: forgetting an endpoint is one DeleteItem of
    # its generation, and the records of the old one expire by TTL.

    def delivered_ids(self, endpoint: str, ids: list[str]) -> set[str]:
        generation = self._delivered_generation(endpoint, create=False)
        if generation is None:
            return set()
        return self._unexpired({_pk("delivered", f"{generation}#{i}"): i for i in ids})

    def record_delivered(self, endpoint: str, ids: list[str]) -> None:
        if not ids:
            return
        generation = self._delivered_generation(endpoint, create=True)
        if generation is None:  # forgotten while being created: recording nothing only costs a resend
            return
        expires_at = int(time.time()) + DELIVERED_TTL_SECONDS
        self._write_many(
            [
                {
                    "PutRequest": {
                        "Item": _item(
                            pk=_pk("delivered", f"{generation}#{i}"), sk=SINGLE, **{TTL_ATTRIBUTE: expires_at}
                        )
                    }
                }
                for i in dict.fromkeys(ids)
            ]
        )

    def forget_delivered(self, endpoint: str) -> None:
        self._delete(DELIVERED_LOG, _pk("endpoint", endpoint))

    def count_delivered(self, endpoint: str) -> int | None:
        # Records are single items by statement id: counting them is a Scan of the whole table.
        return 0 if self._delivered_generation(endpoint, create=False) is None else None

    def _delivered_generation(self, endpoint: str, create: bool) -> str | None:
        """The endpoint's current generation; with create, a new one when it has none (the first
        writer's wins: two workers recording at once share it)."""
        from botocore.exceptions import ClientError

        key = _pk("endpoint", endpoint)
        item = self._get(DELIVERED_LOG, key)
        if item is not None or not create:
            return item["generation"] if item else None
        fresh = uuid.uuid4().hex
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_item(pk=DELIVERED_LOG, sk=key, generation=fresh),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return fresh
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise
        item = self._get(DELIVERED_LOG, key)
        return item["generation"] if item else None

    def _unexpired(self, by_pk: dict[str, str]) -> set[str]:
        """The keys (values of by_pk, by partition key) whose single item exists and has not expired."""
        now = int(time.time())
        return {
            by_pk[item["pk"]]
            for item in self._get_many([(pk, SINGLE) for pk in by_pk])
            if item.get(TTL_ATTRIBUTE, 0) > now
        }

    # -- dead letters ----------------------------------------------------------------------------

    def put_dead_letter(self, message_id: str, source: str, reason: str, message: dict) -> DeadLetter:
        body = json.dumps(message)  # ASCII: lone surrogates from JSON input survive
        parts = self._put_parts(message_id, body) if len(body) > INLINE_MESSAGE_BYTES else 0
        now = _now_iso()
        stored = "#parts = :parts REMOVE #message" if parts else "#message = :message REMOVE #parts"
        old = _plain(
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(DEAD, message_id),
                UpdateExpression=(
                    "SET #source = :source, #reason = :reason, #last_at = :now, "
                    f"#first_at = if_not_exists(#first_at, :now), {stored} ADD #attempts :one"
                ),
                ExpressionAttributeNames=_names(
                    "source", "reason", "last_at", "first_at", "parts", "message", "attempts"
                ),
                ExpressionAttributeValues=_values(
                    source=source, reason=reason, now=now, one=1, **({"parts": parts} if parts else {"message": body})
                ),
                ReturnValues="ALL_OLD",  # atomic with the ADD: old attempts + 1 is exactly this write's count
            ).get("Attributes", {})
        )
        self._delete_parts(message_id, keep=parts, had=old.get("parts", 0))
        attempts = old.get("attempts", 0) + 1
        return DeadLetter(message_id, source, reason, json.loads(body), attempts, old.get("first_at", now), now)

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        # Ordered by (first_at, id) like SQLite: the sort key is the id, so sort here.
        items = sorted(self._query(DEAD), key=lambda i: (i["first_at"], i["sk"]))
        return [self._letter(item) for item in (items[:limit] if limit else items)]

    def dead_letter(self, message_id: str) -> DeadLetter | None:
        item = self._get(DEAD, message_id)
        return self._letter(item) if item else None

    def delete_dead_letter(self, message_id: str) -> None:
        # The letter first: a letter never points at parts that are gone.
        old = self.client.delete_item(TableName=self.table_name, Key=_key(DEAD, message_id), ReturnValues="ALL_OLD")
        self._delete_parts(message_id, keep=0, had=_plain(old.get("Attributes", {})).get("parts", 0))

    def count_dead_letters(self) -> int:
        return sum(page["Count"] for page in self._pages(DEAD, Select="COUNT"))

    def dead_letter_heads(self, where: LetterFilter) -> list[DeadLetterHead]:
        # Messages stay in the table (projection) and sources and times are filtered there; the
        # reason here: DynamoDB's contains() tells case apart. The order needs every head anyway.
        test, values = _head_filter(where)
        pages = self._pages(
            DEAD,
            values,
            ProjectionExpression="sk, " + ", ".join(f"#{n}" for n in HEAD_ATTRIBUTES),
            ExpressionAttributeNames=_names(*HEAD_ATTRIBUTES),
            **({"FilterExpression": test} if test else {}),
        )
        items = (_plain(item) for page in pages for item in page.get("Items", []))
        heads = sorted(
            (
                DeadLetterHead(i["sk"], i["source"], i["reason"], i.get("attempts", 0), i["first_at"], i["last_at"])
                for i in items
                if where.reason_matches(i["reason"])
            ),
            key=lambda h: (h.first_at, h.id),
        )
        return heads[: where.limit] if where.limit else heads

    def discard_dead_letter(self, message_id: str, reason: str) -> DiscardedLetter | None:
        letter = self.dead_letter(message_id)
        if letter is None:
            return None
        record = DiscardedLetter.of(letter, reason, _now_iso())
        sk = f"{record.discarded_at}#{time.time_ns():020d}{uuid.uuid4().hex[:8]}"  # latest last, never shared
        body = json.dumps(record.message)
        parts = self._put_parts(sk, body, "discarded-part") if len(body) > INLINE_MESSAGE_BYTES else 0
        fields = {name: getattr(record, name) for name in ("id", "discard_reason", "discarded_at", *HEAD_ATTRIBUTES)}
        self.client.put_item(
            TableName=self.table_name,
            Item=_item(pk=DISCARDED, sk=sk, **fields, **({"parts": parts} if parts else {"message": body})),
        )
        self.delete_dead_letter(message_id)  # after its record: a discard is never a silent delete
        return record

    def discarded_letters(self, limit: int | None = None) -> list[DiscardedLetter]:
        found: list[DiscardedLetter] = []
        options: dict[str, Any] = {"Limit": limit} if limit else {}
        for page in self._pages(DISCARDED, ScanIndexForward=False, **options):
            found.extend(self._discarded(_plain(item)) for item in page.get("Items", []))
            if limit and len(found) >= limit:
                return found[:limit]
        return found

    # -- counters and flags ----------------------------------------------------------------------

    def increment(self, counters: dict[str, int]) -> None:
        # One atomic ADD per counter; a batch's counters are statistics, not a transaction.
        for name, value in counters.items():
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(COUNTER, name),
                UpdateExpression="ADD #value :value",
                ExpressionAttributeNames=_names("value"),
                ExpressionAttributeValues=_values(value=value),
            )

    def counters(self) -> dict[str, int]:
        return {item["sk"]: item.get("value", 0) for item in self._query(COUNTER)}

    def set_flag(self, name: str, value: str | None) -> None:
        if value is None:
            self._delete(FLAG, name)
        else:
            self.client.put_item(TableName=self.table_name, Item=_item(pk=FLAG, sk=name, value=value))

    def flags(self) -> dict[str, str]:
        return {item["sk"]: item["value"] for item in self._query(FLAG)}

    # -- award ledger and progress ---------------------------------------------------------------

    def claim_award(self, key: str) -> bool:
        item = _item(pk=_pk("award", key), sk=SINGLE, state="claimed", updated_at=_now_iso())
        return self._claim(
            item, "attribute_not_exists(pk) OR #state = :failed", _values(failed="failed"), _names("state")
        )

    def complete_award(self, key: str, vendor_id: str, detail: dict) -> None:
        self._set_award(key, "awarded", vendor_id=vendor_id, detail=json.dumps(detail))

    def fail_award(self, key: str, reason: str) -> None:
        self._set_award(key, "failed", reason=reason)

    def _set_award(self, key: str, state: str, **fields: str) -> None:
        from botocore.exceptions import ClientError

        sets = ", ".join(f"#{name} = :{name}" for name in fields)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(_pk("award", key), SINGLE),
                UpdateExpression=f"SET #state = :state, #updated_at = :now, {sets}",
                ConditionExpression="attribute_exists(pk)",  # as SQLite's UPDATE: no claim, no record
                ExpressionAttributeNames=_names("state", "updated_at", *fields),
                ExpressionAttributeValues=_values(state=state, now=_now_iso(), **fields),
            )
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise

    def release_award(self, key: str) -> None:
        self._delete(_pk("award", key), SINGLE)

    def award(self, key: str) -> dict | None:
        item = self._get(_pk("award", key), SINGLE)
        if not item:
            return None
        record: dict[str, Any] = {k: item[k] for k in ("state", "vendor_id", "reason", "updated_at") if k in item}
        if "detail" in item:
            record["detail"] = json.loads(item["detail"])
        return record

    def add_progress(self, learner: str, rule: str, criterion: str, at: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_item(pk=_progress_pk(learner, rule), sk=criterion, at=at),
                # ISO strings compare by UTF-8 bytes here and in SQLite alike: the latest time wins.
                ConditionExpression="attribute_not_exists(pk) OR #at < :at",
                ExpressionAttributeNames=_names("at"),
                ExpressionAttributeValues=_values(at=at),
            )
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise  # otherwise a later time is already stored: keep it

    def progress(self, learner: str, rule: str) -> dict[str, str]:
        return {item["sk"]: item["at"] for item in self._query(_progress_pk(learner, rule))}

    # -- pulls and the expiry sweep ----------------------------------------------------------------

    def cursor(self, name: str) -> str | None:
        item = self._get(CURSOR, name)
        return item["value"] if item else None

    def set_cursor(self, name: str, value: str | None) -> None:
        if value is None:
            self._delete(CURSOR, name)
        else:
            self.client.put_item(
                TableName=self.table_name, Item=_item(pk=CURSOR, sk=name, value=value, updated_at=_now_iso())
            )

    def cursor_updated_at(self, name: str) -> str | None:
        item = self._get(CURSOR, name)
        return item.get("updated_at") if item else None

    def record_run(self, run: Run) -> None:
        for slot in ("last", "success") if run.succeeded else ("last",):
            sk = json.dumps([run.source, run.mode, slot])  # JSON: a '#' in a CSV label cannot mix fields up
            self.client.put_item(TableName=self.table_name, Item=_item(pk=RUN, sk=sk, record=run.to_json()))

    def runs(self) -> list[RunHistory]:
        found: dict[tuple[str, str], dict[str, Run]] = {}
        for item in self._query(RUN):
            source, mode, slot = json.loads(item["sk"])
            found.setdefault((source, mode), {})[slot] = Run.from_json(item["record"])
        return [RunHistory(slots["last"], slots.get("success")) for _, slots in sorted(found.items())]

    def set_verified(self, name: str, at: str) -> None:
        self.client.put_item(TableName=self.table_name, Item=_item(pk=VERIFIED, sk=name, at=at))

    def verified(self) -> dict[str, str]:
        return {item["sk"]: item["at"] for item in self._query(VERIFIED)}

    def remember_expiry(self, key: str, expires_at: str, event: dict) -> None:
        day = expires_at[:10]
        self._move_expiry(key, day)
        self.client.put_item(
            TableName=self.table_name,
            Item=_item(pk=f"expiry#{day}", sk=key, expires_at=expires_at, event=json.dumps(event)),
        )
        self.client.put_item(TableName=self.table_name, Item=_item(pk=_pk("expiry-of", key), sk=SINGLE, day=day))
        self._lower_expiry_since(day)

    def update_expiries(self, remember: list[Expiry], forget: list[str]) -> None:
        """remember_expiry and forget_expiry for a batch, in batched reads and writes: as one by
        one, a key's last remember wins and a forget comes after every remember."""
        latest = {expiry.key: expiry for expiry in remember if expiry.key not in set(forget)}
        keys = list(dict.fromkeys([*latest, *forget]))
        where = {item["pk"]: item["day"] for item in self._get_many([(_pk("expiry-of", k), SINGLE) for k in keys])}
        moved: list[dict] = []  # day items leaving their day: gone before anything points elsewhere
        writes: list[dict] = []
        for key in keys:
            expiry, old_day = latest.get(key), where.get(_pk("expiry-of", key))
            day = expiry.expires_at[:10] if expiry else None
            if old_day and old_day != day:
                moved.append({"DeleteRequest": {"Key": _key(f"expiry#{old_day}", key)}})
            if expiry is None:
                writes.append({"DeleteRequest": {"Key": _key(_pk("expiry-of", key), SINGLE)}})
                continue
            writes.append(
                {
                    "PutRequest": {
                        "Item": _item(
                            pk=f"expiry#{day}", sk=key, expires_at=expiry.expires_at, event=json.dumps(expiry.event)
                        )
                    }
                }
            )
            writes.append({"PutRequest": {"Item": _item(pk=_pk("expiry-of", key), sk=SINGLE, day=day)}})
        self._write_many(moved)
        self._write_many(writes)
        if latest:  # after the items, as remember_expiry: a sweep that raised it meanwhile is lowered back
            self._lower_expiry_since(min(e.expires_at[:10] for e in latest.values()))

    def forget_expiry(self, key: str) -> None:
        self._move_expiry(key, None)
        self._delete(_pk("expiry-of", key), SINGLE)

    def due_expiries(self, as_of: str, limit: int = 100) -> list[Expiry]:
        """Day partitions from the earliest that may hold an item up to as_of's day; the earliest
        moves forward past days found empty, so a sweep reads few partitions."""
        since = self._get(EXPIRY_SINCE, SINGLE)
        if since is None:
            return []
        found: list[Expiry] = []
        day = since["day"]
        while day <= as_of[:10] and len(found) < limit:
            items = sorted(self._query(f"expiry#{day}"), key=lambda i: (i["expires_at"], i["sk"]))
            found.extend(
                Expiry(i["sk"], i["expires_at"], json.loads(i["event"])) for i in items if i["expires_at"] <= as_of
            )
            if not items and day < as_of[:10] and day == since["day"]:
                since = {"day": _next_day(day)}
                self._raise_expiry_since(day, since["day"])
            day = _next_day(day)
        return found[:limit]

    def settle_expiry(self, key: str, expires_at: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=_key(f"expiry#{expires_at[:10]}", key),
                ConditionExpression="#expires_at = :at",
                ExpressionAttributeNames=_names("expires_at"),
                ExpressionAttributeValues=_values(at=expires_at),
            )
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise
            return  # renewed meanwhile: its new expiry stands
        self._delete(_pk("expiry-of", key), SINGLE)

    def _move_expiry(self, key: str, day: str | None) -> None:
        """Remove the credential's expiry item from its former day (renewal or forgetting)."""
        where = self._get(_pk("expiry-of", key), SINGLE)
        if where and where["day"] != day:
            self._delete(f"expiry#{where['day']}", key)

    def _lower_expiry_since(self, day: str) -> None:
        self._conditional_update(EXPIRY_SINCE, "SET #day = :day", "attribute_not_exists(#day) OR #day > :day", day)

    def _raise_expiry_since(self, old: str, new: str) -> None:
        # Only from the day read: a concurrent remember of an earlier day wins.
        self._conditional_update(EXPIRY_SINCE, "SET #day = :day", "#day = :old", new, old=old)

    def _conditional_update(self, pk: str, update: str, condition: str, day: str, **more: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(pk, SINGLE),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=_names("day"),
                ExpressionAttributeValues=_values(day=day, **more),
            )
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise

    # -- tracked share links -----------------------------------------------------------------------

    def put_share_link(self, link: ShareLink) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=_item(
                pk=_pk("sharelink", link.id),
                sk=SINGLE,
                channel=link.channel,
                target=link.target,
                created_at=link.created_at,
                event=json.dumps(link.event),
            ),
        )

    def share_link(self, link_id: str) -> ShareLink | None:
        item = self._get(_pk("sharelink", link_id), SINGLE)
        if item is None:
            return None
        return ShareLink(link_id, item["channel"], item["target"], item["created_at"], json.loads(item["event"]))

    # -- plumbing --------------------------------------------------------------------------------

    def _claim(self, item: dict, condition: str, values: dict, names: dict | None = None) -> bool:
        """Conditional put: True when written by this call.

        The SDK retries a put whose answer was lost; the retry then fails its condition against
        our own write. A token per call tells that apart from another caller's claim."""
        from botocore.exceptions import ClientError

        token = uuid.uuid4().hex
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**item, **_item(claim=token)},
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
            return True
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise
            return _plain(error.response.get("Item", {})).get("claim") == token

    def _letter(self, item: dict) -> DeadLetter:
        message_id = item["sk"]
        body = item["message"] if "message" in item else self._read_parts(message_id, item.get("parts", 0))
        return DeadLetter(
            id=message_id,
            source=item["source"],
            reason=item["reason"],
            message=json.loads(body),
            attempts=item.get("attempts", 0),
            first_at=item["first_at"],
            last_at=item["last_at"],
        )

    def _discarded(self, item: dict) -> DiscardedLetter:
        body = item["message"] if "message" in item else self._read_parts(item["sk"], item["parts"], "discarded-part")
        return DiscardedLetter(
            item["id"],
            item["source"],
            item["reason"],
            item["discard_reason"],
            item["discarded_at"],
            json.loads(body),
            item["attempts"],
            item["first_at"],
            item["last_at"],
        )

    def _put_parts(self, message_id: str, body: str, kind: str = "deadletter-part") -> int:
        packed = zlib.compress(body.encode("ascii"), 6)
        slices = [packed[start : start + PART_BYTES] for start in range(0, len(packed), PART_BYTES)]
        for index, data in enumerate(slices):
            item = _item(pk=_pk(kind, message_id), sk=f"{index:04d}", data=data)
            self.client.put_item(TableName=self.table_name, Item=item)
        return len(slices)

    def _read_parts(self, message_id: str, count: int, kind: str = "deadletter-part") -> str:
        items = sorted(self._query(_pk(kind, message_id)), key=lambda i: i["sk"])[:count]
        if len(items) != count:
            raise RuntimeError(f"dead letter {message_id}: {len(items)} of {count} message parts found")
        return zlib.decompress(b"".join(i["data"] for i in items)).decode("ascii")

    def _delete_parts(self, message_id: str, keep: int, had: int) -> None:
        """Remove the parts a letter no longer uses (a smaller message, or the letter deleted)."""
        for index in range(keep, had):
            self._delete(_pk("deadletter-part", message_id), f"{index:04d}")

    def _get(self, pk: str, sk: str) -> dict | None:
        # Strongly consistent: a read right after a write (replay, health) must see it.
        item = self.client.get_item(TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=True).get("Item")
        return _plain(item) if item is not None else None

    def _delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=_key(pk, sk))

    def _get_many(self, keys: list[tuple[str, str]]) -> list[dict]:
        """The items found of distinct `keys`, strongly consistent as _get, BATCH_GET keys a call."""
        found: list[dict] = []
        for start in range(0, len(keys), BATCH_GET):
            pending: dict = {
                self.table_name: {
                    "Keys": [_key(pk, sk) for pk, sk in keys[start : start + BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            for answer in self._until_processed(self.client.batch_get_item, pending, "UnprocessedKeys"):
                found.extend(map(_plain, answer.get("Responses", {}).get(self.table_name, [])))
        return found

    def _write_many(self, requests: list[dict]) -> None:
        """Unconditional puts and deletes, BATCH_WRITE a call (no two on one key in a call)."""
        for start in range(0, len(requests), BATCH_WRITE):
            pending = {self.table_name: requests[start : start + BATCH_WRITE]}
            for _ in self._until_processed(self.client.batch_write_item, pending, "UnprocessedItems"):
                pass

    def _until_processed(self, call: Any, pending: dict, left_key: str) -> Iterator[dict]:
        """A batch call, again on what DynamoDB left unprocessed (throttled), with a growing pause."""
        for attempt in range(BATCH_ATTEMPTS):
            answer = call(RequestItems=pending)
            yield answer
            pending = answer.get(left_key) or {}
            if not pending:
                return
            time.sleep(min(1.0, 0.05 * 2**attempt))
        raise RuntimeError(f"DynamoDB left part of a batch unprocessed after {BATCH_ATTEMPTS} attempts")

    def _query(self, pk: str) -> Iterator[dict]:
        """The items of a partition, as plain values (see _plain)."""
        for page in self._pages(pk):
            yield from map(_plain, page.get("Items", []))

    def _pages(self, pk: str, values: dict | None = None, **options: Any) -> Iterator[dict]:
        """Every page of a partition, following LastEvaluatedKey (a Query returns at most 1 MB)."""
        start: dict | None = None
        while True:
            page = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={**_values(pk=pk), **(values or {})},
                ConsistentRead=True,
                **options,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            yield page
            start = page.get("LastEvaluatedKey")
            if not start:
                return


def _pk(kind: str, key: str) -> str:
    """The partition key of one item of a kind; hashed when DynamoDB could not take the key as is."""
    try:
        if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
            return f"{kind}#{key}"
    except UnicodeEncodeError:  # a lone surrogate (valid in JSON) cannot go over the wire
        pass
    # A different prefix, so no literal key can collide with a hashed one.
    return f"{kind}-sha256#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _head_filter(where: LetterFilter) -> tuple[str, dict]:
    """The FilterExpression of a filter's sources and times, and its values."""
    tests, values = [], {f"source{index}": source for index, source in enumerate(where.sources)}
    if where.sources:
        tests.append(f"#source IN ({', '.join(f':{name}' for name in values)})")
    for name, test in (("since", "#last_at >= :since"), ("until", "#last_at < :until")):
        if getattr(where, name):
            tests.append(test)
            values[name] = getattr(where, name)
    return " AND ".join(tests), _values(**values)


def _next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


def _progress_pk(learner: str, rule: str) -> str:
    # JSON, not "learner#rule": ("a#b", "c") and ("a", "b#c") must stay apart.
    return _pk("progress", json.dumps([learner, rule]))


def _key(pk: str, sk: str) -> dict[str, dict]:
    return _item(pk=pk, sk=sk)


# -- attribute values: boto3's own encoding, on the low-level client's wire format --------------
# Only str (S), int (N) and bytes (B) are stored: int, not float, so every N is a whole number.


@functools.cache
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer  # here, not at import: see the module docstring

    return TypeSerializer()  # stateless: shared by all threads


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _item(**values: Any) -> dict[str, dict]:
    """An item (or key) in attribute-value form: {"pk": {"S": ...}, "expires_at": {"N": ...}}."""
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in values.items()}


def _values(**values: Any) -> dict[str, dict]:
    """ExpressionAttributeValues: _values(now=1) is {":now": {"N": "1"}}."""
    return {f":{name}": value for name, value in _item(**values).items()}


def _plain(item: dict) -> dict[str, Any]:
    """An item as the Python values it was written from (the reverse of _item)."""
    deserialize = _deserializer().deserialize
    return {name: _native(deserialize(value)) for name, value in item.items()}


def _native(value: Any) -> Any:
    """TypeDeserializer gives Decimal for N and Binary for B: the store wrote int and bytes."""
    from boto3.dynamodb.types import Binary  # already imported by _deserializer

    if isinstance(value, Decimal):
        return int(value)
    return value.value if isinstance(value, Binary) else value


def _names(*names: str) -> dict[str, str]:
    """Placeholders for attribute names: several (source, value, state, ...) are reserved words."""
    return {f"#{name}": name for name in names}


def _code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")
