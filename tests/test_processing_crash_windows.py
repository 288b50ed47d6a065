"""The process dies between every pair of durable steps of the intake and of the award path; after
a restart and the platform's (or the queue's) redelivery, nothing is lost and nothing is doubled:
each expected statement is in the real LRS, each award made once, or the message is a dead letter
saying what to check."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.awards.test_worker import awards, badgr, forward, passed_exam  # noqa: F401 - fixtures
from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration

CREDLY_BADGE = "9f1e2d3c-4b5a-4697-8877-665544332211"


class Crash(BaseException):
    """The process dies here: nothing after this line of the request or the batch runs."""


def crash_at(monkeypatch, target: object, method: str, nth: int = 1, after: bool = True) -> None:
    """Die at the nth call of target.method, after it took effect (or before, with after=False)."""
    original = getattr(target, method)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth and not after:
            raise Crash(method)
        result = original(*args, **kwargs)
        if calls["n"] == nth:
            raise Crash(method)
        return result

    monkeypatch.setattr(target, method, dying)


def statement_id(connector, key: str) -> str:
    return connector.statement_id(key)


def in_lrs(lrs_session, lrs, statement_id_: str) -> bool:
    return lrs_session.get(lrs.statements_url, params={"statementId": statement_id_}).status_code == 200


# -- intake: queue the delivery, then mark it seen ------------------------------------------------

INTAKE_WINDOWS = [("queue", "send_many", False), ("queue", "send_many", True), ("store", "claim_deliveries", True)]


@pytest.mark.parametrize(
    ("service", "method", "after"), INTAKE_WINDOWS, ids=["before-queueing", "queued-not-marked", "marked"]
)
def test_a_credly_delivery_survives_a_crash_at_every_step(
    connector, lrs, lrs_session, monkeypatch, service, method, after
):
    notification = fixture_json("credly/webhook_badge_created.json")
    crash_at(monkeypatch, getattr(connector.services, service), method, after=after)
    with pytest.raises(Crash):
        connector.credly_webhook(notification)
    connector.restart()

    answer = connector.credly_webhook(notification)  # Credly retries anything it did not see as 200
    assert answer.status_code == 200
    connector.drain()
    assert in_lrs(lrs_session, lrs, statement_id(connector, f"credly|{CREDLY_BADGE}|issued"))
    assert connector.services.store.count_dead_letters() == 0
    assert connector.services.queue.depth() == 0


class DiesMidWrite:
    """A connection that dies after writing the first row of an array (inside its transaction)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def __getattr__(self, name):
        return getattr(self.conn, name)

    def executemany(self, sql, rows):
        rows = list(rows)
        self.conn.execute(sql, rows[0])
        raise Crash("executemany")


@pytest.mark.parametrize("where", ["mid-write", "queued-not-marked", "marked"])
def test_an_array_is_queued_whole_or_not_at_all_and_survives_a_crash(connector, lrs, lrs_session, monkeypatch, where):
    first = fixture_json("openbadges/ob2_assertion.json")
    second = {**first, "id": first["id"] + "-2"}
    headers = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    if where == "mid-write":
        db = connector.services.queue.db
        transaction = db.transaction

        @contextmanager
        def dying_transaction():
            with transaction() as conn:
                yield DiesMidWrite(conn)

        monkeypatch.setattr(db, "transaction", dying_transaction)
    else:
        target, method = {"queued-not-marked": ("queue", "send_many"), "marked": ("store", "claim_deliveries")}[where]
        crash_at(monkeypatch, getattr(connector.services, target), method)
    with pytest.raises(Crash):
        connector.post("/ingest/openbadges", [first, second], headers)
    assert connector.services.queue.depth() == (0 if where == "mid-write" else 2)  # whole or nothing
    connector.restart()

    answer = connector.post("/ingest/openbadges", [first, second], headers)  # the issuer sends it again
    assert answer.status_code == 202, answer.body
    connector.drain()
    for document in (first, second):
        assert in_lrs(lrs_session, lrs, statement_id(connector, f"openbadges|{document['id']}|issued"))
    assert connector.services.store.count_dead_letters() == 0


# -- the award path: progress, claim, platform, ledger, issued event --------------------------------

AWARD_WINDOWS = [
    ("store", "add_progress", 1, "awarded"),
    ("store", "complete_award", 1, "awarded"),  # the ledger holds the issued event, not yet queued
    ("queue", "send", 1, "awarded"),  # queued, the ledger not yet told
    ("store", "complete_award", 2, "awarded"),
    ("store", "claim_award", 1, "check"),  # claimed, the platform never called
    ("client", "award", 1, "check"),  # awarded on the platform, the ledger not yet told
]


@pytest.mark.parametrize(
    ("where", "method", "nth", "ends"), AWARD_WINDOWS, ids=[f"{w}.{m}#{n}" for w, m, n, _ in AWARD_WINDOWS]
)
def test_an_award_survives_a_crash_at_every_step(
    awards,
    badgr,
    lrs,
    lrs_session,
    monkeypatch,  # noqa: F811
    where,
    method,
    nth,
    ends,
):
    import chalicelib.awards.worker as award_worker

    forward(awards, passed_exam())
    [leased] = awards.services.queue.receive()
    services = awards.services
    target = {"store": services.store, "queue": services.queue, "client": services._award_client("badgr")}[where]
    crash_at(monkeypatch, target, method, nth=nth)
    with pytest.raises(Crash):
        services.process([leased.message])
    awards.restart()
    # A claim left by the crash is stale at once here: the fifteen minutes are not waited for.
    monkeypatch.setattr(award_worker, "STALE_CLAIM", award_worker.STALE_CLAIM * 0)

    result = awards.services.process([leased.message])  # the queue redelivers the unacknowledged message
    assert result.failed == {}
    awards.services.queue.ack(leased.message.id)
    awards.drain()  # the issued event the award queued

    assert len(badgr.assertions) == (0 if method == "claim_award" else 1)  # never twice
    if ends == "awarded":
        entity = badgr.assertions[0]["entityId"]
        assert in_lrs(lrs_session, lrs, statement_id(awards, f"badgr|{entity}|issued"))
        assert awards.services.store.count_dead_letters() == 0
    else:  # the platform may or may not have acted: an operator checks before releasing the claim
        [letter] = awards.services.store.dead_letters()
        assert "check the platform" in letter.reason and "awards release" in letter.reason
