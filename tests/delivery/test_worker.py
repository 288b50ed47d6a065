"""The delivery worker's three halves: prepare (translate, encode) uses no LRS, send uses only
the LRS client (the drainer prepares the next batch meanwhile), settle applies the outcome."""

from __future__ import annotations

import copy
import uuid

import pytest

from chalicelib.delivery.worker import Worker
from chalicelib.queue import QueueMessage
from chalicelib.settings import load_settings
from chalicelib.store import open_store
from chalicelib.xapi.lrs import DeliveryReport, LrsAuthError, LrsClient, LrsUnavailable, Outgoing
from tests.support.helpers import AS_OF, fixture, make_translator


def assertion(n: int) -> dict:
    document = copy.deepcopy(fixture("openbadges/ob2_assertion.json"))
    document["id"] = f"https://badges.example.org/assertions/worker-{n}-{uuid.uuid4()}"
    return document


class ScriptedLrs(LrsClient):
    """An LrsClient whose send() answers from a script instead of the network."""

    def __init__(self, answer) -> None:
        super().__init__("http://127.0.0.1:9/xAPI/")
        self.answer = answer
        self.sent: list[Outgoing] = []

    def send(self, statements, on_wire=None):  # type: ignore[override]
        assert isinstance(statements, Outgoing)  # prepared (encoded) by the worker beforehand
        self.sent.append(statements)
        if on_wire:
            on_wire()
        return self.answer(statements)


class GuardedStore:
    """The store, refusing to be touched while `locked` (send() must not use it)."""

    def __init__(self, store) -> None:
        self._store = store
        self.locked = False

    def __getattr__(self, name):
        if self.locked:
            raise AssertionError(f"store.{name} used while sending")
        return getattr(self._store, name)


@pytest.fixture
def store(tmp_path):
    return GuardedStore(open_store(load_settings({"STATE_PATH": str(tmp_path / "state.sqlite")})))


def worker(store, answer) -> Worker:
    translator = make_translator(directory=True)
    return Worker(translator, ScriptedLrs(answer), store, clock=lambda: AS_OF)


def messages(count: int, bad: int | None = None) -> list[QueueMessage]:
    bodies = [assertion(n) for n in range(count)]
    if bad is not None:
        bodies[bad] = {"type": "Assertion", "id": "https://badges.example.org/assertions/no-badge"}
    return [QueueMessage(source="openbadges", body=body) for body in bodies]


def delivered_all(outgoing: Outgoing) -> DeliveryReport:
    return DeliveryReport(delivered=[s["id"] for s in outgoing.statements])


def test_the_halves_in_order_deliver_and_count(store):
    w = worker(store, delivered_all)
    batch = w.prepare(messages(3, bad=1))
    assert w.lrs.sent == []  # preparing does not POST
    assert batch.outgoing is not None and len(batch.outgoing.statements) == 2
    store.locked = True
    wired: list[int] = []
    w.send(batch, on_wire=lambda: wired.append(1))
    store.locked = False
    result = w.settle(batch)
    assert wired == [1]
    assert result.failed == {}
    assert result.counts["delivered"] == 2 and result.counts["dead_lettered"] == 1
    assert store.counters()["delivered"] == 2
    assert store.count_dead_letters() == 1


def test_process_is_the_three_halves(store):
    w = worker(store, delivered_all)
    result = w.process(messages(2))
    assert result.counts["delivered"] == 2 and len(w.lrs.sent) == 1


def test_an_unexpected_error_while_sending_retries_only_what_was_not_settled(store):
    def broken(outgoing):
        raise RuntimeError("bug")

    w = worker(store, broken)
    batch_messages = messages(3, bad=0)
    batch = w.prepare(batch_messages)
    store.locked = True
    w.send(batch)  # does not raise: the drainer thread settles it
    store.locked = False
    result = w.settle(batch)
    assert set(result.failed) == {m.id for m in batch_messages[1:]}
    assert all(reason == "internal error: RuntimeError" for reason in result.failed.values())
    assert store.count_dead_letters() == 1  # the bad one stays settled


def test_settling_an_unsent_batch_acknowledges_none_of_its_statements(store):
    w = worker(store, delivered_all)
    batch_messages = messages(2)
    result = w.settle(w.prepare(batch_messages))
    assert set(result.failed) == {m.id for m in batch_messages}
    assert "delivered" not in store.counters()


def test_partial_report_on_an_outage_retries_the_rest(store):
    def half(outgoing):
        raise LrsUnavailable(
            "LRS POST /xAPI/statements: HTTP 503 after 5 attempts",
            DeliveryReport(delivered=[outgoing.statements[0]["id"]]),
        )

    w = worker(store, half)
    batch_messages = messages(2)
    batch = w.prepare(batch_messages)
    w.send(batch)
    result = w.settle(batch)
    assert set(result.failed) == {batch_messages[1].id}
    assert result.counts["delivered"] == 1
    assert "lrs" not in store.flags()


def test_auth_refusal_flags_the_lrs_when_settled_not_while_sending(store):
    def refused(outgoing):
        raise LrsAuthError("LRS answered 401 Unauthorized: check LRS_USERNAME/LRS_PASSWORD")

    w = worker(store, refused)
    batch_messages = messages(2)
    batch = w.prepare(batch_messages)
    store.locked = True
    w.send(batch)
    store.locked = False
    assert "lrs" not in store.flags()
    result = w.settle(batch)
    assert set(result.failed) == {m.id for m in batch_messages}
    assert "401" in store.flags()["lrs"]


def test_a_success_clears_the_lrs_flag(store):
    store.set_flag("lrs", "LRS answered 401")
    w = worker(store, delivered_all)
    w.process(messages(1))
    assert "lrs" not in store.flags()
