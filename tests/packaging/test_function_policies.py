"""Each Lambda function's own role allows exactly the AWS calls that function makes.

Under moto, with the stage's queue, table and secrets (split by who needs them), each function
runs its code paths as deployed: the API answers every route, the worker function handles what
the routes queued, the scheduled sync pulls a page from a fake Credly API and the expiry sweep
queues a due expiry. The calls are recorded per function and checked against that function's
policy both ways: every call is allowed, and every action the policy allows on a queue, table,
secret or parameter is one the function was seen making (or one Lambda makes with the role on
the function's behalf). So the API cannot keep a right to read the platform tokens, and a new
call (a BatchWriteItem, a second secret) fails here until the right role is given it.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import UTC
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from fakes.badgr_api import FakeBadgr
from fakes.credly_api import FakeCredly
from fakes.fake_lrs import FakeLrs
from tests.awards.test_worker import BADGR_RULES, RULES, passed_exam
from tests.queue.test_sqs_path import lambda_event

from .stages import (
    AWS_STAGES,
    ROOT,
    allows,
    as_list,
    env,
    function_policy,
    functions,
    merge_template,
    worker_function_name,
)
from .test_policy_covers_code import (
    Recorder,
    action_of,
    calls,  # noqa: F401  (the fixture)
    create_stage_resources,
    resource_of,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ORG_ID = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"
BADGR_USER = "issuer@example.com"
# What Lambda itself does with the worker's role: its SQS event source polls and deletes.
EVENT_SOURCE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# One secret setting per function read from an SSM parameter instead (the documented
# alternative), so that each role's parameter right is exercised too.
AS_PARAMETER = {"api_handler": "LAP_TOKEN", "worker": "LRS_PASSWORD", "sync": "CREDLY_TOKEN"}


def fixture_json(name: str):
    return json.loads((FIXTURES / name).read_text())


class PerFunction:
    """The recorder's calls, each under the function that made it."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.by_function: dict[str, list[tuple[str, str, dict]]] = {}

    @contextmanager
    def running(self, function: str):
        self.recorder.calls = self.by_function.setdefault(function, [])
        self.recorder.recording = True
        try:
            yield
        finally:
            self.recorder.recording = False


@pytest.fixture
def per_function(calls: Recorder) -> PerFunction:
    return PerFunction(calls)


def secret_group(reference: str) -> str:
    """credential-connector/<stage>/<group>#KEY -> the secret's name."""
    return reference.removeprefix("secretsmanager:").partition("#")[0]


def stage_env(name: str) -> dict[str, str]:
    """The stage's settings, plus awarding on Canvas Credentials (a platform without webhooks: its
    awards are queued by the worker), its password in the platforms secret as deploying.md says."""
    platforms = secret_group(env(name)["CREDLY_TOKEN"])
    return {**env(name), "BADGR_USERNAME": BADGR_USER, "BADGR_PASSWORD": f"secretsmanager:{platforms}#BADGR_PASSWORD"}


def create_secrets(name: str) -> dict[str, str]:
    """The stage's secrets in moto (one JSON secret per group); the secret settings' values as the
    functions will read them."""
    import boto3

    variables, values = stage_env(name), {}
    documents: dict[str, dict] = {}
    for key, reference in variables.items():
        if reference.startswith("secretsmanager:"):
            values[key] = f"{key.lower()}-{uuid.uuid4().hex}"
            documents.setdefault(secret_group(reference), {})[key] = values[key]
    for secret, document in documents.items():
        boto3.client("secretsmanager").create_secret(Name=secret, SecretString=json.dumps(document))
    return values


def function_env(
    name: str, function: str, queue_url: str, lrs: FakeLrs, credly: FakeCredly, badgr: FakeBadgr, rules: Path
) -> dict[str, str]:
    """The function's environment as the template gives it, pointed at the fakes (not AWS)."""
    import boto3

    variables = {
        **stage_env(name),
        **functions(name)[function].get("environment_variables", {}),
        "QUEUE_URL": queue_url,
        "LRS_ENDPOINT": lrs.endpoint,
        "CREDLY_API_BASE": credly.base_url,
        "BADGR_API_BASE": badgr.base_url,
        "CREDLY_ORG_ID": ORG_ID,
        "HTTP_MAX_ATTEMPTS": "1",
        "LEARNER_DIRECTORY": directory_object(name),
        "AWARD_RULES": str(rules),
    }
    if role_of(function) == "worker":
        variables["DELIVERY_LOG"] = "true"  # off by default on DynamoDB: its calls are the worker's to make too
    setting = AS_PARAMETER.get(role_of(function))
    if setting:
        group = secret_group(variables[setting]).rsplit("/", 1)[1]
        parameter = f"/credential-connector/{name}/{group}/{setting.lower().replace('_', '-')}"
        stored = json.loads(
            boto3.client("secretsmanager").get_secret_value(SecretId=secret_group(variables[setting]))["SecretString"]
        )[setting]
        boto3.client("ssm").put_parameter(Name=parameter, Value=stored, Type="SecureString", Overwrite=True)
        variables[setting] = f"ssm:{parameter}"
    return variables


def directory_object(name: str) -> str:
    """The learner directory where the stage policies let the functions read it (docs/deploying.md)."""
    return f"s3://credential-connector-{name}-config/learner-directory.csv"


def create_directory_object(name: str) -> None:
    import boto3

    bucket, _, key = directory_object(name).removeprefix("s3://").partition("/")
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=(FIXTURES / "directory.csv").read_bytes())


def role_of(function: str) -> str:
    if function == "api_handler":
        return "api"
    if function == worker_function_name():
        return "worker"
    return "sync" if function.startswith("sync_") else function


@contextmanager
def deployed(monkeypatch, variables: dict[str, str]):
    """The app's services built from `variables`, as in a fresh container of the function."""
    from chalicelib import runtime, secrets
    from chalicelib.settings import load_settings

    built = runtime.Services(load_settings(variables))
    secrets.clear_cache()
    monkeypatch.setattr(runtime, "services", lambda: built)
    try:
        yield built
    finally:
        secrets.clear_cache()


class Api:
    def __init__(self, values: dict[str, str]) -> None:
        from chalice.test import Client

        import app as chalice_app

        self.values = values
        self.client = Client(chalice_app.app, stage_name="test")

    def post(self, path: str, body, headers: dict[str, str] | None = None, content_type: str = "application/json"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = self.client.http.post(path, body=raw, headers={"Content-Type": content_type, **(headers or {})})
        assert answer.status_code < 500 or path == "/health/details", (path, answer.body)
        return answer

    def bearer(self, setting: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.values[setting]}"}


def exercise_api(api: Api) -> None:
    """Every route, authenticated, with a body it accepts; a redelivery; the health and status routes."""
    import hashlib
    import hmac

    notification = {**fixture_json("credly/webhook_badge_created.json"), "organization_id": ORG_ID}
    for _ in range(2):  # the second is a duplicate
        assert api.post(f"/webhooks/credly/{api.values['CREDLY_WEBHOOK_TOKEN']}", notification).status_code == 200
    raw = json.dumps(fixture_json("certifier/webhook_credential_issued.json")).encode()
    signature = hmac.new(api.values["CERTIFIER_WEBHOOK_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    assert api.post("/webhooks/certifier", raw, {"X-Webhook-Signature": signature}).status_code == 202
    ingest = api.post(
        "/ingest/openbadges", fixture_json("openbadges/ob2_assertion.json"), api.bearer("OPENBADGES_INGEST_TOKEN")
    )
    assert ingest.status_code == 202
    assert api.post("/lap/statements", passed_exam(), api.bearer("LAP_TOKEN")).status_code == 202
    rows = fixture_json("lap/report_rows.json")
    assert api.post("/lap/reports", rows, api.bearer("LAP_TOKEN")).status_code == 202
    share = {
        "credential_url": "https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211",
        "channel": "linkedin",
        "platform": "credly",
        "name": "Cloud Practitioner",
        "badge_class": "https://www.credly.com/org/example/badge/cloud-practitioner",
        "learner": {"email": "ada.lovelace@example.com"},
    }
    created = api.post("/share-links", share, api.bearer("SHARE_LINKS_TOKEN"))
    assert created.status_code == 201, created.body
    link = json.loads(created.body)["url"].rsplit("/s/", 1)[1]
    assert api.client.http.get(f"/s/{link}", headers={"User-Agent": "Mozilla/5.0"}).status_code == 302
    # A share link whose credential the LRS holds names its earner by the statement's actor, found in
    # the learner directory (CredentialResolver); the fake LRS here holds none, so the lookup is made as it would be.
    from chalicelib import runtime

    assert (
        runtime.services().credential_resolver.directory.find_agent({"mbox": "mailto:ada.lovelace@example.com"})
        is not None
    )
    assert api.client.http.get("/health").status_code in (200, 503)
    details = api.client.http.get("/health/details", headers=api.bearer("STATUS_TOKEN"))
    assert "checks" in json.loads(details.body)
    report = api.client.http.get("/status", headers=api.bearer("STATUS_TOKEN"))
    assert report.status_code == 200 and "queue" in json.loads(report.body), report.body


def received(queue_url: str) -> list[dict]:
    """Every message on the queue, as Lambda's event source would take them (not recorded: Lambda
    receives, not the function's code)."""
    import boto3

    from tests.queue.test_sqs_path import Sqs

    queue, messages = Sqs(boto3.client("sqs"), queue_url, ""), []
    while batch := queue.receive():
        messages.extend(batch)
    return messages


def exercise_worker(messages: list[dict], credly: FakeCredly) -> None:
    """What the routes queued, as Lambda hands it over (ids kept): the credential events in one
    batch, the last one received too often (the worker dead-letters it itself); then the LAP
    evidence twice, as redelivered: the first award refused for the moment (its claim released),
    the second time the awards made already found in the ledger."""
    from chalicelib import runtime
    from chalicelib.dispatch import LAP_SOURCES

    evidence = [m for m in messages if json.loads(m["Body"])["source"] in LAP_SOURCES]
    events = [m for m in messages if m not in evidence]
    assert len(events) >= 3 and len(evidence) >= 2, messages
    event = lambda_event(_Client(), events)
    event["Records"][-1]["attributes"]["ApproximateReceiveCount"] = "99"  # past QUEUE_MAX_ATTEMPTS
    runtime.services().handle_sqs_batch(event["Records"])
    credly.fail_next(503)
    for _ in range(2):
        runtime.services().handle_sqs_batch(lambda_event(_Client(), evidence)["Records"])


class _Client:
    """What lambda_event needs of a connector: a Chalice test client."""

    def __init__(self) -> None:
        from chalice.test import Client

        import app as chalice_app

        self.client = Client(chalice_app.app, stage_name="test")


def exercise_expiry_sweep(services) -> None:
    """The sweep's calls (scheduled_expiry_sweep judges at now; here after the expiry the worker
    remembered for the Open Badges assertion, 2027-10-01)."""
    from datetime import datetime

    from chalicelib.delivery.expiry import sweep

    report = sweep(services.store, services.queue, datetime(2028, 1, 1, tzinfo=UTC))
    assert report.expired >= 1


def secret_group_of(resource: str) -> str | None:
    """A secret's or parameter's group (routes, lrs, platforms): either holds the group's values."""
    _, _, service, _, _, name = resource.split(":", 5)
    if service == "secretsmanager":
        return name.removeprefix("secret:").rsplit("/", 1)[1].split("-")[0].rstrip("?")
    if service == "ssm":
        return name.removeprefix("parameter/").split("/")[2]
    return None


def recorded_calls(document: dict, calls: list[tuple[str, str, dict]]) -> tuple[list[str], list[str]]:
    """(calls the policy refuses, allowed rights on named resources that no call used). A secret
    group's right counts as used when the function read the group from either store."""
    used = {(f"{service}:{action_of(op)}", resource_of(service, params)) for service, op, params in calls}
    refused = sorted(f"{action} on {resource}" for action, resource in used if not allows(document, action, resource))
    groups_read = {secret_group_of(resource) for _, resource in used} - {None}
    unused = []
    for statement in as_list(document["Statement"]):
        for action in as_list(statement["Action"]):
            if action.split(":")[0] == "logs":
                continue
            for pattern in as_list(statement["Resource"]):
                if secret_group_of(pattern) in groups_read:
                    continue
                if not any(a.lower() == action.lower() and fnmatchcase(r, pattern) for a, r in used):
                    unused.append(f"{action} on {pattern}")
    return refused, unused


@pytest.mark.parametrize("name", AWS_STAGES)
def test_each_function_may_make_exactly_the_calls_it_makes(name, mocked_aws, per_function, monkeypatch, tmp_path):
    rules = tmp_path / "award_rules.toml"
    rules.write_text(RULES + BADGR_RULES)
    queue_url = create_stage_resources(name)
    sync_platforms = [f.removeprefix("sync_") for f in functions(name) if f.startswith("sync_")]
    values = create_secrets(name)
    create_directory_object(name)
    with (
        FakeLrs() as lrs,
        FakeCredly(org_id=ORG_ID, token=values["CREDLY_TOKEN"]) as credly,
        FakeBadgr(BADGR_USER, values["BADGR_PASSWORD"]) as badgr,
    ):
        credly.load_events_dir(FIXTURES / "credly")
        for badge in fixture_json("credly/badges_page_1.json")["data"]:
            credly.add_badge(badge)
        for function in functions(name):
            variables = function_env(name, function, queue_url, lrs, credly, badgr, rules)
            role = role_of(function)
            messages = received(queue_url) if role == "worker" else []
            with deployed(monkeypatch, variables) as services, per_function.running(function):
                if role == "api":
                    exercise_api(Api(values))
                elif role == "worker":
                    exercise_worker(messages, credly)
                elif role == "sync":
                    for platform in sync_platforms:
                        report = services.scheduled_sync(platform, 300.0)
                        assert report["records"] >= 1 and report["finished"], report
                else:
                    exercise_expiry_sweep(services)

    problems = {}
    for function in functions(name):
        calls = per_function.by_function.get(function, [])
        refused, unused = recorded_calls(function_policy(name, function), calls)
        if role_of(function) == "worker":
            unused = [u for u in unused if u.split(" on ")[0] not in EVENT_SOURCE_ACTIONS]
        if refused or unused:
            problems[function] = {
                "refused": refused,
                "never used": unused,
                "calls": sorted({f"{s}:{o}" for s, o, _ in calls}),
            }
    assert not problems, json.dumps(problems, indent=1)


XRAY_WRITE = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}


def traced_stage_template(tmp: Path, stage_name: str) -> Path:
    """`make package`'s steps on a copy of the project whose stage has "xray": true."""
    import shutil
    import subprocess
    import sys

    from .test_package import BIN, offline_env, project_copy

    (tmp / "project").mkdir()
    project = project_copy(tmp / "project")
    shutil.copytree(ROOT / "infra", project / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"][stage_name]["xray"] = True
    config_path.write_text(json.dumps(config))
    merge = tmp / "merge.json"
    merge.write_text(
        subprocess.run(
            [sys.executable, "infra/merge_template.py", stage_name],
            cwd=project,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", stage_name, "--merge-template", str(merge), str(tmp / "dist")],
        cwd=project,
        env=offline_env(tmp),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp / "dist" / "sam.json"


def test_a_traced_stage_gives_each_function_role_the_xray_write_rights(tmp_path):
    """Chalice traces the functions of an "xray" stage but, the policies being hand-written, grants
    no X-Ray right (Lambda refuses to create a traced function whose role cannot send traces)."""
    import subprocess

    from .test_package import BIN

    path = traced_stage_template(tmp_path, "dev")
    resources = json.loads(path.read_text())["Resources"]
    traced = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(traced) == len(functions("dev")) and all(r["Properties"]["Tracing"] == "Active" for r in traced.values())
    for name, function in traced.items():
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        assert role["Type"] == "AWS::IAM::Role" and role["Properties"]["Policies"], name
        assert role["Properties"].get("ManagedPolicyArns") == [XRAY_WRITE], name
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True
    lint = subprocess.run([str(BIN / "cfn-lint"), "--", str(path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("name", AWS_STAGES)
def test_an_untraced_stage_attaches_no_managed_policy(name):
    assert not [
        r
        for r in merge_template(name)["Resources"].values()
        if "ManagedPolicyArns" in r.get("Properties", {}) or "TracingEnabled" in r.get("Properties", {})
    ]
