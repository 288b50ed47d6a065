"""The resources `chalice package` does not make, derived from a stage of .chalice/config.json.

    python infra/merge_template.py prod > dist/merge-prod.json
    chalice package --stage prod --merge-template dist/merge-prod.json dist/prod

(`make package STAGE=prod` runs both and cfn-lint.) Adds to chalice's SAM template:

- the SQS queue (named QUEUE_NAME) with a dead-letter queue and redrive, its visibility timeout
  six times the worker function's timeout;
- the DynamoDB table (TABLE_NAME; on demand, pk/sk strings, TTL on expires_at), kept when the
  stack is deleted in prod (it holds the award ledger: losing it would allow awarding twice);
- on the worker's SQS event source: partial batch responses (ReportBatchItemFailures) and a
  maximum concurrency equal to the function's reserved concurrency, so the poller never
  invokes more than the function may run (throttled batches would burn receive counts);
- QUEUE_URL on every function ({"Ref": queue}: the URL of the queue made here): the API, the
  worker, the scheduled syncs (one per platform of the stage's SYNC_PLATFORMS) and the expiry
  sweep all queue;
- FunctionName on every function, the names `chalice deploy` gives them
  (<app>-<stage>, <app>-<stage>-<function>), so the hand-written policy can name their log groups;
- METRICS_SERVICE (<app>-<stage>) on every function, the `service` of its metrics, and the alarms,
  their SNS topic (e-mail subscription: the AlarmEmail parameter) and a dashboard (monitoring.py);
- with "xray": true (stage or function), the X-Ray write rights on each traced function's role.

Derived rather than hand-copied, so names and timeouts cannot drift from the config. The
logical ids are chalice's: its deep merge silently creates a resource for an id it did not
generate, so they are computed from the app's own SQS handler (whatever it is called).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "infra"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import monitoring  # noqa: E402
from chalice.utils import to_cfn_resource_name  # noqa: E402

from chalicelib.settings import Settings  # noqa: E402
from chalicelib.store.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE  # noqa: E402

API = "APIHandler"  # chalice's logical id of the REST API's function
API_FUNCTION = "api_handler"  # its key under lambda_functions in .chalice/config.json
QUEUE = "EventsQueue"
DLQ = "EventsDeadLetterQueue"
TABLE = "StateTable"
# Lambda's advice for SQS event sources: visibility timeout at least six times the function timeout.
VISIBILITY_FACTOR = 6
# The worker gives up on a message itself after QUEUE_MAX_ATTEMPTS receives (a replayable dead
# letter in the table); the DLQ's receive count lies above it, so the DLQ only catches what the
# worker could not handle at all (crashes, timeouts, bodies that are not queue messages).
RECEIVES_AFTER_WORKER_GIVES_UP = 2
MIN_RECEIVE_COUNT = 5
FOURTEEN_DAYS = 14 * 24 * 3600
# Stages whose table survives deleting or replacing the stack (dev's goes with its stack).
RETAIN_STATE = {"prod"}


def stage_config(stage: str) -> tuple[dict, dict]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"no stage {stage!r} in .chalice/config.json")
    return config, config["stages"][stage]


def sqs_handler():
    """The app's one SQS handler (chalice's SQSEventConfig), read from app.py itself."""
    import app  # chalice only: app.py imports nothing heavy

    handlers = [source for source in app.app.event_sources if type(source).__name__ == "SQSEventConfig"]
    if len(handlers) != 1:
        raise SystemExit(f"app.py should have exactly one @app.on_sqs_message handler, found {len(handlers)}")
    return handlers[0]


def logical_ids(function_name: str) -> tuple[str, str]:
    """Chalice's logical ids for an SQS handler's function and its event source."""
    return to_cfn_resource_name(function_name), to_cfn_resource_name(function_name + "-sqs-event-source")


def scheduled_functions(env: dict) -> list[str]:
    """The scheduled functions app.py defines for this stage: a sync per platform of
    SYNC_PLATFORMS, and the expiry sweep when EXPIRY_SWEEP_RATE_MINUTES is set."""
    syncs = [f"sync_{p.strip()}" for p in env.get("SYNC_PLATFORMS", "").split(",") if p.strip()]
    return syncs + (["expiry_sweep"] if int(env.get("EXPIRY_SWEEP_RATE_MINUTES") or 0) else [])


def max_receive_count(env: dict) -> int:
    attempts = int(env.get("QUEUE_MAX_ATTEMPTS") or Settings.model_fields["queue_max_attempts"].default)
    return max(MIN_RECEIVE_COUNT, attempts + RECEIVES_AFTER_WORKER_GIVES_UP)


def xray_rights(config: dict, settings: dict, functions: list[str]) -> dict:
    """With "xray": true, chalice packages a function with Tracing: Active but, its policy being
    hand-written, gives its role no right to send traces (Lambda then refuses to create it): the
    AWS managed X-Ray write policy on the role of each traced function; tracing on the REST API's
    stage too, as `chalice deploy` sets it."""

    def traced(function: str) -> bool:
        own = settings.get("lambda_functions", {}).get(function, {})
        return bool(own.get("xray", settings.get("xray", config.get("xray", False))))

    arn = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}
    resources = {
        to_cfn_resource_name(f"{f}_role"): {"Properties": {"ManagedPolicyArns": [arn]}} for f in functions if traced(f)
    }
    if settings.get("xray", config.get("xray", False)):
        resources["RestAPI"] = {"Properties": {"TracingEnabled": True}}
    return resources


def merge_template(stage: str) -> dict:
    config, settings = stage_config(stage)
    env = settings["environment_variables"]
    app_name = config["app_name"]
    handler = sqs_handler()
    worker_id, event_source_id = logical_ids(handler.name)
    functions = settings.get("lambda_functions", {})
    if handler.name not in functions or API_FUNCTION not in functions:
        raise SystemExit(f"stage {stage}: lambda_functions needs {API_FUNCTION!r} and {handler.name!r}")
    worker = functions[handler.name]
    worker_timeout = worker.get("lambda_timeout", settings.get("lambda_timeout", 60))
    queue_url = {"Ref": QUEUE}
    service = f"{app_name}-{stage}"
    variables = {"QUEUE_URL": queue_url, "METRICS_SERVICE": service}
    retain = "Retain" if stage in RETAIN_STATE else "Delete"

    event_source: dict = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    reserved = worker.get("reserved_concurrency")
    if reserved is not None and reserved >= 2:  # SQS's MaximumConcurrency is 2 to 1000
        event_source["ScalingConfig"] = {"MaximumConcurrency": reserved}

    table_properties = {
        "TableName": env["TABLE_NAME"],
        **TABLE_SCHEMA,
        "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    if stage in RETAIN_STATE:
        table_properties["DeletionProtectionEnabled"] = True

    resources: dict = {
        QUEUE: {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": env["QUEUE_NAME"],
                "VisibilityTimeout": VISIBILITY_FACTOR * worker_timeout,
                "MaximumMessageSize": 1048576,
                "MessageRetentionPeriod": FOURTEEN_DAYS,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [DLQ, "Arn"]},
                    "maxReceiveCount": max_receive_count(env),
                },
            },
        },
        DLQ: {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"QueueName": env["QUEUE_NAME"] + "-dlq", "MessageRetentionPeriod": FOURTEEN_DAYS},
        },
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": retain,
            "UpdateReplacePolicy": retain,
            "Properties": table_properties,
        },
        worker_id: {
            "Properties": {
                "FunctionName": f"{app_name}-{stage}-{handler.name}",
                # The Ref also makes the function, and so its event source mapping, wait for the queue.
                "Environment": {"Variables": variables},
                "Events": {event_source_id: {"Properties": event_source}},
            },
        },
        API: {
            "Properties": {
                "FunctionName": f"{app_name}-{stage}",
                "Environment": {"Variables": variables},
            }
        },
    }
    for function in scheduled_functions(env):
        resources[to_cfn_resource_name(function)] = {
            "Properties": {
                "FunctionName": f"{app_name}-{stage}-{function}",
                "Environment": {"Variables": variables},
            }
        }
    if "log_retention_in_days" in settings or "log_retention_in_days" in functions[API_FUNCTION]:
        # Chalice 1.34 names the API function's log group after "${ApiHandler}", a logical id that
        # does not exist (the function is APIHandler): aws/chalice#2079. Point it at the function.
        resources[to_cfn_resource_name(API_FUNCTION + "-log-group")] = {
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${%s}" % API}}
        }
    scheduled = [f"{app_name}-{stage}-{f}" for f in scheduled_functions(env)]
    sync_minutes = int(env.get("SYNC_RATE_MINUTES") or 60)
    syncs = [f.removeprefix("sync_") for f in scheduled_functions(env) if f.startswith("sync_")]
    resources.update(monitoring.alarms(service, QUEUE, DLQ, worker_id, syncs, sync_minutes))
    resources["Dashboard"] = monitoring.dashboard(
        service, service, QUEUE, DLQ, [f"{app_name}-{stage}", f"{app_name}-{stage}-{handler.name}", *scheduled]
    )
    alerting = monitoring.topic()
    resources.update(alerting["Resources"])
    resources.update(xray_rights(config, settings, [API_FUNCTION, handler.name, *scheduled_functions(env)]))
    return {
        "Parameters": alerting["Parameters"],
        "Conditions": alerting["Conditions"],
        "Resources": resources,
        "Outputs": {
            "EventsQueueUrl": {"Value": queue_url},
            "EventsDeadLetterQueueArn": {"Value": {"Fn::GetAtt": [DLQ, "Arn"]}},
            "EventsDeadLetterQueueUrl": {"Value": {"Ref": DLQ}},
            "StateTableName": {"Value": {"Ref": TABLE}},
        },
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python infra/merge_template.py STAGE")
    json.dump(merge_template(sys.argv[1]), sys.stdout, indent=2)
    sys.stdout.write("\n")
