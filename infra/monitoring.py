"""The alarms, their SNS topic and the dashboard of a stage (merged by merge_template.py).

Custom metrics come from chalicelib/metrics.py (embedded metric format in the functions' logs,
namespace CredentialConnector, dimension `service` = <app>-<stage>, and `source` where split);
the others are AWS's own (SQS, Lambda). tests/packaging/test_alarms.py checks that every alarm's
metric is one the code emits, or one of a resource this template has.
"""

from __future__ import annotations

import json

from chalicelib.metrics import NAMESPACE

TOPIC = "AlarmTopic"
EMAIL_PARAMETER = "AlarmEmail"
HAS_EMAIL = "HasAlarmEmail"
FIVE_MINUTES = 300
# Older than this, the oldest event is stuck, not waiting: retries back off to 5 minutes each,
# so QUEUE_MAX_ATTEMPTS (10) tries of one message take well under an hour.
OLDEST_EVENT_SECONDS = 3600
UNMAPPED_PARAMETER = "UnmappedRecipientsPercent"
UNMAPPED_PERIOD = 3600  # an hour of events: a few unmapped recipients in a quiet hour are not a trend


def _alarm(
    description: str,
    metric: dict,
    comparison: str,
    threshold: float,
    *,
    period: int = FIVE_MINUTES,
    periods: int = 1,
    statistic: str = "Sum",
    missing: str = "notBreaching",
) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            **metric,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": periods,
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "TreatMissingData": missing,
            "AlarmActions": [{"Ref": TOPIC}],
            "OKActions": [{"Ref": TOPIC}],
        },
    }


def _custom(name: str, service: str, source: str | None = None) -> dict:
    dimensions = [{"Name": "service", "Value": service}] + ([{"Name": "source", "Value": source}] if source else [])
    return {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": dimensions}


def _aws(namespace: str, name: str, dimension: str, value: object) -> dict:
    return {"Namespace": namespace, "MetricName": name, "Dimensions": [{"Name": dimension, "Value": value}]}


def alarms(service: str, queue: str, dlq: str, worker: str, syncs: list[str], sync_minutes: int) -> dict:
    """Logical id -> alarm. queue, dlq, worker: logical ids; syncs: the scheduled platforms."""
    found = {
        "DeadLetterQueueNotEmptyAlarm": _alarm(
            "Messages the worker could not handle at all are in the SQS DLQ (docs/operating.md#alarms)",
            _aws("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [dlq, "QueueName"]}),
            "GreaterThanThreshold",
            0,
            statistic="Maximum",
        ),
        "OldestEventAlarm": _alarm(
            f"The oldest event has waited over {OLDEST_EVENT_SECONDS} s in the queue (docs/operating.md#alarms)",
            _aws("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]}),
            "GreaterThanThreshold",
            OLDEST_EVENT_SECONDS,
            statistic="Maximum",
        ),
        "WorkerErrorsAlarm": _alarm(
            "The worker function failed (crash or timeout) (docs/operating.md#alarms)",
            _aws("AWS/Lambda", "Errors", "FunctionName", {"Ref": worker}),
            "GreaterThanThreshold",
            0,
        ),
        "DeadLettersAlarm": _alarm(
            "New dead letters (docs/operating.md#alarms)", _custom("dead_lettered", service), "GreaterThanThreshold", 0
        ),
        "AuthFailuresAlarm": _alarm(
            "The LRS or a platform refused the connector's credentials (docs/operating.md#alarms)",
            _custom("auth_failures", service),
            "GreaterThanThreshold",
            0,
        ),
        "LearnerDirectoryRefreshAlarm": _alarm(
            "LEARNER_DIRECTORY could not be read or was refused; the last good version stays in use "
            "(docs/operating.md#alarms)",
            _custom("directory_refresh_failed", service),
            "GreaterThanThreshold",
            0,
        ),
    }
    found["UnmappedRecipientsAlarm"] = _unmapped_share(service)
    for platform in syncs:
        found[f"ScheduledSync{_id(platform)}Alarm"] = _alarm(
            f"No {platform} scheduled sync succeeded in two periods (docs/operating.md#alarms)",
            _custom("scheduled_sync_succeeded", service, platform),
            "LessThanThreshold",
            1,
            period=sync_minutes * 60,
            periods=2,
            missing="breaching",
        )
    return found


def _unmapped_share(service: str) -> dict:
    """The share of translated events whose recipient the learner directory does not map (metric
    math over recipients_mapped and recipients_unmapped), above the UnmappedRecipientsPercent parameter."""

    def stat(metric_id: str, name: str) -> dict:
        return {
            "Id": metric_id,
            "ReturnData": False,
            "MetricStat": {"Metric": _custom(name, service), "Period": UNMAPPED_PERIOD, "Stat": "Sum"},
        }

    alarm = _alarm(
        "The share of recipients the learner directory does not map is above UnmappedRecipientsPercent "
        "(docs/identity.md)",
        {},
        "GreaterThanThreshold",
        0,
        period=UNMAPPED_PERIOD,
    )
    properties = alarm["Properties"]
    for key in ("Statistic", "Period"):
        del properties[key]
    properties["Threshold"] = {"Ref": UNMAPPED_PARAMETER}
    properties["Metrics"] = [
        stat("mapped", "recipients_mapped"),
        stat("unmapped", "recipients_unmapped"),
        {"Id": "m", "Expression": "FILL(mapped, 0)", "ReturnData": False},
        {"Id": "u", "Expression": "FILL(unmapped, 0)", "ReturnData": False},
        {
            "Id": "share",
            "Expression": "IF(m + u > 0, 100 * u / (m + u), 0)",
            "Label": "unmapped recipients (%)",
            "ReturnData": True,
        },
    ]
    return alarm


def _id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_") if part.isalnum())


def topic() -> dict:
    """The alarms' SNS topic, and its e-mail subscription when the AlarmEmail parameter is set."""
    return {
        "Parameters": {
            EMAIL_PARAMETER: {
                "Type": "String",
                "Default": "",
                "Description": "E-mail address told of every alarm (confirm the subscription AWS sends); empty: none",
            },
            UNMAPPED_PARAMETER: {
                "Type": "Number",
                "Default": 20,
                "MinValue": 0,
                "MaxValue": 100,
                "Description": "Alarm when more than this percent of an hour's recipients map to no one in the learner "
                "directory",
            },
        },
        "Conditions": {HAS_EMAIL: {"Fn::Not": [{"Fn::Equals": [{"Ref": EMAIL_PARAMETER}, ""]}]}},
        "Resources": {
            TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {}},
            "AlarmEmailSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Condition": HAS_EMAIL,
                "Properties": {"TopicArn": {"Ref": TOPIC}, "Protocol": "email", "Endpoint": {"Ref": EMAIL_PARAMETER}},
            },
        },
    }


def dashboard(name: str, service: str, queue: str, dlq: str, functions: list[str]) -> dict:
    """queue, dlq: logical ids; functions: the functions' names."""

    def search(metric: str) -> str:
        return (
            f'SEARCH(\'{{{NAMESPACE},service,source}} MetricName="{metric}" service="{service}"\', '
            f"'Sum', {FIVE_MINUTES})"
        )

    def per_function(metric: str, stat: str) -> list:
        return [["AWS/Lambda", metric, "FunctionName", f, {"stat": stat}] for f in functions]

    widgets = [
        _widget(
            "Queue depth (events, DLQ)",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${%s.QueueName}" % queue],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${%s.QueueName}" % dlq],
            ],
            "Maximum",
        ),
        _widget(
            "Oldest event (s)",
            [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${%s.QueueName}" % queue]],
            "Maximum",
        ),
        _widget("Delivered per source", [[{"expression": search("delivered"), "id": "delivered"}]]),
        _widget("Dead-lettered per source", [[{"expression": search("dead_lettered"), "id": "dead"}]]),
        _widget("Function errors", per_function("Errors", "Sum")),
        _widget("Function duration (ms, p95)", per_function("Duration", "p95")),
    ]
    body = json.dumps({"widgets": [{**w, "x": 12 * (i % 2), "y": 6 * (i // 2)} for i, w in enumerate(widgets)]})
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": name, "DashboardBody": {"Fn::Sub": body}},
    }


def _widget(title: str, metrics: list, stat: str = "Sum") -> dict:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "period": FIVE_MINUTES,
            "stat": stat,
            "metrics": metrics,
        },
    }
