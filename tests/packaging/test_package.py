"""`chalice package` plus infra/merge_template.py: what AWS gets, checked and linted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STAGE = "dev"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("package")
    merge = out / "merge.json"
    merge.write_text(subprocess.run([sys.executable, "infra/merge_template.py", STAGE], cwd=ROOT,
                                    check=True, capture_output=True, text=True).stdout)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "packaging",
           "AWS_SECRET_ACCESS_KEY": "packaging"}
    subprocess.run([str(BIN / "chalice"), "package", "--stage", STAGE, "--merge-template", str(merge), str(out / "dist")],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    path = out / "dist" / "sam.json"
    return json.loads(path.read_text()), path


def resources(template, kind: str) -> dict:
    return {name: r for name, r in template[0]["Resources"].items() if r["Type"] == kind}


def stage_config() -> dict:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][STAGE]


def test_queue_dlq_and_redrive(template):
    queues = resources(template, "AWS::SQS::Queue")
    env = stage_config()["environment_variables"]
    main = queues["EventsQueue"]["Properties"]
    assert main["QueueName"] == env["QUEUE_NAME"]
    assert queues["EventsDeadLetterQueue"]["Properties"]["QueueName"] == env["QUEUE_NAME"] + "-dlq"
    assert main["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert main["RedrivePolicy"]["maxReceiveCount"] >= 5
    worker_timeout = template[0]["Resources"]["SqsWorker"]["Properties"]["Timeout"]
    assert main["VisibilityTimeout"] >= 6 * worker_timeout


def test_table_with_ttl_and_keys(template):
    table = resources(template, "AWS::DynamoDB::Table")["StateTable"]["Properties"]
    assert table["TableName"] == stage_config()["environment_variables"]["TABLE_NAME"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}


def test_worker_reports_partial_batch_failures_with_bounded_concurrency(template):
    worker = template[0]["Resources"]["SqsWorker"]["Properties"]
    source = worker["Events"]["SqsWorkerSqsEventSource"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BatchSize"] == 10
    assert stage_config()["environment_variables"]["QUEUE_NAME"] in json.dumps(source["Queue"])
    assert worker["ReservedConcurrentExecutions"] >= 1
    for function in ("SqsWorker", "APIHandler"):
        variables = template[0]["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["QUEUE_URL"] == {"Ref": "EventsQueue"}


def test_iam_policies_name_their_resources(template):
    env = stage_config()["environment_variables"]
    roles = resources(template, "AWS::IAM::Role")
    assert roles
    for role in roles.values():
        statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        for statement in statements:
            resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert "*" not in resources_, statement
        text = json.dumps(statements)
        assert env["QUEUE_NAME"] in text and env["TABLE_NAME"] in text
        actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
        assert not [a for a in actions if a.endswith("*") or a == "dynamodb:Scan"], actions


def test_the_template_passes_cfn_lint(template):
    result = subprocess.run([str(BIN / "cfn-lint"), str(template[1])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_app_loads_no_aws_sdk_and_no_worker_code():
    code = (
        "import sys, app; heavy = [m for m in ('boto3', 'botocore', 'chalicelib.pipeline', "
        "'chalicelib.translation', 'chalicelib.xapi.statements', 'pydantic') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
