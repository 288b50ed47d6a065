"""CloudWatch metrics in embedded metric format (EMF): counts gathered while a batch, a request
or a scheduled run works, written as one JSON log line per source when it ends (`flush`).

CloudWatch Logs turns each such line into data points; nothing calls the CloudWatch API, so a
metric costs no request and no permission. Lines are written in Lambda (or with METRICS_EMF=true),
never locally by default. Every metric has two dimension sets: `service` alone (what the alarms
watch) and `service` + `source` (the platform, `lap` or `lap-report`: what the dashboard splits).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter

from .observability import write_line

NAMESPACE = "CredentialConnector"
SERVICE_DEFAULT = "credential-connector"
ALL_SOURCES = ""  # counts that belong to no one source (dimension `service` only)

# Every metric the code emits, with what it counts: the alarms and the dashboard name only these.
METRICS = {
    "accepted": "messages a route queued",
    "duplicate_deliveries": "deliveries a route recognised as already queued",
    "pulled": "messages a pull queued (one per page)",
    "delivered": "statements the LRS stored",
    "already_stored": "statements the LRS already held (409)",
    "skipped": "events skipped by a documented rule",
    "dead_lettered": "messages that became dead letters",
    "awarded": "credentials awarded by the rules",
    "already_awarded": "awards found in the ledger already",
    "lap_no_rule_matched": "LAP evidence that matched no rule",
    "auth_failures": "refusals of the connector's credentials (LRS or platform) that set a /health flag",
    "scheduled_sync_succeeded": "scheduled syncs that ended without stopping",
    "directory_refresh_failed": "reads of LEARNER_DIRECTORY refused or failed (the last good version stays in use)",
    "recipients_mapped": "events translated whose recipient the learner directory maps",
    "recipients_unmapped": "events translated whose recipient it does not (a fallback identity, or a dead letter)",
}

_lock = threading.Lock()
_pending: dict[str, Counter] = {}


def count(name: str, value: int = 1, source: str | None = None) -> None:
    """Add to a metric of METRICS, written at the next flush."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}")
    if value:
        with _lock:
            _pending.setdefault(source or ALL_SOURCES, Counter())[name] += value


def count_recipient(mapped: bool, source: str) -> None:
    count("recipients_mapped" if mapped else "recipients_unmapped", 1, source)


def count_all(counts: dict[str, int], source: str | None = None, skip: tuple[str, ...] = ()) -> None:
    for name, value in counts.items():
        if name not in skip:
            count(name, value, source)


def enabled() -> bool:
    setting = os.environ.get("METRICS_EMF", "").strip().lower()
    if setting:
        return setting == "true"
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def flush() -> list[dict]:
    """Write what was counted since the last flush, one EMF line per source; returns the documents."""
    with _lock:
        pending = {source: counts for source, counts in _pending.items() if counts}
        _pending.clear()
    if not pending or not enabled():
        return []
    documents = [document(source, counts) for source, counts in sorted(pending.items())]
    for doc in documents:
        write_line(json.dumps(doc, sort_keys=True))
    return documents


def service() -> str:
    return os.environ.get("METRICS_SERVICE", "").strip() or SERVICE_DEFAULT


def document(source: str, counts: Counter) -> dict:
    """One EMF document: the directive under _aws, the dimension values and the metric values."""
    dimensions = [["service", "source"], ["service"]] if source else [["service"]]
    names = sorted(counts)
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": dimensions,
        "Metrics": [{"Name": name, "Unit": "Count"} for name in names],
    }
    values: dict[str, object] = {name: counts[name] for name in names}
    labels = {"service": service(), **({"source": source} if source else {})}
    return {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]}, **labels, **values}
