"""A batch the real LRS refuses with 409 because it holds some of its ids with other content
(an import of the same credentials with fewer facts): the client looks the ids up and POSTs the
rest once, rather than bisecting down to every conflicting statement. Requests are counted by
tools/lrs_proxy.py passing everything through to the session's LRS."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from chalicelib.httpretry import RetryPolicy
from chalicelib.xapi.lrs import LrsClient
from lrs_process import LrsProcess
from lrs_proxy import LrsProxy

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)


def statement(verb: str, learner: int, name: str = "full facts") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://example.com", "name": f"learner-{learner}"}},
        "verb": {"id": verb, "display": {"en-US": "earned"}},
        "object": {
            "objectType": "Activity",
            "id": "https://example.com/badges/conflicts",
            "definition": {"name": {"en-US": name}},
        },
        "timestamp": "2024-01-01T00:00:00.000Z",
    }


@pytest.fixture
def counted(lrs: LrsProcess) -> Iterator[LrsProxy]:
    """The session LRS behind a proxy that changes nothing and records every request."""
    with LrsProxy(lrs.endpoint, oldest_first=False, ignored=(), about=True) as proxy:
        yield proxy


def requests_made(proxy: LrsProxy) -> Counter:
    return Counter(seen.method for seen in proxy.seen)


@pytest.mark.parametrize("conflicting", [1, 7, 25, 50])
def test_k_conflicts_among_n_cost_two_posts_and_the_look_ups(counted: LrsProxy, lrs_session, conflicting: int) -> None:
    verb = f"https://example.com/verbs/conflicts-{uuid.uuid4()}"
    batch = [statement(verb, n) for n in range(50)]
    clashing = batch[:: 50 // conflicting][:conflicting]
    imported = [{**s, "object": {**s["object"], "definition": {"name": {"en-US": "fewer facts"}}}} for s in clashing]
    assert LrsClient(counted.endpoint, retry=FAST).send(imported).delivered == [s["id"] for s in imported]
    counted.seen.clear()

    report = LrsClient(counted.endpoint, batch_size=50, retry=FAST).send(batch)

    clashing_ids = {s["id"] for s in clashing}
    assert sorted(report.already_stored) == sorted(clashing_ids)
    assert sorted(report.delivered) == sorted(s["id"] for s in batch if s["id"] not in clashing_ids)
    assert report.rejected == []
    made = requests_made(counted)
    # The refused POST, then one of the rest (none when every statement conflicts); one look-up
    # for each id but the one the LRS's answer names. Bisecting took 2k-1 POSTs and more.
    assert made["POST"] == (1 if conflicting == 50 else 2)
    assert made["GET"] == 49
    for s in batch:  # the new ones stored as sent, the imported copies kept
        stored = lrs_session.get(counted.statements_url, params={"statementId": s["id"]}).json()
        expected = "fewer facts" if s["id"] in clashing_ids else "full facts"
        assert stored["object"]["definition"]["name"]["en-US"] == expected


def test_an_lrs_that_ignores_look_ups_by_id_is_bisected_as_before(lrs: LrsProcess) -> None:
    verb = f"https://example.com/verbs/conflicts-{uuid.uuid4()}"
    batch = [statement(verb, n) for n in range(8)]
    with LrsProxy(lrs.endpoint, oldest_first=False, about=True) as hostile:  # statementId dropped
        LrsClient(hostile.endpoint, retry=FAST).send([{**batch[3], "verb": {**batch[3]["verb"], "display": {}}}])
        client = LrsClient(hostile.endpoint, retry=FAST)
        report = client.send(batch)
        assert report.already_stored == [batch[3]["id"]]
        assert sorted(report.delivered) == sorted(s["id"] for i, s in enumerate(batch) if i != 3)
        assert client.ignores_id_lookups
        gets = sum(seen.method == "GET" for seen in hostile.seen)
        report = client.send([statement(verb, 9), {**batch[3], "timestamp": "2025-01-01T00:00:00.000Z"}])
        assert report.already_stored == [batch[3]["id"]]
        assert sum(seen.method == "GET" for seen in hostile.seen) == gets  # not asked again
