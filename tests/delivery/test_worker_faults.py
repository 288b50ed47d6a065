"""Faults between the worker and the LRS: nothing lost, nothing stored twice, bad ones set aside."""

from __future__ import annotations

import copy
import json
import os
import signal
import time
import uuid

import pytest

from chalicelib.queue import QueueMessage
from fakes.fake_lrs import FakeLrs
from lrs_process import LrsProcess
from tests.support.paths import FIXTURE_DIR

pytestmark = pytest.mark.integration

FIXTURES = FIXTURE_DIR
LEARNERS = ["ada.lovelace", "grace.hopper", "katherine.johnson", "dorothy.vaughan"]


def make_services(monkeypatch, tmp_path, endpoint: str, **extra: str):
    from chalicelib.runtime import services

    env = {
        "LRS_ENDPOINT": endpoint,
        "STATE_PATH": str(tmp_path / "state.sqlite"),
        "LEARNER_DIRECTORY": str(FIXTURES / "directory.csv"),
        "STATEMENT_ID_NAMESPACE": str(uuid.uuid4()),
        "HTTP_BACKOFF_BASE": "0.01",
        "HTTP_BACKOFF_CAP": "0.05",
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    return services()


def ob3_documents(count: int, achievement: str, email_of=lambda i: f"{LEARNERS[i % 4]}@example.com") -> list[dict]:
    template = json.loads((FIXTURES / "openbadges" / "ob3_credential.json").read_text())
    documents = []
    for index in range(count):
        document = copy.deepcopy(template)
        document["id"] = f"urn:uuid:{uuid.uuid4()}"
        document["credentialSubject"]["achievement"]["id"] = achievement
        document["credentialSubject"]["identifier"][0]["identityHash"] = email_of(index)
        documents.append(document)
    return documents


def enqueue(services, documents: list[dict]) -> None:
    for document in documents:
        services.queue.send(QueueMessage(source="openbadges", body=document))


def count_by_activity(lrs, session, activity: str) -> int:
    total, url, params = 0, lrs.statements_url, {"activity": activity, "limit": "500"}
    while url:
        page = session.get(url, params=params).json()
        total += len(page["statements"])
        url, params = (f"http://127.0.0.1:{lrs.port}{page['more']}" if page["more"] else None), None
    return total


def test_lrs_outage_mid_run_loses_and_duplicates_nothing(monkeypatch, tmp_path, lrs_session):
    # SIGSTOP is a real outage (connections hang, then time out) that keeps the in-memory data;
    # killing this LRS would also wipe what it stored before, and "exactly once" could not be counted.
    with LrsProcess() as lrs:
        services = make_services(
            monkeypatch,
            tmp_path,
            lrs.endpoint,
            LRS_READ_TIMEOUT="0.5",
            LRS_CONNECT_TIMEOUT="0.5",
            HTTP_MAX_ATTEMPTS="2",
            LRS_BATCH_SIZE="5",
            WORKER_BATCH_SIZE="10",
        )
        activity = f"https://credentials.example.edu/achievements/outage-{uuid.uuid4()}"
        enqueue(services, ob3_documents(40, activity))
        drainer = services.drainer()
        drainer.backoff_base = 0.2

        assert drainer.drain_once() == 10  # the first batch goes through
        os.kill(lrs.pid, signal.SIGSTOP)
        try:
            drainer.drain_once()  # times out: the batch is put back for later, not dead-lettered
            assert services.queue.depth() == 30
        finally:
            os.kill(lrs.pid, signal.SIGCONT)
        drainer.run_until_idle(timeout=60)

        assert services.queue.depth() == 0
        assert services.store.count_dead_letters() == 0
        assert count_by_activity(lrs, lrs_session, activity) == 40
        assert services.store.counters()["delivered"] >= 40


def test_lrs_answering_429_then_503_then_success_delivers_once_after_backing_off(monkeypatch, tmp_path):
    with FakeLrs() as fake:
        services = make_services(monkeypatch, tmp_path, fake.endpoint, HTTP_BACKOFF_BASE="0.2", HTTP_BACKOFF_CAP="5")
        waits: list[float] = []
        services.worker.lrs.sleep = lambda seconds: (waits.append(seconds), time.sleep(seconds))
        fake.script((429, {"Retry-After": "1"}), (503, {}))
        enqueue(services, ob3_documents(3, "https://credentials.example.edu/achievements/retry"))

        started = time.monotonic()
        services.drainer().run_until_idle(timeout=30)

        assert time.monotonic() - started >= 1.0
        assert waits[0] == 1.0  # Retry-After honoured
        assert 0.2 <= waits[1] <= 0.4  # then exponential backoff with jitter: 0.2 * 2**1, halved at most
        assert [r.method for r in fake.posts] == ["POST"] * 3
        assert len(fake.stored) == 3
        assert services.store.count_dead_letters() == 0


def test_one_statement_the_lrs_rejects_is_a_dead_letter_and_the_rest_are_delivered(
    monkeypatch, tmp_path, lrs, lrs_session
):
    # Learning Locker refuses non-ASCII email addresses, which xAPI itself allows: the connector's
    # validator lets them pass, the LRS answers 400 for the whole batch, and bisecting isolates it.
    services = make_services(monkeypatch, tmp_path, lrs.endpoint, IDENTITY_IFI="mbox")
    activity = f"https://credentials.example.edu/achievements/reject-{uuid.uuid4()}"
    emails = [f"{LEARNERS[i % 4]}@example.com" for i in range(9)] + ["jürgen.müller@example.com"]
    enqueue(services, ob3_documents(10, activity, email_of=lambda i: emails[i]))

    services.drainer().run_until_idle(timeout=30)

    assert count_by_activity(lrs, lrs_session, activity) == 9
    letters = services.store.dead_letters()
    assert len(letters) == 1
    assert "LRS rejected statement" in letters[0].reason and "mbox" in letters[0].reason
    assert "müller" not in letters[0].reason  # no personal data in the reason
    assert letters[0].message["body"]["credentialSubject"]["identifier"][0]["identityHash"] == emails[9]


def test_wrong_lrs_credentials_stop_the_batch_and_turn_health_red(monkeypatch, tmp_path):
    with FakeLrs() as fake:
        services = make_services(monkeypatch, tmp_path, fake.endpoint, QUEUE_MAX_ATTEMPTS="3")
        fake.script((401, {}), (401, {}), (401, {}))
        enqueue(services, ob3_documents(2, "https://credentials.example.edu/achievements/auth"))

        services.drainer().drain_once()

        assert len(fake.posts) == 1  # no retry storm
        assert services.queue.depth() == 2  # kept for when the credentials are fixed
        assert "401" in services.store.flags()["lrs"]
        assert services.store.count_dead_letters() == 0
