"""One bad message fails alone: an unexpected error while awarding one piece of LAP evidence
dead-letters that message only; the credential events and evidence beside it in the same batch
are delivered, on the local outbox and on SQS alike."""

from __future__ import annotations

import uuid

import pytest

from tests.awards.test_worker import awards, forward, passed_exam  # noqa: F401 - fixtures
from tests.queue.test_sqs_path import run_worker, sqs  # noqa: F401 - fixtures
from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration


def break_evidence(monkeypatch, bad_statement_id: str) -> None:
    """The award worker meets a bug on one statement (as a TypeError deep in a dependency would)."""
    from chalicelib.awards.worker import AwardWorker

    evidence = AwardWorker._evidence

    def failing(self, message, now):
        if message.body.get("id") == bad_statement_id:
            raise TypeError("unhashable type: 'list'")
        return evidence(self, message, now)

    monkeypatch.setattr(AwardWorker, "_evidence", failing)


def queue_batch(connector) -> tuple[dict, dict, list[str]]:
    """A bad and a good LAP statement between Open Badges documents, all queued by the routes."""
    good, bad = passed_exam(), passed_exam()
    documents = []
    headers = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    for n in range(3):
        document = {**fixture_json("openbadges/ob2_assertion.json")}
        document["id"] = f"{document['id']}-batch-{n}"
        documents.append(document["id"])
        assert connector.post("/ingest/openbadges", document, headers).status_code == 202
        forward(connector, bad if n == 1 else good) if n < 2 else None
    return good, bad, documents


def issued(connector, assertion_id: str) -> str:
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    return str(uuid.uuid5(namespace, f"openbadges|{assertion_id}|issued"))


def check_outcome(connector, lrs, lrs_session, documents: list[str]) -> None:
    for assertion in documents:
        assert (
            lrs_session.get(lrs.statements_url, params={"statementId": issued(connector, assertion)}).status_code == 200
        )
    [letter] = connector.services.store.dead_letters()
    assert letter.source == "lap" and "internal error: TypeError" in letter.reason
    assert connector.services.store.counters()["awarded"] == 1  # the good statement, beside the bad one


def test_on_the_local_outbox(awards, lrs, lrs_session, monkeypatch):  # noqa: F811
    good, bad, documents = queue_batch(awards)
    break_evidence(monkeypatch, bad["id"])
    assert awards.services.drainer().drain_once() == 5  # one batch
    assert awards.services.queue.depth() == 0  # nothing retried: settled, the bad one as a dead letter
    check_outcome(awards, lrs, lrs_session, documents)


def test_on_sqs(awards, sqs, lrs, lrs_session, monkeypatch):  # noqa: F811
    good, bad, documents = queue_batch(awards)
    break_evidence(monkeypatch, bad["id"])
    messages = sqs.receive()
    assert len(messages) == 5
    assert run_worker(awards, sqs, messages) == {"batchItemFailures": []}
    check_outcome(awards, lrs, lrs_session, documents)
