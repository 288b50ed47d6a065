"""The resources `chalice package` does not make, derived from a stage of .chalice/config.json.

    python infra/merge_template.py prod > dist/prod/merge.json

Adds the SQS queue (named QUEUE_NAME) with its dead-letter queue, the DynamoDB table
(TABLE_NAME, TTL on expires_at), partial batch responses on the worker's SQS event source, and
QUEUE_URL on both functions. Derived rather than hand-copied so names and timeouts cannot drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.store.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE  # noqa: E402

WORKER = "SqsWorker"  # chalice's logical id for the function `sqs_worker`
API = "APIHandler"
# Lambda's advice: visibility timeout at least six times the function timeout.
VISIBILITY_FACTOR = 6
# Above QUEUE_MAX_ATTEMPTS' default (10), so the worker's own give-up (a replayable dead letter
# in the store) comes first and the DLQ only catches crashes and timeouts.
MAX_RECEIVE_COUNT = 12


def merge_template(stage: str) -> dict:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    settings = config["stages"][stage]
    env = settings["environment_variables"]
    worker_timeout = settings["lambda_functions"]["sqs_worker"]["lambda_timeout"]
    queue_url = {"Ref": "EventsQueue"}
    return {
        "Resources": {
            "EventsQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": env["QUEUE_NAME"],
                    "VisibilityTimeout": VISIBILITY_FACTOR * worker_timeout,
                    "MaximumMessageSize": 1048576,
                    "MessageRetentionPeriod": 1209600,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]},
                        "maxReceiveCount": MAX_RECEIVE_COUNT,
                    },
                },
            },
            "EventsDeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": env["QUEUE_NAME"] + "-dlq", "MessageRetentionPeriod": 1209600},
            },
            "StateTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": env["TABLE_NAME"],
                    **TABLE_SCHEMA,
                    "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            },
            WORKER: {
                "Properties": {
                    "Environment": {"Variables": {"QUEUE_URL": queue_url}},
                    "Events": {
                        "SqsWorkerSqsEventSource": {
                            "Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
                        }
                    },
                },
            },
            API: {"Properties": {"Environment": {"Variables": {"QUEUE_URL": queue_url}}}},
        },
        "Outputs": {
            "EventsQueueUrl": {"Value": queue_url},
            "EventsDeadLetterQueueArn": {"Value": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}},
            "StateTableName": {"Value": {"Ref": "StateTable"}},
        },
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python infra/merge_template.py STAGE")
    json.dump(merge_template(sys.argv[1]), sys.stdout, indent=2)
    sys.stdout.write("\n")
