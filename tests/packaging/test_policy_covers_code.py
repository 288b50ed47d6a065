"""The hand-written policies allow every AWS call the connector's code makes (under moto).

The stage's queue and table are created in moto from the merge template's own properties, then
the DynamoDB store (every method of the Store protocol), the SQS queue and the secret
references are exercised; every API call is recorded and checked against the policies of the
stage's functions taken together (which function may make which call:
test_function_policies.py) as IAM would: `service:Operation` on the ARN of the queue, table, secret or parameter named.
A new call in the code (a Scan, a BatchWriteItem, a second queue) fails here until the policy
is reviewed.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from chalicelib.store import LetterFilter, Run, ShareLink, Store

from .stages import (
    AWS_STAGES,
    allows,
    env,
    merge_template,
    parameter_arn,
    policy,
    queue_arn,
    secret_arn,
    table_arn,
)

# Store is the union of its roles: their methods are its own.
STORE_METHODS = sorted({name for part in Store.__mro__ for name in vars(part) if not name.startswith("_")})


class Recorder:
    """Every botocore API call made after start(): (service, operation, parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.recording = False

    def start(self) -> None:
        self.recording = True


@pytest.fixture
def calls(monkeypatch) -> Recorder:
    from botocore.client import BaseClient

    recorder = Recorder()
    original = BaseClient._make_api_call

    def record(client, operation_name, api_params):
        if recorder.recording:
            recorder.calls.append((client.meta.service_model.endpoint_prefix, operation_name, dict(api_params)))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return recorder


# API operations that IAM authorises under another action's name (SQS's batch calls).
AUTHORISED_AS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def action_of(operation: str) -> str:
    return AUTHORISED_AS.get(operation, operation)


def resource_of(service: str, params: dict) -> str:
    if service == "dynamodb":  # a batch call names its tables in RequestItems (the store's one table)
        return table_arn(params.get("TableName") or next(iter(params["RequestItems"])))
    if service == "sqs":
        return queue_arn(urlparse(params["QueueUrl"]).path.rsplit("/", 1)[1])
    if service == "secretsmanager":
        return secret_arn(params["SecretId"])
    if service == "ssm":
        return parameter_arn(params["Name"])
    if service == "s3":  # the learner directory object (GetObject)
        return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
    raise AssertionError(f"a call to {service}: add it to the policy test (and the policy)")


def create_stage_resources(name: str) -> str:
    """The queue, DLQ and table in moto, with the merge template's properties; the queue URL."""
    import boto3

    resources = merge_template(name)["Resources"]
    sqs, dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
    dlq = resources["EventsDeadLetterQueue"]["Properties"]
    dlq_url = sqs.create_queue(QueueName=dlq["QueueName"])["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = resources["EventsQueue"]["Properties"]
    redrive = {**queue["RedrivePolicy"], "deadLetterTargetArn": dlq_arn}
    queue_url = sqs.create_queue(
        QueueName=queue["QueueName"],
        Attributes={
            "VisibilityTimeout": str(queue["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    table = resources["StateTable"]["Properties"]
    dynamodb.create_table(**{k: table[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")})
    dynamodb.update_time_to_live(TableName=table["TableName"], TimeToLiveSpecification=table["TimeToLiveSpecification"])
    return queue_url


def exercise_store(store) -> set[str]:
    """Every method of the Store protocol, with the paths that matter (conditions failing, None)."""
    used = set()

    def call(method: str, *args):
        used.add(method)
        return getattr(store, method)(*args)

    assert call("claim_delivery", "credly:e1", 3600) is True
    assert call("claim_delivery", "credly:e1", 3600) is False  # the conditional write refused
    assert call("delivery_seen", "credly:e1") is True
    assert call("claim_deliveries", ["credly:e1", "credly:e2"], 3600) == {"credly:e2"}
    assert call("seen_deliveries", ["credly:e1", "credly:e3"]) == {"credly:e1"}
    call("release_delivery", "credly:e1")
    assert call("delivered_ids", "https://lrs.example/xAPI/", ["s1"]) == set()  # no log yet: one GetItem
    call("record_delivered", "https://lrs.example/xAPI/", ["s1", "s2"])  # the log started (conditional put)
    assert call("delivered_ids", "https://lrs.example/xAPI/", ["s1", "s3"]) == {"s1"}
    assert call("count_delivered", "https://lrs.example/xAPI/") is None  # a log exists: one GetItem, no Scan
    call("forget_delivered", "https://lrs.example/xAPI/")
    call("put_dead_letter", "m1", "credly", "no learner", {"id": "m1"})
    call("put_dead_letter", "m1", "credly", "no learner", {"id": "m1"})
    assert len(call("dead_letters")) == 1 and call("count_dead_letters") == 1
    assert call("dead_letter", "m1").attempts == 2
    call("put_dead_letter", "m2", "certifier", "no learner", {"id": "m2"})
    assert [h.id for h in call("dead_letter_heads", LetterFilter(sources=("certifier",), since="2026-01-01"))] == ["m2"]
    assert call("discard_dead_letter", "m2", "left").discard_reason == "left"
    assert [r.id for r in call("discarded_letters", 5)] == ["m2"]
    call("delete_dead_letter", "m1")
    call("increment", {"delivered": 2})
    assert call("counters") == {"delivered": 2}
    call("set_flag", "lrs_auth", "401")
    assert call("flags") == {"lrs_auth": "401"}
    call("set_flag", "lrs_auth", None)
    assert call("claim_award", "credly|t|e1") is True
    assert call("claim_award", "credly|t|e1") is False
    call("fail_award", "credly|t|e1", "refused")
    assert call("claim_award", "credly|t|e1") is True
    call("complete_award", "credly|t|e1", "b-1", {"id": "b-1"})
    assert call("award", "credly|t|e1")["state"] == "awarded"
    call("release_award", "credly|t|e1")
    call("add_progress", "e1", "rule", "exam", "2026-01-02T00:00:00+00:00")
    call("add_progress", "e1", "rule", "exam", "2026-01-01T00:00:00+00:00")  # older: refused, kept
    assert call("progress", "e1", "rule") == {"exam": "2026-01-02T00:00:00+00:00"}
    call("set_cursor", "credly:sync", "page-2")
    assert call("cursor", "credly:sync") == "page-2"
    assert call("cursor_updated_at", "credly:sync")
    call("set_cursor", "credly:sync", None)
    run = Run("credly", "sync", "2027-01-01T00:00:00+00:00", "2027-01-01T00:01:00+00:00", "finished", 0)
    call("record_run", run)
    assert [h.last for h in call("runs")] == [run]
    call("set_verified", "lrs", "2027-01-01T00:01:00+00:00")
    assert call("verified") == {"lrs": "2027-01-01T00:01:00+00:00"}
    call("remember_expiry", "credly|a", "2027-01-03T12:00:00.000Z", {})
    call("remember_expiry", "credly|a", "2027-01-05T12:00:00.000Z", {})  # renewed: moves between days
    [due] = call("due_expiries", "2027-01-06T00:00:00.000Z")
    call("settle_expiry", "credly|a", "2027-01-03T12:00:00.000Z")  # renewed meanwhile: refused, kept
    call("settle_expiry", due.key, due.expires_at)
    call("remember_expiry", "credly|b", "2027-01-04T12:00:00.000Z", {})
    call("forget_expiry", "credly|b")
    call("update_expiries", [], ["credly|b"])
    assert call("due_expiries", "2027-02-01T00:00:00.000Z") == []
    link = ShareLink("AAAAAAAAAAAAAAAA", "email", "https://badges.example/c-1", "2027-01-01T00:00:00.000Z", {})
    call("put_share_link", link)
    assert call("share_link", link.id) == link
    return used


def references(name: str) -> dict[str, str]:
    return {k: v for k, v in env(name).items() if v.startswith(("secretsmanager:", "ssm:"))}


def create_stage_secrets(name: str) -> str:
    """What the README tells operators to create: the stage's JSON secret, plus one SSM
    SecureString in the documented alternative form; returns that parameter's name."""
    import boto3

    documents: dict[str, dict] = {}
    for key, value in references(name).items():
        if value.startswith("secretsmanager:"):
            secret, _, json_key = value.removeprefix("secretsmanager:").partition("#")
            documents.setdefault(secret, {})[json_key] = f"value-of-{key}"
        else:
            boto3.client("ssm").put_parameter(
                Name=value.removeprefix("ssm:"), Value=f"value-of-{key}", Type="SecureString"
            )
    for secret, document in documents.items():
        boto3.client("secretsmanager").create_secret(Name=secret, SecretString=json.dumps(document))
    parameter = f"/credential-connector/{name}/routes/lap-token"
    boto3.client("ssm").put_parameter(Name=parameter, Value="ssm-value", Type="SecureString")
    return parameter


def exercise_secrets(name: str, parameter: str) -> None:
    from chalicelib import secrets
    from chalicelib.settings import load_settings

    variables = {**env(name), "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/x"}
    secrets.clear_cache()
    try:
        settings = load_settings(variables)
        assert references(name)
        for key in references(name):
            assert secrets.reveal(settings, key.lower()) == f"value-of-{key}"
        secrets.clear_cache()
        ssm_settings = load_settings({**variables, "LAP_TOKEN": f"ssm:{parameter}"})
        assert secrets.reveal(ssm_settings, "lap_token") == "ssm-value"
    finally:
        secrets.clear_cache()  # no moto-made clients left for other tests


@pytest.mark.parametrize("name", AWS_STAGES)
def test_every_aws_call_of_the_code_is_allowed_by_the_stage_policy(name, mocked_aws, calls):
    from chalicelib.queue import QueueMessage
    from chalicelib.queue.sqs import SqsQueue
    from chalicelib.store.dynamodb import DynamoDbStore

    queue_url = create_stage_resources(name)
    parameter = create_stage_secrets(name)
    calls.start()

    used = exercise_store(DynamoDbStore(env(name)["TABLE_NAME"]))
    assert used == set(STORE_METHODS), f"exercise the new Store methods: {set(STORE_METHODS) - used}"
    queue = SqsQueue(queue_url)
    queue.send(QueueMessage(source="credly", kind="notification", body={"id": "e1"}, event_id="e1"))
    queue.send_many([QueueMessage(source="openbadges", body={"n": n}) for n in range(12)])  # two batches
    assert queue.depth() == 13
    exercise_secrets(name, parameter)

    document = policy(name)
    seen = {(service, operation) for service, operation, _ in calls.calls}
    assert {s for s, _ in seen} == {"dynamodb", "sqs", "secretsmanager", "ssm"}, seen
    refused = sorted(
        {
            f"{service}:{operation} on {resource_of(service, params)}"
            for service, operation, params in calls.calls
            if not allows(document, f"{service}:{action_of(operation)}", resource_of(service, params))
        }
    )
    assert not refused, f"no policy-{name}-*.json allows: {refused}"
