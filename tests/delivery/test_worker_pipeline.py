"""The pipelined local drain against the real LRS: POSTs never overlap, a voiding statement is
POSTed only after the batch carrying its target has been answered, one kept-alive connection."""

from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid

import pytest

from chalicelib.queue import QueueMessage
from tests.delivery.test_worker_faults import FIXTURES, make_services

pytestmark = pytest.mark.integration

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def assertion(index: int) -> dict:
    import json

    document = json.loads((FIXTURES / "openbadges" / "ob2_assertion.json").read_text())
    document = copy.deepcopy(document)
    document["id"] = f"https://badges.example.org/assertions/pipeline-{uuid.uuid4()}-{index}"
    return document


class PostLog:
    """Wraps the worker's session: when each POST started and was answered, and what it carried."""

    def __init__(self, session, delay: float) -> None:
        self.posts: list[tuple[float, float, list[dict]]] = []
        self.lock = threading.Lock()
        request = session.request

        def logged(method, url, **kwargs):
            started = time.monotonic()
            response = request(method, url, **kwargs)
            if method == "POST":
                time.sleep(delay)  # widen the window in which a second POST could overlap
                import json

                with self.lock:
                    self.posts.append((started, time.monotonic(), json.loads(kwargs["data"])))
            return response

        session.request = logged


def test_a_voiding_statement_waits_for_the_answer_to_its_targets_batch(monkeypatch, tmp_path, lrs, lrs_session):
    services = make_services(
        monkeypatch, tmp_path, lrs.endpoint, WORKER_BATCH_SIZE="2", LRS_BATCH_SIZE="50", REVOCATION_POLICY="void"
    )
    documents = [assertion(i) for i in range(6)]
    # Batches of two: [a0, a1], [void a0, void a1], [a2, a3], ...: each revocation is in the batch
    # right behind its assertion's, staged while that one is in flight.
    queued: list[dict] = []
    for pair in (documents[i : i + 2] for i in range(0, len(documents), 2)):
        queued += pair + [{"id": document["id"], "revoked": True} for document in pair]
    for body in queued:
        services.queue.send(QueueMessage(source="openbadges", body=body))
        time.sleep(0.002)  # distinct available_at: received in this order
    log = PostLog(services.worker.lrs.session, delay=0.05)

    services.drainer().run_until_idle(timeout=60)

    assert services.queue.depth() == 0 and services.store.count_dead_letters() == 0
    posts = sorted(log.posts)
    for (_, answered, _), (started, _, _) in itertools.pairwise(posts):
        assert started >= answered  # one POST at a time
    answered_at = {s["id"]: answered for _, answered, batch in posts for s in batch}
    voiding = [(started, s) for started, _, batch in posts for s in batch if s["verb"]["id"] == VOIDED]
    assert len(voiding) == len(documents)
    for started, statement in voiding:
        assert started >= answered_at[statement["object"]["id"]]
    for _, statement in voiding:  # and the LRS did void each target
        target = statement["object"]["id"]
        assert lrs_session.get(lrs.statements_url, params={"voidedStatementId": target}).status_code == 200


def test_the_drain_reuses_one_connection(monkeypatch, tmp_path, lrs):
    services = make_services(monkeypatch, tmp_path, lrs.endpoint, WORKER_BATCH_SIZE="5", LRS_BATCH_SIZE="5")
    for index in range(40):
        services.queue.send(QueueMessage(source="openbadges", body=assertion(index)))

    services.drainer().run_until_idle(timeout=60)

    assert services.queue.depth() == 0
    manager = services.worker.lrs.session.get_adapter(lrs.statements_url).poolmanager
    # urllib3's pool container refuses iteration (not thread-safe); keys() is its way.
    [pool] = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118
    assert pool.num_requests == 8 and pool.num_connections == 1
