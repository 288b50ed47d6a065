"""Shared by the packaging tests: the AWS stages of .chalice/config.json, their functions' policies, the
merge template, and a small evaluator of IAM Allow statements (Action and Resource wildcards)."""

from __future__ import annotations

import importlib.util
import json
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
APP_NAME = CONFIG["app_name"]
# The stages that run on AWS services (the others run locally or under tests).
AWS_STAGES = sorted(
    name
    for name, stage in CONFIG["stages"].items()
    if stage.get("environment_variables", {}).get("QUEUE_BACKEND") == "sqs"
)
# The actions whose resources are known by name: never "*" for these.
NAMED_SERVICES = ("sqs", "dynamodb", "secretsmanager", "ssm")
REGION, ACCOUNT = "us-east-1", "123456789012"


def stage(name: str) -> dict:
    return CONFIG["stages"][name]


def env(name: str) -> dict:
    return stage(name)["environment_variables"]


def functions(name: str) -> dict[str, dict]:
    """The stage's Lambda functions (their keys under lambda_functions) and their settings."""
    return stage(name)["lambda_functions"]


def function_policy(name: str, function: str) -> dict:
    """The policy of one function's own role."""
    return json.loads((ROOT / ".chalice" / functions(name)[function]["iam_policy_file"]).read_text())


def policy(name: str) -> dict:
    """Every statement of every function's role: what some function of the stage may do."""
    return {"Statement": [s for f in functions(name) for s in as_list(function_policy(name, f)["Statement"])]}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=1)
def _merge_module():
    spec = importlib.util.spec_from_file_location("merge_template", ROOT / "infra" / "merge_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def merge_template(name: str) -> dict:
    return _merge_module().merge_template(name)


def worker_function_name() -> str:
    """The app's SQS handler, as chalice sees it (its key under lambda_functions)."""
    return _merge_module().sqs_handler().name


def allows(document: dict, action: str, resource: str) -> bool:
    """Whether an identity policy allows `action` on `resource` (Allow/Deny, * and ? wildcards)."""

    def matches(statement: dict) -> bool:
        actions = as_list(statement.get("Action", []))
        resources = as_list(statement.get("Resource", []))
        return any(fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatchcase(resource, r) for r in resources
        )

    statements = as_list(document["Statement"])
    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


def queue_arn(queue_name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"


def table_arn(table_name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table_name}"


def secret_arn(secret_name: str) -> str:
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_name}-AbC123"  # AWS adds 6 characters


def parameter_arn(parameter_name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{parameter_name.lstrip('/')}"


def log_stream_arn(function_name: str) -> str:
    return (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function_name}:log-stream:2026/01/01/[$LATEST]0123abcd"
    )


def log_group_arn(function_name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function_name}"
