"""Every alarm of the template watches a metric that exists: a custom one the code emits (its EMF
lines captured from the real code paths), or an AWS one of a resource the template has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from chalicelib.identity.sources import DirectoryUnavailable
from chalicelib.metrics import NAMESPACE
from chalicelib.platforms.pulling import Page
from chalicelib.queue import QueueMessage

from .stages import APP_NAME, AWS_STAGES, _merge_module, env, merge_template

AWS_TYPES = {"AWS/SQS": "AWS::SQS::Queue", "AWS/Lambda": None}  # None: a function chalice generates


def alarms(template: dict) -> dict:
    return {
        name: r["Properties"] for name, r in template["Resources"].items() if r.get("Type") == "AWS::CloudWatch::Alarm"
    }


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

    for name, value in {
        "STATE_PATH": str(tmp_path / "state.sqlite"),
        "METRICS_EMF": "true",
        "METRICS_SERVICE": f"{APP_NAME}-{stage}",
        "CREDLY_TOKEN": "t",
        "LEARNER_DIRECTORY": str(tmp_path / "missing.csv"),
    }.items():
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
            if (
                directive["Namespace"] == alarm["Namespace"]
                and alarm["MetricName"] in {m["Name"] for m in directive["Metrics"]}
                and sorted(wanted) in [sorted(names) for names in directive["Dimensions"]]
                and all(doc.get(name) == value for name, value in wanted.items())
                and doc[alarm["MetricName"]] > 0
            ):
                return True
    return False


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_every_custom_alarm_watches_a_metric_the_code_emits(stage, tmp_path, monkeypatch, capsys):
    template = merge_template(stage)
    custom = {name: a for name, a in alarms(template).items() if a.get("Namespace") == NAMESPACE}
    assert {"DeadLettersAlarm", "AuthFailuresAlarm", "ScheduledSyncCredlyAlarm", "LearnerDirectoryRefreshAlarm"} <= set(
        custom
    )
    documents = emitted(stage, tmp_path, monkeypatch, capsys)
    assert [name for name, alarm in custom.items() if not emits(documents, alarm)] == []


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_every_aws_alarm_watches_a_resource_of_the_template(stage):
    template = merge_template(stage)
    resources = template["Resources"]
    worker, _ = _merge_module().logical_ids(_merge_module().sqs_handler().name)
    aws = {name: a for name, a in alarms(template).items() if "Metrics" not in a and a["Namespace"] != NAMESPACE}
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


def translated_metrics(tmp_path, monkeypatch, capsys, emails: list[str]) -> list[dict]:
    """The EMF documents after translating one Credly badge per email (the fixtures' directory maps
    ada.lovelace@example.com only)."""
    import copy

    from chalicelib import metrics
    from chalicelib.delivery.translation import Translator
    from chalicelib.settings import load_settings

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    for name, value in {
        "METRICS_EMF": "true",
        "METRICS_SERVICE": f"{APP_NAME}-prod",
        "LEARNER_DIRECTORY": str(fixtures / "directory.csv"),
    }.items():
        monkeypatch.setenv(name, value)
    translator = Translator(load_settings())
    event = json.loads((fixtures / "credly" / "event_badge_created.json").read_text())
    for number, email in enumerate(emails):
        document = copy.deepcopy(event)
        badge = document["data"]["badge"]
        badge.update(id=f"b-{number}", recipient_email=email, issuer_earner_id=None)
        badge["user"]["email"] = email
        translator.translate("credly", document)
    metrics.flush()
    lines = capsys.readouterr().err.splitlines()
    return [doc for doc in map(json.loads, (line for line in lines if line.startswith("{"))) if "_aws" in doc]


def share(alarm: dict, mapped: float | None, unmapped: float | None) -> float:
    """The alarm's metric math evaluated for one period's sums (None: no data point)."""
    values: dict[str, object] = {
        "mapped": mapped,
        "unmapped": unmapped,
        "FILL": lambda value, fill: fill if value is None else value,
        "IF": lambda condition, yes, no: yes if condition else no,
    }
    for metric in alarm["Metrics"]:
        if "Expression" in metric:
            values[metric["Id"]] = eval(metric["Expression"], {"__builtins__": {}}, values)  # noqa: S307
    (returned,) = [m["Id"] for m in alarm["Metrics"] if m["ReturnData"]]
    return values[returned]  # type: ignore[return-value]


def test_the_unmapped_share_alarm_reads_the_recipient_metrics_against_its_threshold_parameter(
    tmp_path, monkeypatch, capsys
):
    template = merge_template("prod")
    alarm = alarms(template)["UnmappedRecipientsAlarm"]
    parameter = template["Parameters"][alarm["Threshold"]["Ref"]]
    assert (parameter["Type"], parameter["Default"], alarm["ComparisonOperator"]) == (
        "Number",
        20,
        "GreaterThanThreshold",
    )
    documents = translated_metrics(
        tmp_path,
        monkeypatch,
        capsys,
        ["ada.lovelace@example.com", "someone@elsewhere.example", "other@elsewhere.example"],
    )
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert sorted(s["MetricName"] for s in stats.values()) == ["recipients_mapped", "recipients_unmapped"]
    assert all(emits(documents, metric) for metric in stats.values())
    counted = {name: sum(d.get(name, 0) for d in documents) for name in ("recipients_mapped", "recipients_unmapped")}
    assert counted == {"recipients_mapped": 1, "recipients_unmapped": 2}
    by_id = {i: stats[i]["MetricName"] for i in stats}
    args = {i: counted[name] for i, name in by_id.items()}
    assert round(share(alarm, **args), 1) == 66.7
    assert share(alarm, mapped=None, unmapped=4) == 100 and share(alarm, mapped=5, unmapped=None) == 0
