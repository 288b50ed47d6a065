"""One webhook's lines, from its route through the queue to the LRS POST, share its correlation id."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration


@pytest.fixture
def lines():
    """Every structured log line of the test, parsed (DEBUG ones too)."""
    from chalicelib.observability import logger

    records: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(json.loads(record.getMessage()))

    root = logger()
    handler, level = Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def carries(line: dict, correlation: str) -> bool:
    return line.get("correlation_id") == correlation or line.get("correlation_ids") == [correlation]


@pytest.mark.parametrize("caller_id", [None, "Root=1-67891233-abcdef012345678912345678"], ids=["new", "caller's"])
def test_a_webhook_logs_one_correlation_id_from_route_to_lrs_post(connector, lines, caller_id):
    headers = {"X-Amzn-Trace-Id": caller_id} if caller_id else {}
    answer = connector.post(
        f"/webhooks/credly/{connector.env['CREDLY_WEBHOOK_TOKEN']}",
        fixture_json("credly/webhook_badge_created.json"),
        headers,
    )
    assert answer.status_code == 200
    connector.drain()

    events = [line["event"] for line in lines]
    assert {"accepted", "batch_processed", "lrs_send"} <= set(events), events
    (accepted,) = [line for line in lines if line["event"] == "accepted"]
    correlation = accepted["correlation_id"]
    if caller_id:
        assert correlation == caller_id
    assert [line["event"] for line in lines if not carries(line, correlation)] == []
    (sent,) = [line for line in lines if line["event"] == "lrs_send"]
    assert sent["delivered"] == 1
    assert all(line["level"] in {"DEBUG", "INFO"} and line["timestamp"].endswith("Z") for line in lines)
    assert "request_id" in accepted  # the route's Lambda request id


def test_a_caller_id_that_is_not_an_id_is_replaced(connector, lines):
    answer = connector.post(
        f"/webhooks/credly/{connector.env['CREDLY_WEBHOOK_TOKEN']}",
        fixture_json("credly/webhook_badge_created.json"),
        {"X-Request-Id": "a b <script>"},
    )
    assert answer.status_code == 200
    (accepted,) = [line for line in lines if line["event"] == "accepted"]
    assert accepted["correlation_id"] != "a b <script>" and len(accepted["correlation_id"]) == 36
