"""Every alarm of the template watches a metric that exists: a custom one the code emits (its EMF
lines captured from the real code paths), or an AWS one of a resource the template has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from chalicelib.identity.sources import DirectoryUnavailable
from chalicelib.metrics import NAMESPACE
from chalicelib.platforms.pulling import Page
from chalicelib.queue import QueueMessage

from .stages import APP_NAME, AWS_STAGES, _merge_module, env, merge_template

AWS_TYPES = {"AWS/SQS": "AWS::SQS::Queue", "AWS/Lambda": None}  # None: a function chalice generates


def alarms(template: dict) -> dict:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r.get("Type") == "AWS::CloudWatch::Alarm"}


class OnePage:
    def pages(self, mode: str, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        yield Page(document={"data": [{"id": "b1"}]}, records=1, resume="next", last=True)


def refused(body: object, event_id: str | None) -> object:
    from chalicelib.platforms.credly.api import CredlyAuthError

    raise CredlyAuthError("Credly refused CREDLY_TOKEN")


def emitted(stage: str, tmp_path, monkeypatch, capsys) -> list[dict]:
    """The EMF documents the code writes in a stage's functions: a webhook, a worker batch whose
    platform refuses the token (a dead letter), a scheduled sync, a learner directory that cannot be read."""
    from chalicelib import metrics
    from chalicelib.runtime import services

    for name, value in {"STATE_PATH": str(tmp_path / "state.sqlite"), "METRICS_EMF": "true",
                        "METRICS_SERVICE": f"{APP_NAME}-{stage}", "CREDLY_TOKEN": "t",
                        "LEARNER_DIRECTORY": str(tmp_path / "missing.csv")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("chalicelib.platforms.puller", lambda platform, settings, mode: OnePage())
    services.cache_clear()
    try:
        connector = services()
        connector.worker.fetchers["credly"] = refused
        connector.process([QueueMessage(source="credly", kind="notification", body={"id": "e1"}, event_id="e1")])
        connector.scheduled_sync("credly", seconds_left=60)
        with pytest.raises(DirectoryUnavailable):  # a worker's lookup while the directory cannot be read
            connector.directory.find_agent({"mbox": "mailto:ada@example.com"})
        metrics.flush()  # what the function's middleware does at the end of the invocation
    finally:
        services.cache_clear()
    lines = capsys.readouterr().err.splitlines()
    return [doc for doc in map(json.loads, (line for line in lines if line.startswith("{"))) if "_aws" in doc]


def emits(documents: list[dict], alarm: dict) -> bool:
    wanted = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    for doc in documents:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            if (directive["Namespace"] == alarm["Namespace"]
                    and alarm["MetricName"] in {m["Name"] for m in directive["Metrics"]}
                    and sorted(wanted) in [sorted(names) for names in directive["Dimensions"]]
                    and all(doc.get(name) == value for name, value in wanted.items())
                    and doc[alarm["MetricName"]] > 0):
                return True
    return False


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_every_custom_alarm_watches_a_metric_the_code_emits(stage, tmp_path, monkeypatch, capsys):
    template = merge_template(stage)
    custom = {name: a for name, a in alarms(template).items() if a["Namespace"] == NAMESPACE}
    assert {"DeadLettersAlarm", "AuthFailuresAlarm", "ScheduledSyncCredlyAlarm",
            "LearnerDirectoryRefreshAlarm"} <= set(custom)
    documents = emitted(stage, tmp_path, monkeypatch, capsys)
    assert [name for name, alarm in custom.items() if not emits(documents, alarm)] == []


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_every_aws_alarm_watches_a_resource_of_the_template(stage):
    template = merge_template(stage)
    resources = template["Resources"]
    worker, _ = _merge_module().logical_ids(_merge_module().sqs_handler().name)
    aws = {name: a for name, a in alarms(template).items() if a["Namespace"] != NAMESPACE}
    assert {"DeadLetterQueueNotEmptyAlarm", "OldestEventAlarm", "WorkerErrorsAlarm"} <= set(aws)
    for name, alarm in aws.items():
        (dimension,) = alarm["Dimensions"]
        reference = dimension["Value"]
        target = reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]
        assert target in resources, name
        kind = AWS_TYPES[alarm["Namespace"]]
        assert resources[target].get("Type") == kind if kind else target == worker, name


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_every_alarm_tells_the_topic_and_the_email_subscription_is_optional(stage):
    template = merge_template(stage)
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for alarm in alarms(template).values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert template["Resources"]["AlarmEmailSubscription"]["Condition"] in template["Conditions"]
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_a_missing_scheduled_sync_breaches_after_two_periods():
    template = merge_template("prod")
    alarm = alarms(template)["ScheduledSyncCredlyAlarm"]
    minutes = int(env("prod").get("SYNC_RATE_MINUTES") or 60)
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (minutes * 60, 2, "breaching")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)


def test_metric_lines_are_written_in_lambda_or_when_asked_never_locally_by_default(monkeypatch, capsys):
    from chalicelib import metrics

    monkeypatch.delenv("METRICS_EMF", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    metrics.count("accepted", 2, "credly")
    assert metrics.flush() == [] and "_aws" not in capsys.readouterr().err
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "credential-connector-prod")
    metrics.count("accepted", 2, "credly")
    metrics.count("accepted", 1, "credly")
    (document,) = metrics.flush()
    assert (document["accepted"], document["source"]) == (3, "credly")
    assert json.loads(capsys.readouterr().err.strip()) == document
