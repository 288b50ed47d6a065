"""`chalice package` with infra/merge_template.py: the template AWS gets, checked and linted.

One packaging per session, of a copy of the project (about 5-10 s: chalice builds the Lambda
dependencies from pip's wheels), offline: chalice needs a region but no credentials and no
account; the test hides any, so it cannot depend on (or touch) a real account.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .stages import APP_NAME, NAMED_SERVICES, ROOT, allows, as_list, env, log_group_arn, log_stream_arn, stage

BIN = Path(sys.executable).parent
STAGE = "dev"


def offline_env(tmp: Path) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **clean,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def project_copy(target: Path) -> Path:
    """What chalice packages (app.py, chalicelib/, requirements.txt, .chalice/ config and policies),
    copied so the run leaves no zip in the repository's .chalice/deployments (chalice's
    cache key includes the app's files, so it would not be reused after the next edit anyway)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "deployments")
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, target / name)
    for name in ("chalicelib", ".chalice", "vendor"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("package")
    project = project_copy(tmp_path_factory.mktemp("project"))
    merge = out / "merge.json"
    merge.write_text(
        subprocess.run(
            [sys.executable, "infra/merge_template.py", STAGE], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", STAGE, "--merge-template", str(merge), str(out / "dist")],
        cwd=project,
        env=offline_env(out),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    path = out / "dist" / "sam.json"
    return json.loads(path.read_text()), path


@pytest.fixture(scope="module")
def template(packaged) -> dict:
    return packaged[0]


@pytest.fixture(scope="module")
def merged(packaged) -> dict:
    return json.loads((packaged[1].parent.parent / "merge.json").read_text())


def of_type(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict) -> dict:
    return of_type(template, "AWS::Serverless::Function")


def worker_id(template: dict) -> str:
    """The function with the SQS event source (chalice names it after the handler)."""
    found = [
        name
        for name, f in functions(template).items()
        if any(e["Type"] == "SQS" for e in f["Properties"].get("Events", {}).values())
    ]
    assert len(found) == 1, found
    return found[0]


def handler_name(template: dict, logical_id: str) -> str:
    """app.sqs_worker -> sqs_worker: the function's key under lambda_functions."""
    return template["Resources"][logical_id]["Properties"]["Handler"].split(".", 1)[1]


def event_source(template: dict) -> dict:
    (source,) = template["Resources"][worker_id(template)]["Properties"]["Events"].values()
    return source["Properties"]


# -- the merge hit chalice's own resources -------------------------------------------------------


def test_every_merged_id_is_a_resource_chalice_generated_or_one_the_merge_adds(template, merged):
    # Chalice's deep merge turns a misspelt logical id into a resource without a Type.
    for name, resource in template["Resources"].items():
        assert "Type" in resource, f"{name}: merged into an id chalice did not generate"
    assert worker_id(template) in merged["Resources"], "the merge missed the worker function"
    assert {"APIHandler", "EventsQueue", "EventsDeadLetterQueue", "StateTable"} <= set(merged["Resources"])


# -- queue, DLQ, table ---------------------------------------------------------------------------


def test_queue_with_dlq_redrive_and_visibility_six_times_the_worker_timeout(template):
    queues = of_type(template, "AWS::SQS::Queue")
    queue = queues["EventsQueue"]["Properties"]
    dlq = queues["EventsDeadLetterQueue"]["Properties"]
    assert queue["QueueName"] == env(STAGE)["QUEUE_NAME"]
    assert dlq["QueueName"] == env(STAGE)["QUEUE_NAME"] + "-dlq"
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert redrive["maxReceiveCount"] >= 5
    # The worker's own give-up (a replayable dead letter in the table) comes before the DLQ.
    assert redrive["maxReceiveCount"] > int(env(STAGE).get("QUEUE_MAX_ATTEMPTS", 10))
    worker_timeout = template["Resources"][worker_id(template)]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    assert dlq["MessageRetentionPeriod"] >= queue["MessageRetentionPeriod"]  # the DLQ keeps them at least as long


def test_table_on_demand_with_pk_sk_and_ttl_on_expires_at(template):
    table = of_type(template, "AWS::DynamoDB::Table")["StateTable"]["Properties"]
    assert table["TableName"] == env(STAGE)["TABLE_NAME"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_prod_keeps_its_table_when_the_stack_goes():
    from .stages import merge_template

    table = merge_template("prod")["Resources"]["StateTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True


# -- functions -----------------------------------------------------------------------------------


def test_worker_event_source_reports_partial_batch_failures(template):
    source = event_source(template)
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BatchSize"] == 10
    assert source["Queue"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{env(STAGE)['QUEUE_NAME']}"
    }


def test_worker_concurrency_is_bounded_and_the_poller_stays_within_it(template):
    worker = template["Resources"][worker_id(template)]["Properties"]
    reserved = worker["ReservedConcurrentExecutions"]
    assert 1 <= reserved <= 10
    assert event_source(template)["ScalingConfig"]["MaximumConcurrency"] <= reserved


def test_memory_and_timeout_per_function_as_configured(template):
    configured = stage(STAGE)["lambda_functions"]
    worker = worker_id(template)
    for logical_id, key in (("APIHandler", "api_handler"), (worker, handler_name(template, worker))):
        properties = template["Resources"][logical_id]["Properties"]
        assert properties["MemorySize"] == configured[key]["lambda_memory_size"]
        assert properties["Timeout"] == configured[key]["lambda_timeout"]
    assert template["Resources"]["APIHandler"]["Properties"]["Timeout"] <= 29  # API Gateway's limit


def test_every_function_gets_the_url_of_the_queue_the_template_makes(template):
    functions = of_type(template, "AWS::Serverless::Function")
    assert {"APIHandler", worker_id(template), "SyncCredly", "ExpirySweep"} <= set(functions)  # prod's schedules
    for name in functions:
        variables = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert variables["QUEUE_URL"] == {"Ref": "EventsQueue"}
        assert variables["QUEUE_BACKEND"] == "sqs" and variables["STATE_BACKEND"] == "dynamodb"


def test_the_functions_environment_makes_valid_settings(template):
    from chalicelib.settings import load_settings

    for name in of_type(template, "AWS::Serverless::Function"):
        variables = dict(template["Resources"][name]["Properties"]["Environment"]["Variables"])
        assert variables["QUEUE_URL"] == {"Ref": "EventsQueue"}
        variables["QUEUE_URL"] = f"https://sqs.us-east-1.amazonaws.com/123456789012/{variables['QUEUE_NAME']}"
        settings = load_settings(variables)
        assert settings.queue_backend == "sqs" and settings.table_name == env(STAGE)["TABLE_NAME"]


def test_function_names_are_the_ones_chalice_deploy_uses(template):
    assert template["Resources"]["APIHandler"]["Properties"]["FunctionName"] == f"{APP_NAME}-{STAGE}"
    for function in set(of_type(template, "AWS::Serverless::Function")) - {"APIHandler"}:
        expected = f"{APP_NAME}-{STAGE}-{handler_name(template, function)}"
        assert template["Resources"][function]["Properties"]["FunctionName"] == expected


def test_log_groups_belong_to_existing_functions(template):
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert groups, "log_retention_in_days should give every function a log group"
    for name, group in groups.items():
        target = group["Properties"]["LogGroupName"]["Fn::Sub"].removeprefix("/aws/lambda/${").removesuffix("}")
        assert template["Resources"][target]["Type"] == "AWS::Serverless::Function", name


# -- IAM -----------------------------------------------------------------------------------------


def role_statements(template: dict) -> dict[str, list[dict]]:
    roles = of_type(template, "AWS::IAM::Role")
    assert roles
    return {
        name: [s for p in role["Properties"]["Policies"] for s in as_list(p["PolicyDocument"]["Statement"])]
        for name, role in roles.items()
    }


def named_resource_ok(resource: str) -> bool:
    """A queue, table, secret or parameter ARN naming this stage's own (region/account may be *)."""
    _, _, service, _, _, name = resource.split(":", 5)
    queue, table, prefix = env(STAGE)["QUEUE_NAME"], env(STAGE)["TABLE_NAME"], f"{APP_NAME}/{STAGE}/"
    return {
        "sqs": name in (queue, queue + "-dlq"),
        "dynamodb": name == f"table/{table}" or name.startswith(f"table/{table}/index/"),
        "secretsmanager": name.startswith(f"secret:{prefix}") and len(name) > len(f"secret:{prefix}"),
        "ssm": name.startswith(f"parameter/{prefix}") and len(name) > len(f"parameter/{prefix}"),
    }.get(service, False)


def test_iam_policies_name_their_resources(template):
    for role, statements in role_statements(template).items():
        for statement in statements:
            actions = as_list(statement["Action"])
            resources = as_list(statement["Resource"])
            assert statement["Effect"] == "Allow"
            assert not [a for a in actions if "*" in a], (role, statement)
            if any(a.split(":")[0] in NAMED_SERVICES for a in actions):
                assert "*" not in resources, (role, statement)
                assert all(named_resource_ok(r) for r in resources), (role, statement)
        text = json.dumps(statements)
        assert env(STAGE)["QUEUE_NAME"] in text and env(STAGE)["TABLE_NAME"] in text


def test_every_function_may_write_its_own_logs(template):
    document = {"Statement": [s for ss in role_statements(template).values() for s in ss]}
    for function in functions(template).values():
        name = function["Properties"]["FunctionName"]
        assert allows(document, "logs:CreateLogGroup", log_group_arn(name))
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            assert allows(document, action, log_stream_arn(name)), (action, name)
        assert not allows(document, "logs:PutLogEvents", log_stream_arn("some-other-function"))


def test_each_function_has_a_role_of_its_own_with_its_policy_file(template):
    from .stages import function_policy, secret_arn

    roles = of_type(template, "AWS::IAM::Role")
    by_function = {}
    for function in functions(template).values():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        name = function["Properties"]["FunctionName"].removeprefix(f"{APP_NAME}-{STAGE}").lstrip("-") or "api_handler"
        by_function[name] = role
        [document] = [p["PolicyDocument"] for p in roles[role]["Properties"]["Policies"]]
        assert document["Statement"] == function_policy(STAGE, name)["Statement"], name
    assert len(set(by_function.values())) == len(by_function) == len(roles)  # no role shared
    api = roles[by_function["api_handler"]]["Properties"]["Policies"][0]["PolicyDocument"]
    platforms = secret_arn(env(STAGE)["CREDLY_TOKEN"].removeprefix("secretsmanager:").partition("#")[0])
    assert not allows(api, "secretsmanager:GetSecretValue", platforms)
    assert not allows(api, "sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:123456789012:{env(STAGE)['QUEUE_NAME']}")


# -- the Lambda zip ------------------------------------------------------------------------------

# About 3.6 MB (pydantic_core is 2.2 of it); 25.6 MB when chalice was in requirements.txt.
MAX_ZIP_BYTES = 6_000_000
# Deploy tools and the AWS SDK: chalice vendors only its runtime (chalice/app.py) and the Lambda
# Python runtime ships boto3/botocore, so they belong in requirements-dev.txt, not requirements.txt.
NOT_IN_ZIP = ("pip", "setuptools", "wheel", "botocore", "boto3", "_distutils_hack", "pkg_resources")


def deployment_zip(packaged) -> Path:
    return packaged[1].parent / "deployment.zip"


@pytest.fixture(scope="module")
def zip_entries(packaged) -> set[str]:
    with zipfile.ZipFile(deployment_zip(packaged)) as archive:
        return set(archive.namelist())


def top_level_name(entry: str) -> str:
    """pip/..., pip-26.2.dist-info/..., six.py, _yaml.cpython-311-x86_64-linux-gnu.so -> the
    importable (or distribution) name, normalized: pip, six, _yaml."""
    top = entry.split("/", 1)[0]
    top = top.split("-", 1)[0] if top.endswith((".dist-info", ".data", ".egg-info")) else top.split(".", 1)[0]
    return top.lower().replace("-", "_")


def test_the_lambda_zip_is_at_most_6_mb(packaged):
    size = deployment_zip(packaged).stat().st_size
    assert size <= MAX_ZIP_BYTES, f"deployment.zip is {size / 1e6:.1f} MB: a deploy or test tool in requirements.txt?"


def test_the_lambda_zip_has_no_deploy_tools_and_no_aws_sdk(zip_entries):
    found = sorted({entry.split("/", 1)[0] for entry in zip_entries if top_level_name(entry) in NOT_IN_ZIP})
    assert not found, f"bundled into deployment.zip (move their requirement to requirements-dev.txt): {found}"


def test_the_lambda_zip_has_the_app_chalicelib_and_chalice_runtime(zip_entries):
    assert {"app.py", "chalicelib/__init__.py", "chalice/app.py"} <= zip_entries
    assert len([e for e in zip_entries if e.startswith("chalicelib/") and e.endswith(".py")]) > 1


# -- lint ----------------------------------------------------------------------------------------


def test_the_template_passes_cfn_lint(packaged):
    result = subprocess.run([str(BIN / "cfn-lint"), "--", str(packaged[1])], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
