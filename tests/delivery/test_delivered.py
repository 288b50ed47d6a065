"""The worker with the delivered-statement log: the log is read when a batch is prepared and
written when it is settled, never while it is sent; one look-up decides whether the batch's logged
statements are left out (held), the batch goes in full and the log is forgotten (lost), or the
batch goes in full and the log is no longer read (the LRS cannot answer a look-up by id)."""

from __future__ import annotations

import pytest

from chalicelib.delivery.delivered import DeliveredLog, endpoint_key
from chalicelib.delivery.worker import Worker
from chalicelib.xapi.lrs import FilterIgnored, LrsUnavailable
from tests.delivery.test_worker import GuardedStore, ScriptedLrs, delivered_all, messages, store  # noqa: F401
from tests.support.helpers import AS_OF, make_translator


class LookedUp(ScriptedLrs):
    """A scripted LRS whose look-ups by id answer from `held` (or raise `failure`)."""

    def __init__(self, held: set[str], failure: Exception | None = None) -> None:
        super().__init__(delivered_all)
        self.held, self.failure = held, failure
        self.looked_up: list[str] = []

    def look_up(self, statement_id, voided):  # type: ignore[override]
        self.looked_up.append(statement_id)
        if self.failure is not None:
            raise self.failure
        return {"id": statement_id} if statement_id in self.held and not voided else None


def logged_worker(store, lrs: LookedUp) -> Worker:
    return Worker(make_translator(directory=True), lrs, store, clock=lambda: AS_OF, delivered=DeliveredLog(store, lrs))


def run(w: Worker, store, batch_messages):
    batch = w.prepare(batch_messages)
    store.locked = True  # sending uses the LRS only: the drainer prepares the next batch meanwhile
    w.send(batch)
    store.locked = False
    return batch, w.settle(batch)


def ids_of(w: Worker, batch_messages) -> list[str]:
    return [s["id"] for m in batch_messages for s in w.translator.translate(m.source, m.body, AS_OF).statements]


def test_logged_statements_are_left_out_once_the_lrs_shows_it_holds_one(store):
    first = messages(3)
    lrs = LookedUp(held=set())
    w = logged_worker(store, lrs)
    run(w, store, first)  # delivered: now logged
    lrs.held = set(ids_of(w, first))
    lrs.sent.clear()

    _, result = run(w, store, first + messages(2))

    sent = [s["id"] for outgoing in lrs.sent for s in outgoing.statements]
    assert not set(sent) & set(ids_of(w, first)) and len(sent) == 2
    assert len(lrs.looked_up) == 1 and lrs.looked_up[0] in ids_of(w, first)
    assert (result.counts["already_stored"], result.counts["delivered"], result.failed) == (3, 2, {})


def logged_then_lost(store):
    """Two batches delivered and logged, then an LRS that restarted empty: it holds none of them."""
    first, second = messages(3), messages(2)
    lrs = LookedUp(held=set())
    w = logged_worker(store, lrs)
    run(w, store, first)
    run(w, store, second)
    lrs.sent.clear()
    return w, lrs, first, second


def test_when_the_lrs_lost_a_logged_statement_the_batch_goes_in_full_and_the_log_is_forgotten(store):
    w, lrs, first, second = logged_then_lost(store)

    _, result = run(w, store, first)

    everything = ids_of(w, first)
    assert [s["id"] for s in lrs.sent[0].statements] == everything  # in order, as prepared
    assert result.counts["delivered"] == 3 and result.counts["already_stored"] == 0
    known = store.delivered_ids(w.delivered.endpoint, everything + ids_of(w, second))
    assert known == set(everything)  # forgotten, then refilled with what the LRS took since


def test_two_pipelined_batches_finding_the_same_loss_forget_the_log_once(store):
    w, lrs, first, second = logged_then_lost(store)

    # The drainer prepares the next batch while this one is in flight: both read the full log.
    batches = [w.prepare(first), w.prepare(second)]
    for batch in batches:
        w.send(batch)
        w.settle(batch)

    everything = ids_of(w, first) + ids_of(w, second)
    assert {s["id"] for outgoing in lrs.sent for s in outgoing.statements} == set(everything)
    # The second batch did not forget what the first recorded after its own forgetting.
    assert store.delivered_ids(w.delivered.endpoint, everything) == set(everything)


@pytest.mark.parametrize("failure", [FilterIgnored("statementId", {"statements": []}), LrsUnavailable("down")])
def test_a_look_up_without_an_answer_never_drops_a_statement(store, failure):
    first = messages(2)
    lrs = LookedUp(held=set())
    w = logged_worker(store, lrs)
    run(w, store, first)
    lrs.sent.clear()
    lrs.failure = failure

    _, result = run(w, store, first)

    if isinstance(failure, LrsUnavailable):  # retried later: nothing counted, nothing skipped
        assert set(result.failed) == {m.id for m in first} and lrs.sent == []
        return
    assert [s["id"] for s in lrs.sent[0].statements] == ids_of(w, first)
    assert result.counts["delivered"] == 2 and not w.delivered.readable
    lrs.looked_up.clear()
    run(w, store, first)  # the log is no longer read: no look-up, everything POSTed
    assert lrs.looked_up == [] and len(lrs.sent) == 2


def test_the_log_is_kept_per_endpoint_without_its_credentials():
    assert endpoint_key("https://user:secret@LRS.example:8443/data/xAPI/") == "https://lrs.example:8443/data/xAPI/"
    assert endpoint_key("http://lrs.example/xAPI/") != endpoint_key("http://lrs.example/other/xAPI/")
