"""The stages of .chalice/config.json and their hand-written policies agree, without packaging."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from chalicelib.settings import Settings

from .stages import (
    APP_NAME,
    AWS_STAGES,
    CONFIG,
    allows,
    env,
    merge_template,
    parameter_arn,
    policy,
    queue_arn,
    secret_arn,
    stage,
    table_arn,
    worker_function_name,
)

SECRET_SETTINGS = sorted(
    name.upper() for name, field in Settings.model_fields.items() if field.annotation in (SecretStr, SecretStr | None)
)


def test_the_local_and_test_stages_are_as_they_were():
    assert CONFIG["stages"]["local"]["environment_variables"] == {"LOCAL_WORKER_DEFAULT": "true"}
    assert "environment_variables" not in CONFIG["stages"]["test"]


def test_dev_and_prod_are_the_aws_stages():
    assert AWS_STAGES == ["dev", "prod"]
    assert "LRS_PASSWORD" in SECRET_SETTINGS and "CREDLY_WEBHOOK_TOKEN" in SECRET_SETTINGS


@pytest.mark.parametrize("name", AWS_STAGES)
def test_aws_stage_settings(name):
    config, variables = stage(name), env(name)
    assert config["autogen_policy"] is False and "iam_policy_file" not in config  # no role shared by default
    assert variables["QUEUE_BACKEND"] == "sqs" and variables["STATE_BACKEND"] == "dynamodb"
    assert variables["QUEUE_NAME"] == f"{APP_NAME}-{name}-events"
    assert variables["TABLE_NAME"] == f"{APP_NAME}-{name}-state"
    # QUEUE_URL comes from the template ({"Ref": queue}), not from the config.
    assert "QUEUE_URL" not in variables


@pytest.mark.parametrize("name", AWS_STAGES)
def test_per_function_memory_timeout_and_worker_concurrency(name):
    functions = stage(name)["lambda_functions"]
    worker = worker_function_name()  # a renamed SQS handler must be renamed here too
    syncs = {f"sync_{p}" for p in env(name)["SYNC_PLATFORMS"].split(",") if p}
    sweep = {"expiry_sweep"} if int(env(name).get("EXPIRY_SWEEP_RATE_MINUTES") or 0) else set()
    assert set(functions) == {"api_handler", worker} | syncs | sweep  # every function has explicit limits
    for settings in functions.values():
        assert settings["lambda_memory_size"] >= 128 and 1 <= settings["lambda_timeout"] <= 900
        assert settings["iam_policy_file"].startswith(f"policy-{name}-")  # each function its own role
    assert functions["api_handler"]["lambda_timeout"] <= 29  # API Gateway gives up after 29 s
    assert 2 <= functions[worker]["reserved_concurrency"] <= 10  # protects the LRS; 2 is SQS's minimum


@pytest.mark.parametrize("name", AWS_STAGES)
def test_scheduled_syncs_are_platforms_that_can_sync_and_end_after_a_page(name):
    from chalicelib.platforms import pulling_platforms
    from chalicelib.pull.runner import PAGE_ALLOWANCE_SECONDS

    variables, functions = env(name), stage(name)["lambda_functions"]
    platforms = [p for p in variables["SYNC_PLATFORMS"].split(",") if p]
    assert set(platforms) <= set(pulling_platforms("sync"))
    assert 5 <= int(variables["SYNC_RATE_MINUTES"]) <= 24 * 60
    for platform in platforms:  # time for pages, and for the last one started after the deadline check
        assert functions[f"sync_{platform}"]["lambda_timeout"] >= 2 * PAGE_ALLOWANCE_SECONDS


@pytest.mark.parametrize("name", AWS_STAGES)
def test_secret_settings_are_references_the_stage_policy_can_read(name):
    variables = env(name)
    secrets = {key: value for key, value in variables.items() if key in SECRET_SETTINGS}
    assert {
        "LRS_PASSWORD",
        "CREDLY_TOKEN",
        "CREDLY_WEBHOOK_TOKEN",
        "CERTIFIER_WEBHOOK_SECRET",
        "OPENBADGES_INGEST_TOKEN",
        "LAP_TOKEN",
    } <= set(secrets)
    document = policy(name)
    for key, value in secrets.items():
        if value.startswith("secretsmanager:"):
            secret = value.removeprefix("secretsmanager:").partition("#")[0]
            assert secret.startswith(f"{APP_NAME}/{name}/"), key
            assert allows(document, "secretsmanager:GetSecretValue", secret_arn(secret)), key
        else:
            assert value.startswith(f"ssm:/{APP_NAME}/{name}/"), f"{key} is not a reference"
            assert allows(document, "ssm:GetParameter", parameter_arn(value.removeprefix("ssm:"))), key
    other = "prod" if name == "dev" else "dev"
    assert not allows(document, "secretsmanager:GetSecretValue", secret_arn(f"{APP_NAME}/{other}/secrets"))
    assert not allows(document, "ssm:GetParameter", parameter_arn(f"/{APP_NAME}/{other}/credly-token"))


@pytest.mark.parametrize("name", AWS_STAGES)
def test_policy_covers_the_stage_queue_and_table_and_nothing_else(name):
    document, variables = policy(name), env(name)
    queue, table = queue_arn(variables["QUEUE_NAME"]), table_arn(variables["TABLE_NAME"])
    # The routes send and read the depth; Lambda's event source mapping receives and deletes as the worker.
    for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert allows(document, action, queue), action
    for action in (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    ):
        assert allows(document, action, table), action
    assert not allows(document, "dynamodb:Scan", table)
    assert not allows(document, "dynamodb:DeleteTable", table)
    assert not allows(document, "sqs:PurgeQueue", queue)
    assert not allows(document, "sqs:SendMessage", queue_arn("someone-elses-queue"))
    assert not allows(document, "dynamodb:GetItem", table_arn("someone-elses-table"))


@pytest.mark.parametrize("name", AWS_STAGES)
def test_merge_template_names_follow_the_stage(name):
    resources = merge_template(name)["Resources"]
    assert resources["EventsQueue"]["Properties"]["QueueName"] == env(name)["QUEUE_NAME"]
    assert resources["StateTable"]["Properties"]["TableName"] == env(name)["TABLE_NAME"]
