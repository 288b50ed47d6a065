"""LrsClient against the real LRS (Learning Locker's xapi-statements, in memory).

The session LRS is shared: every test uses its own verb id so counts are its own, and the
stop/start test runs its own LrsProcess.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from chalicelib.httpretry import RetryPolicy
from chalicelib.xapi.lrs import LrsClient, LrsConfigurationError, LrsUnavailable
from lrs_process import LrsProcess

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)


def new_verb() -> str:
    return f"https://example.com/verbs/lrs-client-{uuid.uuid4()}"


def statement(verb: str, timestamp: str = "2024-01-01T00:00:00.000Z") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://example.com", "name": "learner-1"}},
        "verb": {"id": verb, "display": {"en-US": "tested"}},
        "object": {"objectType": "Activity", "id": "https://example.com/activities/lrs-client"},
        "timestamp": timestamp,
    }


def ids(statements: list[dict]) -> list[str]:
    return [s["id"] for s in statements]


@pytest.fixture
def client(lrs: LrsProcess) -> LrsClient:
    return LrsClient(lrs.endpoint, batch_size=50, retry=FAST)


def test_about(client: LrsClient) -> None:
    assert "1.0.3" in client.about()["version"]


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []

    def request(self, method, *args, **kwargs):  # type: ignore[override]
        self.methods.append(method)
        return super().request(method, *args, **kwargs)


def test_120_statements_are_delivered_and_queried_back_across_pages(lrs: LrsProcess) -> None:
    session = CountingSession()
    client = LrsClient(lrs.endpoint, batch_size=50, retry=FAST, session=session)
    verb = new_verb()
    batch = [statement(verb) for _ in range(120)]
    report = client.send(batch)
    assert report.delivered == ids(batch)
    assert report.already_stored == [] and report.rejected == []
    assert session.methods == ["POST"] * 3
    # The LRS pages at 100 by default: one `more` link to follow; with limit=50, two.
    assert sorted(ids(client.query(verb=verb))) == sorted(ids(batch))
    assert session.methods.count("GET") == 2
    assert sorted(ids(client.query(verb=verb, limit=50))) == sorted(ids(batch))
    assert session.methods.count("GET") == 2 + 3


def test_query_filters_by_agent_and_since(client: LrsClient) -> None:
    verb = new_verb()
    old, new = statement(verb, "2020-01-01T00:00:00.000Z"), statement(verb)
    new["actor"] = {"objectType": "Agent", "account": {"homePage": "https://example.com", "name": f"x-{uuid.uuid4()}"}}
    client.send([old, new])
    assert ids(client.query(verb=verb, agent=new["actor"])) == [new["id"]]
    assert list(client.query(verb=verb, since="2099-01-01T00:00:00Z")) == []  # `since` is on `stored`
    assert ids(client.query(statementId=old["id"])) == [old["id"]]
    assert list(client.query(statementId=str(uuid.uuid4()))) == []


def test_an_invalid_statement_is_rejected_and_the_rest_delivered_once(client: LrsClient) -> None:
    verb = new_verb()
    batch = [statement(verb) for _ in range(10)]
    batch[3]["verb"] = {"id": "x.y/z"}
    report = client.send(batch)
    good = batch[:3] + batch[4:]
    assert sorted(report.delivered) == sorted(ids(good))
    ((rejected, reason),) = report.rejected
    assert rejected["id"] == batch[3]["id"]
    assert reason == "HTTP 400: Problem in 'verb.id'"

    # Sending the valid nine again changes nothing (identical bytes are idempotent).
    again = client.send(good)
    assert again.rejected == []
    assert sorted(again.delivered + again.already_stored) == sorted(ids(good))
    assert sorted(ids(client.query(verb=verb))) == sorted(ids(good))

    # The replay of a fixed statement (same id) joins them; nothing is duplicated.
    fixed = [dict(s) for s in batch]
    fixed[3]["verb"] = {"id": verb}
    replay = client.send(fixed)
    assert replay.rejected == [] and sorted(replay.delivered) == sorted(ids(batch))
    assert sorted(ids(client.query(verb=verb))) == sorted(ids(batch))


def test_a_known_id_with_different_content_is_already_stored(client: LrsClient) -> None:
    verb = new_verb()
    known = statement(verb)
    assert client.send([known]).delivered == [known["id"]]
    changed = {**known, "timestamp": "2025-06-01T00:00:00.000Z"}
    fresh = [statement(verb) for _ in range(4)]
    report = client.send(fresh[:2] + [changed] + fresh[2:])
    assert report.already_stored == [known["id"]]
    assert sorted(report.delivered) == sorted(ids(fresh)) and report.rejected == []
    (stored,) = client.query(statementId=known["id"])
    assert stored["timestamp"] == "2024-01-01T00:00:00.000Z"  # the first copy stays


def test_an_unsupported_version_header_stops_the_batch(lrs: LrsProcess) -> None:
    client = LrsClient(lrs.endpoint, version="2.0.0", retry=FAST)
    with pytest.raises(LrsConfigurationError, match="LRS_XAPI_VERSION"):
        client.send([statement(new_verb()) for _ in range(5)])


def test_lrs_down_then_up_again() -> None:
    with LrsProcess() as own:
        client = LrsClient(own.statements_url, retry=FAST, timeout=(0.5, 2.0))
        verb = new_verb()
        first = [statement(verb)]
        assert client.send(first).delivered == ids(first)
        own.stop()
        pending = [statement(verb) for _ in range(3)]
        with pytest.raises(LrsUnavailable, match="after 2 attempts") as caught:
            client.send(pending)
        assert caught.value.report.delivered == []
        own.start()
        assert client.send(pending).delivered == ids(pending)
        assert sorted(ids(client.query(verb=verb))) == sorted(ids(pending))  # memory mode: the first is gone
