"""What the connector costs on AWS: every SQS and DynamoDB call, Lambda invocation and billed ms
per 1,000 events, counted under moto with the real handlers.

    .venv/bin/python bench/aws_cost.py [--events 10000] [--before REV] [--json FILE]

Kinds of event, each run --events times through the deployed path (QUEUE_BACKEND=sqs,
STATE_BACKEND=dynamodb, moto in-process):

  webhook    POST /webhooks/certifier through the Chalice test client, one signed
             credential.issued event a request (distinct ids and recipients)
  pull       a scheduled Credly sync (Services.scheduled_sync, the real PullRunner) from the
             in-process fake Credly API (tools/fakes/credly_api.py, 50 badges a page)
  expiry     the scheduled expiry sweep (Services.scheduled_expiry_sweep) of the expiries that
             the pulled badges left, every one of them due
  award      POST /lap/statements, one passed final exam a request (distinct learners), the award
             worker awarding each through the fake Credly API

and, for each kind, the SQS worker function (Services.handle_sqs_batch) on everything the kind
queued, played as Lambda's event source mapping does: ReceiveMessage of up to 10, the handler,
DeleteMessageBatch of what it did not list as failed (the poller's calls are counted apart:
they are billed to the account too). Credential events go to the real test LRS
(tools/lrs_process.py, Learning Locker's xapi-statements in memory).

Calls are recorded by botocore event hooks on the clients of chalicelib/awsclients.py
(`before-parameter-build` and `after-call`), so every call the code makes is seen whatever its
path. Figures:

  SQS        requests by API call, and billed requests (AWS bills each 64 KB of a request's
             payload as one request)
  DynamoDB   calls by API call, write and read request units computed from item sizes as AWS
             does (1 WRU per started KB of the larger of the item before and after a write, a
             failed condition included; 1 RRU per started 4 KB of a strongly consistent read, a
             missing item 1), since moto's ConsumedCapacity is a constant
  Lambda     invocations (one per API request, one per SQS batch, one per scheduled run) and
             billed ms: the handler's own wall time per invocation rounded up to 1 ms, at the
             function's memory size from .chalice/config.json (dev stage); under moto, AWS
             calls take in-process time instead of a network round trip, so a second figure
             replaces the time spent in AWS calls by --aws-call-ms per call (in-region latency)

Counts are deterministic for a given code and --events; ms are not (machine, moto). --before
REV runs the same bench on the code of git revision REV (exported with `git archive` to a
temporary folder) in a child process and prints both, with the change. Prints figures, never
pass/fail; exits 0.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _code_root(argv: list[str]) -> Path:
    """--code-root (the code measured: another revision's tree with --before) before any import."""
    if "--code-root" in argv:
        return Path(argv[argv.index("--code-root") + 1]).resolve()
    return ROOT


CODE = _code_root(sys.argv)
sys.path[:0] = [str(CODE), str(CODE / "tools"), str(BENCH)]

from quiet_logs import silence_connector_logs  # noqa: E402

# Prices: us-east-1, as published on the AWS pricing pages (see docs/cost.md for the date).
PRICES = {
    "sqs_per_million_requests": 0.40,  # standard queue, after the first million a month
    "dynamodb_per_million_wru": 0.625,  # on-demand write request units
    "dynamodb_per_million_rru": 0.125,  # on-demand read request units
    "lambda_per_gb_second": 0.0000166667,  # x86
    "lambda_per_million_requests": 0.20,
    "api_gateway_per_million": 3.50,  # REST API, first 333 million a month
}
FUNCTIONS = {"api": "api_handler", "worker": "sqs_worker", "sync": "sync_credly", "sweep": "expiry_sweep"}
SQS_CHUNK = 64 * 1024
DRAIN_EVERY = 10  # API requests between two looks at the queue (drain(full_batches=True)): a short queue
ORG, TOKEN = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45", "bench-credly-token"
EXPIRY_DAYS = (400, 500, 700)  # after issue, for three quarters of the pulled badges
TEMPLATE = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"
FIXTURES = CODE / "tests" / "fixtures"
RULES = f"""
[aliases]
final-exam = ["https://lms.example.com/courses/python-301/final-exam"]

[[rules]]
id = "python-expert"
name = "Python Expert"
credential = {{ platform = "credly", id = "{TEMPLATE}" }}
[[rules.statements]]
verb = "passed"
activity = "alias:final-exam"
min_score = 0.8
success = true
"""


# -- item sizes, as DynamoDB counts them ---------------------------------------------------------


def value_size(value: dict) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8", "surrogatepass"))
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1 + (1 if inner.startswith("-") else 0)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    return 3 + item_size(inner)  # M


def item_size(item: dict | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(before: dict | None, after: dict | None) -> int:
    return max(1, math.ceil(max(item_size(before), item_size(after)) / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


# -- the meter ------------------------------------------------------------------------------------


@dataclass
class Tally:
    calls: Counter = field(default_factory=Counter)  # "sqs:SendMessageBatch" -> calls
    sqs_billed: int = 0
    wru: float = 0.0
    rru: float = 0.0
    aws_seconds: float = 0.0
    invocations: dict = field(default_factory=lambda: defaultdict(list))  # function -> [wall seconds, aws calls]
    api_requests: int = 0

    def merge(self, other: Tally) -> None:
        self.calls.update(other.calls)
        self.sqs_billed += other.sqs_billed
        self.wru += other.wru
        self.rru += other.rru
        self.aws_seconds += other.aws_seconds
        for name, runs in other.invocations.items():
            self.invocations[name].extend(runs)
        self.api_requests += other.api_requests


class Meter:
    """botocore hooks on every client the connector uses, and on the poller's own client."""

    def __init__(self) -> None:
        import boto3

        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.phase: str | None = None  # None: not counted (setup, checks)
        self.actor = "handler"
        self._pending: list[tuple[str, str, dict, float, dict]] = []
        self.reader = boto3.session.Session().client("dynamodb")  # unhooked: item sizes before a write

    def attach(self, client: Any, actor: str = "handler") -> None:
        service = client.meta.service_model.endpoint_prefix
        client.meta.events.register(f"before-parameter-build.{service}", self._before(actor))
        client.meta.events.register(f"after-call.{service}", self._after)

    def tally(self, actor: str | None = None) -> Tally:
        return self.tallies[f"{self.phase}/{actor or self.actor}"]

    def _before(self, actor: str):
        def hook(params: dict, model: Any, **_: Any) -> None:
            if self.phase is None:
                self._pending.append(("", "", {}, 0.0, {}))
                return
            service = model.service_model.endpoint_prefix
            olds = self._old_items(model.name, params) if service == "dynamodb" else {}
            self._pending.append(
                (f"{self.phase}/{actor}", f"{service}:{model.name}", dict(params), time.perf_counter(), olds)
            )

        return hook

    def _after(self, parsed: dict, model: Any, **_: Any) -> None:
        where, call, params, started, olds = self._pending.pop()
        if not where:
            return
        tally = self.tallies[where]
        tally.aws_seconds += time.perf_counter() - started
        tally.calls[call] += 1
        service, operation = call.split(":")
        if service == "sqs":
            tally.sqs_billed += sqs_billed(operation, params, parsed)
        else:
            self._capacity(tally, operation, params, parsed, olds)

    # DynamoDB request units -------------------------------------------------------------------

    def _old_items(self, operation: str, params: dict) -> dict:
        keys: list[tuple[str, dict]] = []
        if operation in ("PutItem",):
            keys = [(params["TableName"], key_of(params["Item"]))]
        elif operation in ("UpdateItem", "DeleteItem"):
            keys = [(params["TableName"], params["Key"])]
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    put = request.get("PutRequest")
                    keys.append((table, key_of(put["Item"]) if put else request["DeleteRequest"]["Key"]))
        return {key_text(t, k): self._read(t, k) for t, k in keys}

    def _read(self, table: str, key: dict) -> dict | None:
        return self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _capacity(self, tally: Tally, operation: str, params: dict, parsed: dict, olds: dict) -> None:
        if operation == "PutItem":
            failed = "Error" in parsed
            table, key = params["TableName"], key_of(params["Item"])
            old = olds[key_text(table, key)]
            tally.wru += write_units(old, old if failed else params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            table, key = params["TableName"], params["Key"]
            old = olds[key_text(table, key)]
            new = self._read(table, key) if operation == "UpdateItem" else None
            tally.wru += write_units(old, new)
        elif operation == "BatchWriteItem":
            unprocessed = parsed.get("UnprocessedItems") or {}
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if request in unprocessed.get(table, []):
                        continue
                    put = request.get("PutRequest")
                    key = key_of(put["Item"]) if put else request["DeleteRequest"]["Key"]
                    tally.wru += write_units(olds[key_text(table, key)], put["Item"] if put else None)
        elif operation == "GetItem":
            tally.rru += read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = {key_text(table, key_of(i)): i for i in parsed.get("Responses", {}).get(table, [])}
                skipped = (parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])
                for key in request["Keys"]:
                    if key not in skipped:
                        size = item_size(found.get(key_text(table, key)))
                        tally.rru += read_units(size, bool(request.get("ConsistentRead")))
        elif operation == "Query":
            items = parsed.get("Items")
            if params.get("Select") == "COUNT":
                items = self.reader.query(**{k: v for k, v in params.items() if k != "Select"}).get("Items", [])
            tally.rru += read_units(sum(map(item_size, items or [])), bool(params.get("ConsistentRead")))
        else:
            raise AssertionError(f"a DynamoDB call the bench cannot price: {operation}")

    # Lambda invocations -----------------------------------------------------------------------

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        tally = self.tally()
        calls_before = sum(tally.calls.values())
        aws_before = tally.aws_seconds
        started = time.perf_counter()
        yield
        wall = time.perf_counter() - started
        tally.invocations[function].append(
            (wall, sum(tally.calls.values()) - calls_before, tally.aws_seconds - aws_before)
        )


def key_of(item: dict) -> dict:
    return {"pk": item["pk"], "sk": item["sk"]}


def key_text(table: str, key: dict) -> str:
    return json.dumps([table, key["pk"], key["sk"]], sort_keys=True)


def sqs_billed(operation: str, params: dict, parsed: dict) -> int:
    """Billed requests: each started 64 KB of payload is one."""
    if operation == "SendMessage":
        payload = message_bytes(params)
    elif operation == "SendMessageBatch":
        payload = sum(message_bytes(entry) for entry in params["Entries"])
    elif operation == "ReceiveMessage":
        payload = sum(message_bytes(m, body="Body") for m in parsed.get("Messages", []))
    else:
        payload = 0
    return max(1, math.ceil(payload / SQS_CHUNK))


def message_bytes(message: dict, body: str = "MessageBody") -> int:
    size = len(message.get(body, "").encode("utf-8", "surrogatepass"))
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        size += len(name) + len(attribute["DataType"]) + len(attribute.get("StringValue", "").encode())
    return size


# -- the deployed path under moto -----------------------------------------------------------------


@dataclass
class Aws:
    meter: Meter
    queue_url: str
    poller: Any  # the event source mapping's own SQS client
    depth: Any  # an unmetered SQS client: how many messages wait (the bench's, not billed to the connector)
    lrs: Any
    credly: Any
    env: dict[str, str]
    retried: int = 0  # messages the worker failed in the drains made during an intake

    def drain_as_it_goes(self) -> None:
        self.retried += drain(self, full_batches=True)


@contextmanager
def deployed(workdir: Path, learners: int) -> Iterator[Aws]:
    """moto's SQS and DynamoDB, the real LRS and the fake Credly; the connector's settings."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_PROFILE", None)
    import boto3
    from moto import mock_aws

    from chalicelib.awsclients import aws_client, forget_clients
    from chalicelib.runtime import services
    from chalicelib.store.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE
    from fakes.credly_api import FakeCredly
    from lrs_process import LrsProcess
    from tests.support.route_secrets import route_secrets

    with mock_aws(), partition_queries(), LrsProcess() as lrs, FakeCredly(org_id=ORG, token=TOKEN) as credly:
        forget_clients()
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="bench-events", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        boto3.client("dynamodb").create_table(TableName="bench-state", **TABLE_SCHEMA)
        boto3.client("dynamodb").update_time_to_live(
            TableName="bench-state", TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
        rules = workdir / "rules.toml"
        rules.write_text(RULES)
        env = {
            "QUEUE_BACKEND": "sqs",
            "QUEUE_URL": url,
            "STATE_BACKEND": "dynamodb",
            "TABLE_NAME": "bench-state",
            "LRS_ENDPOINT": lrs.endpoint,
            "LEARNER_DIRECTORY": str(write_directory(workdir, learners)),
            "STATEMENT_ID_NAMESPACE": str(uuid.uuid4()),
            "CREDLY_API_BASE": credly.base_url,
            "CREDLY_ORG_ID": ORG,
            "CREDLY_TOKEN": TOKEN,
            "AWARD_RULES": str(rules),
            "LOG_LEVEL": "WARNING",
            **route_secrets(),
        }
        os.environ.update(env)
        services.cache_clear()
        meter = Meter()
        meter.attach(aws_client("dynamodb"))
        meter.attach(aws_client("sqs", "us-east-1"))
        poller = boto3.session.Session().client("sqs")
        meter.attach(poller, actor="poller")
        yield Aws(meter, url, poller, boto3.session.Session().client("sqs"), lrs, credly, env)
        from chalicelib import awsclients

        unmetered = set(awsclients._clients) - {("dynamodb", None), ("sqs", "us-east-1")}
        if unmetered:
            raise SystemExit(f"clients the bench does not meter: {unmetered}")
        services.cache_clear()
        forget_clients()


@contextmanager
def partition_queries() -> Iterator[None]:
    """moto 5's Query on a table's key reads and sorts every item of the table, then keeps the
    queried partition's: each Query costs the whole table, which grows with the events, so a run
    grew with their square. Here the same Query runs over the queried partition only: the same
    items in the same order (moto sorts them by sort key again), the same pages and answers, so
    every count is unchanged; only moto's own work shrinks."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # this call only: the instance attribute is removed below
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query
    try:
        yield
    finally:
        Table.query = original


def write_directory(workdir: Path, learners: int) -> Path:
    path = workdir / "directory.csv"
    rows = ["employee_id,email,name,job_role,team,lms_account"]
    rows += [
        f"E-{100000 + i},learner.{i}@example.com,Learner {i},Engineer,Team {i % 20},E-{100000 + i}"
        for i in range(learners)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def drain(aws: Aws, full_batches: bool = False) -> int:
    """Lambda's event source mapping, by hand: receive up to 10, invoke, delete what went.

    full_batches: only while ten or more messages wait. The intakes call it as they go, so the
    queue stays short (moto's ReceiveMessage costs the whole queue for each message it returns:
    a queue of all the events made a run grow with their square), and the batches are the same
    ten messages, in the same order, as one drain at the end would make: the same calls."""
    actor = aws.meter.actor
    try:
        return receive_and_handle(aws, full_batches)
    finally:
        aws.meter.actor = actor


def waiting(aws: Aws) -> int:
    attributes = aws.depth.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def receive_and_handle(aws: Aws, full_batches: bool) -> int:
    from chalicelib.runtime import services

    failures = 0
    while True:
        if full_batches and waiting(aws) < 10:
            return failures
        aws.meter.actor = "poller"
        messages = aws.poller.receive_message(
            QueueUrl=aws.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return failures
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": m.get("MessageAttributes", {}),
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
        aws.meter.actor = "handler"
        with aws.meter.invocation(FUNCTIONS["worker"]):
            answer = services().handle_sqs_batch(records)
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        failures += len(failed)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        aws.meter.actor = "poller"
        if done:
            aws.poller.delete_message_batch(QueueUrl=aws.queue_url, Entries=done)


# -- the kinds --------------------------------------------------------------------------------


def certifier_webhooks(count: int) -> Iterator[dict]:
    base = json.loads((FIXTURES / "certifier" / "webhook_credential_issued.json").read_text())
    for i in range(count):
        event = copy.deepcopy(base)
        event["id"] = f"evt_bench{i:08d}"
        credential = event["data"]["credential"]
        credential["id"] = event["data"]["resource"]["id"] = f"01BENCH{i:019d}"
        credential["publicId"] = str(uuid.UUID(int=i))
        credential["recipient"] = {"name": f"Learner {i}", "email": f"learner.{i}@example.com"}
        credential["customAttributes"] = {"custom.employee_id": f"E-{100000 + i}"}
        yield event


def run_webhooks(aws: Aws, client: Any, count: int) -> None:
    secret = aws.env["CERTIFIER_WEBHOOK_SECRET"].encode()
    for i, event in enumerate(certifier_webhooks(count)):
        if i % DRAIN_EVERY == 0:
            aws.drain_as_it_goes()
        raw = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Signature": hmac.new(secret, raw, hashlib.sha256).hexdigest(),
        }
        with aws.meter.invocation(FUNCTIONS["api"]):
            answer = client.http.post("/webhooks/certifier", body=raw, headers=headers)
        aws.meter.tally().api_requests += 1
        if answer.status_code != 202:
            raise SystemExit(f"webhook answered {answer.status_code}: {answer.body[:200]}")


def run_pull(aws: Aws, count: int) -> None:
    from credly_badges import make_badges

    from chalicelib.runtime import services

    now = datetime.now(UTC)
    # Issued in the last 300 days, three quarters expiring 400-700 days after issue: all still
    # valid now, so each gives its issued statement and leaves an expiry for the sweep.
    for badge in make_badges(
        count, seed=20261203, start=now - timedelta(days=300), spread_days=299, expiry_days=EXPIRY_DAYS, state="pending"
    ):
        aws.credly.add_badge(badge)
    finished = False
    while not finished:
        with aws.meter.invocation(FUNCTIONS["sync"]):
            report = services().scheduled_sync("credly", 300.0)
        finished = report["finished"]
        aws.drain_as_it_goes()
        if report.get("stopped"):
            raise SystemExit(f"the sync stopped: {report['stopped']}")


def run_sweep(aws: Aws) -> int:
    """The expiry sweep function's body (what Services.scheduled_expiry_sweep runs) once a day
    from the first day an expiry the pulled badges left is due to the last: one invocation a
    day (the hourly runs between find nothing: docs/cost.md counts them apart)."""
    from chalicelib.delivery.expiry import sweep
    from chalicelib.runtime import services

    now = datetime.now(UTC)
    day, last = now + timedelta(days=EXPIRY_DAYS[0] - 300), now + timedelta(days=EXPIRY_DAYS[-1] + 1)
    expired = 0
    while day <= last:
        with aws.meter.invocation(FUNCTIONS["sweep"]):
            report = sweep(services().store, services().queue, day, time.monotonic() + 110.0)
        expired += report.expired
        day += timedelta(days=1)
        aws.drain_as_it_goes()
    return expired


def lap_statements(count: int) -> Iterator[dict]:
    base = json.loads((FIXTURES / "lap" / "learninglocker_forwarded_statement.json").read_text())
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for i in range(count):
        statement = copy.deepcopy(base)
        statement["id"] = str(uuid.UUID(int=10**12 + i))
        statement["actor"] = {
            "objectType": "Agent",
            "name": f"Learner {i}",
            "account": {"homePage": "https://lms.example.com", "name": f"E-{100000 + i}"},
        }
        statement["timestamp"] = when
        yield statement


def run_awards(aws: Aws, client: Any, count: int) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {aws.env['LAP_TOKEN']}"}
    for i, statement in enumerate(lap_statements(count)):
        if i % DRAIN_EVERY == 0:
            aws.drain_as_it_goes()
        with aws.meter.invocation(FUNCTIONS["api"]):
            answer = client.http.post("/lap/statements", body=json.dumps(statement).encode(), headers=headers)
        aws.meter.tally().api_requests += 1
        if answer.status_code != 202:
            raise SystemExit(f"/lap/statements answered {answer.status_code}: {answer.body[:200]}")


def measure(events: int) -> dict:
    """Every kind in one moto account; the tallies as plain data, with the run's checks."""
    from chalice.test import Client

    import app as chalice_app
    from chalicelib.runtime import services

    logging.getLogger().setLevel(logging.WARNING)
    checks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, deployed(Path(tmp), events) as aws:
        silence_connector_logs()
        client = Client(chalice_app.app, stage_name="test")
        store = services().store
        for kind, intake in (
            ("webhook", lambda: run_webhooks(aws, client, events)),
            ("pull", lambda: run_pull(aws, events)),
            ("expiry", lambda: checks.__setitem__("expired", run_sweep(aws))),
            ("award", lambda: run_awards(aws, client, events)),
        ):
            before = counters(aws, store)
            aws.meter.phase, aws.meter.actor, aws.retried = kind, "handler", 0
            intake()
            failures = aws.retried + drain(aws)
            aws.meter.phase = None
            after = counters(aws, store)
            checks[kind] = {
                name: after.get(name, 0) - before.get(name, 0)
                for name in after
                if after.get(name, 0) != before.get(name, 0)
            }
            checks[kind]["retried"] = failures
        checks["awarded"] = len(aws.credly.issued)
        checks["dead_letters"] = store.count_dead_letters()
    return {
        "events": events,
        "checks": checks,
        "tallies": {where: as_data(tally) for where, tally in aws.meter.tallies.items()},
    }


def counters(aws: Aws, store: Any) -> dict[str, int]:
    phase, aws.meter.phase = aws.meter.phase, None
    try:
        return store.counters()
    finally:
        aws.meter.phase = phase


def as_data(tally: Tally) -> dict:
    return {
        "calls": dict(tally.calls),
        "sqs_billed": tally.sqs_billed,
        "wru": tally.wru,
        "rru": tally.rru,
        "aws_seconds": tally.aws_seconds,
        "api_requests": tally.api_requests,
        "invocations": {name: runs for name, runs in tally.invocations.items()},
    }


# -- the report ------------------------------------------------------------------------------------


def memory_mb() -> dict[str, int]:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]["lambda_functions"]
    return {name: int(config["lambda_memory_size"]) for name, config in stage.items()}


def per_kind(result: dict, aws_call_ms: float) -> dict[str, dict]:
    """Per kind, per 1,000 events: the figures and their cost (USD per million events)."""
    memory = memory_mb()
    scale = 1000 / result["events"]
    kinds: dict[str, dict] = {}
    for where, tally in result["tallies"].items():
        kind, actor = where.split("/")
        row = kinds.setdefault(
            kind,
            {
                "calls": Counter(),
                "poller_calls": Counter(),
                "sqs_billed": 0.0,
                "wru": 0.0,
                "rru": 0.0,
                "invocations": Counter(),
                "billed_ms": Counter(),
                "modelled_ms": Counter(),
                "gb_seconds": 0.0,
                "modelled_gb_seconds": 0.0,
                "api_requests": 0.0,
            },
        )
        (row["poller_calls"] if actor == "poller" else row["calls"]).update(
            {call: n * scale for call, n in tally["calls"].items()}
        )
        row["sqs_billed"] += tally["sqs_billed"] * scale
        row["wru"] += tally["wru"] * scale
        row["rru"] += tally["rru"] * scale
        row["api_requests"] += tally["api_requests"] * scale
        for function, runs in tally["invocations"].items():
            gb = memory[function] / 1024
            billed = sum(math.ceil(wall * 1000) for wall, _, _ in runs)
            modelled = sum(math.ceil(max(0.0, wall - aws) * 1000 + calls * aws_call_ms) for wall, calls, aws in runs)
            row["invocations"][function] += len(runs) * scale
            row["billed_ms"][function] += billed * scale
            row["modelled_ms"][function] += modelled * scale
            row["gb_seconds"] += billed / 1000 * gb * scale
            row["modelled_gb_seconds"] += modelled / 1000 * gb * scale
    for row in kinds.values():
        row["cost"] = cost_per_million(row)
    return kinds


def cost_per_million(row: dict) -> dict[str, float]:
    """USD per million events (the figures are per 1,000: x 1,000, prices per million: / 1e6)."""
    thousand = 1000
    cost = {
        "sqs": row["sqs_billed"] * thousand * PRICES["sqs_per_million_requests"] / 1e6,
        "dynamodb": (row["wru"] * PRICES["dynamodb_per_million_wru"] + row["rru"] * PRICES["dynamodb_per_million_rru"])
        * thousand
        / 1e6,
        "lambda": (
            sum(row["invocations"].values()) * PRICES["lambda_per_million_requests"] / 1e6
            + row["modelled_gb_seconds"] * PRICES["lambda_per_gb_second"]
        )
        * thousand,
        "api_gateway": row["api_requests"] * thousand * PRICES["api_gateway_per_million"] / 1e6,
    }
    cost["total"] = sum(cost.values())
    return cost


def lines(kinds: dict[str, dict], before: dict[str, dict] | None) -> Iterator[str]:
    for kind, row in kinds.items():
        old = (before or {}).get(kind)
        yield f"\n## {kind}: per 1,000 events" + (" (before -> after)" if old else "")
        yield "| figure | " + ("before | after |" if old else "value |")
        yield "| --- | --- |" + (" --- |" if old else "")
        for name, value, previous in figures(row, old):
            yield f"| {name} | " + (f"{fmt(previous)} | {fmt(value)} |" if old else f"{fmt(value)} |")


def figures(row: dict, old: dict | None) -> Iterator[tuple[str, float, float]]:
    def pick(source: dict | None, *path: str) -> float:
        value: Any = source or {}
        for step in path:
            value = value.get(step, 0) if isinstance(value, dict) else 0
        return value or 0

    for group, label in (("calls", "handler"), ("poller_calls", "Lambda's SQS poller")):
        for call in sorted(set(row[group]) | set((old or {}).get(group, {}))):
            yield f"{label} {call}", pick(row, group, call), pick(old, group, call)
    for name, label in (
        ("sqs_billed", "SQS billed requests (64 KB chunks)"),
        ("wru", "DynamoDB write request units"),
        ("rru", "DynamoDB read request units"),
        ("api_requests", "API Gateway requests"),
    ):
        yield label, row[name], pick(old, name)
    for function in sorted(row["invocations"]):
        yield f"Lambda {function} invocations", row["invocations"][function], pick(old, "invocations", function)
        yield (
            f"Lambda {function} billed ms (measured, moto)",
            row["billed_ms"][function],
            pick(old, "billed_ms", function),
        )
        yield (
            f"Lambda {function} billed ms (AWS calls at the modelled latency)",
            row["modelled_ms"][function],
            pick(old, "modelled_ms", function),
        )
    for part in ("sqs", "dynamodb", "lambda", "api_gateway", "total"):
        yield f"USD per million events: {part}", round(row["cost"][part], 4), round(pick(old, "cost", part), 4)


def fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"


def run_before(revision: str, events: int) -> dict:
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        lrs_modules = ROOT / "tools" / "lrs" / "node_modules"
        os.symlink(lrs_modules, Path(tree) / "tools" / "lrs" / "node_modules")
        out = Path(tree) / "before.json"
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--code-root",
                tree,
                "--events",
                str(events),
                "--raw",
                str(out),
            ],
            cwd=tree,
            check=True,
        )
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events of each kind")
    parser.add_argument("--before", metavar="REV", help="also measure the code of this git revision")
    parser.add_argument(
        "--aws-call-ms",
        type=float,
        default=6.0,
        help="in-region latency of one SQS or DynamoDB call, for the modelled ms",
    )
    parser.add_argument("--json", type=Path, help="write the per-kind figures here")
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)  # the child of --before
    parser.add_argument("--code-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    before_raw = run_before(args.before, args.events) if args.before else None
    started = time.perf_counter()
    result = measure(args.events)
    if args.raw:
        args.raw.write_text(json.dumps(result))
        return 0
    kinds = per_kind(result, args.aws_call_ms)
    before = per_kind(before_raw, args.aws_call_ms) if before_raw else None
    print(f"# AWS cost: {args.events:,} events of each kind ({time.perf_counter() - started:.0f} s under moto)")
    print(
        f"checks: {json.dumps(result['checks'])}"
        + (f"\nbefore ({args.before}): {json.dumps(before_raw['checks'])}" if before_raw else "")
    )
    print(f"memory (dev stage): {memory_mb()}; modelled latency {args.aws_call_ms} ms an AWS call; prices {PRICES}")
    for line in lines(kinds, before):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"after": kinds, "before": before}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
