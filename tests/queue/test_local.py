"""The pipelined outbox drainer: the next batch is received and staged while the previous one's
POSTs are in flight, batches are sent one after the other in the order received, and nothing is
acknowledged before its batch is settled (a crash leaves it leased, to be delivered again)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from chalicelib.queue import QueueMessage
from chalicelib.queue.local import LocalOutbox, OutboxDrainer


class Script:
    """Staged batches that record what happened, on which thread and in which order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, int]] = []  # (what, batch number)
        self.threads: dict[str, set[str]] = {"stage": set(), "send": set(), "finish": set()}
        self.sending = 0
        self.max_sending = 0
        self.send_hook: Callable[[int, list[QueueMessage]], None] = lambda number, messages: None
        self.fail: Callable[[int, list[QueueMessage]], dict[str, str]] = lambda number, messages: {}
        self.batches = 0

    def record(self, what: str, number: int) -> None:
        with self.lock:
            self.events.append((what, number))
            self.threads[what.split(":")[0]].add(threading.current_thread().name)

    def stage(self, messages: list[QueueMessage]) -> Staged:
        with self.lock:
            self.batches += 1
            number = self.batches
        self.record("stage", number)
        return Staged(self, number, messages)


class Staged:
    def __init__(self, script: Script, number: int, messages: list[QueueMessage]) -> None:
        self.script, self.number, self.messages = script, number, messages

    def send(self, on_wire: Callable[[], None]) -> None:
        script = self.script
        with script.lock:
            script.sending += 1
            script.max_sending = max(script.max_sending, script.sending)
        script.record("send:start", self.number)
        on_wire()
        try:
            script.send_hook(self.number, self.messages)
        finally:
            script.record("send:end", self.number)
            with script.lock:
                script.sending -= 1

    def finish(self) -> dict[str, str]:
        self.script.record("finish", self.number)
        return self.script.fail(self.number, self.messages)


def unused_handle(messages: list[QueueMessage]) -> dict[str, str]:
    raise AssertionError("the pipelined drain must not call the one-batch handler")


@pytest.fixture
def outbox(tmp_path) -> Iterator[LocalOutbox]:
    box = LocalOutbox(str(tmp_path / "outbox.sqlite"))
    yield box
    box.db.close()


def fill(outbox: LocalOutbox, count: int) -> list[str]:
    messages = [QueueMessage(source="openbadges", body={"n": n}) for n in range(count)]
    for message in messages:
        outbox.send(message)
        time.sleep(0.001)  # distinct available_at: received in this order
    return [m.id for m in messages]


def drainer(outbox: LocalOutbox, script: Script, give_up=None, **options) -> OutboxDrainer:
    return OutboxDrainer(
        outbox,
        unused_handle,
        give_up or (lambda *args: None),
        stage=script.stage,
        batch_size=options.pop("batch_size", 2),
        **options,
    )


def test_batches_are_sent_one_at_a_time_in_the_order_received_while_the_next_is_staged(outbox):
    ids = fill(outbox, 10)
    script = Script()
    script.send_hook = lambda number, messages: time.sleep(0.03)
    sent_messages: list[str] = []
    hook = script.send_hook
    script.send_hook = lambda number, messages: (sent_messages.extend(m.id for m in messages), hook(number, messages))

    drainer(outbox, script).run_until_idle(timeout=10)

    assert outbox.depth() == 0
    assert sent_messages == ids  # FIFO, every message once
    assert script.max_sending == 1  # never two batches' POSTs at once
    sends = [n for what, n in script.events if what == "send:start"]
    assert sends == [1, 2, 3, 4, 5]
    events = script.events
    for number in range(2, 6):
        # batch n is staged before batch n-1's POSTs are answered (the overlap) ...
        assert events.index(("stage", number)) < events.index(("send:end", number - 1))
        # ... and sent only after they are
        assert events.index(("send:start", number)) > events.index(("send:end", number - 1))
    assert script.threads["send"] == {"outbox-sender"}
    assert script.threads["stage"] == script.threads["finish"] == {threading.current_thread().name}


def test_batches_in_flight_are_bounded_by_the_pipeline_depth(outbox):
    fill(outbox, 12)
    script = Script()
    leased_counts: list[int] = []

    def count_leased(number, messages):
        now = time.time()
        leased_counts.append(len(outbox.db.query("SELECT id FROM outbox WHERE leased_until > ?", (now,))))
        time.sleep(0.02)

    script.send_hook = count_leased
    drainer(outbox, script, pipeline_depth=2).run_until_idle(timeout=10)

    assert outbox.depth() == 0
    assert max(leased_counts) == 4  # two batches of two: the one being sent and the next
    assert len(leased_counts) == 6


def test_nothing_is_acknowledged_before_its_batch_is_settled(outbox):
    ids = fill(outbox, 4)
    script = Script()
    seen_in_outbox: list[set[str]] = []
    script.send_hook = lambda number, messages: seen_in_outbox.append(
        {row[0] for row in outbox.db.query("SELECT id FROM outbox")}
    )
    finished_before: list[set[str]] = []
    fail = script.fail
    script.fail = lambda number, messages: (
        finished_before.append({row[0] for row in outbox.db.query("SELECT id FROM outbox")}),
        fail(number, messages),
    )[1]

    drainer(outbox, script).run_until_idle(timeout=10)

    assert set(ids[:2]) <= seen_in_outbox[0] and set(ids[2:]) <= seen_in_outbox[1]
    assert set(ids[:2]) <= finished_before[0]  # still there while the batch is being settled
    assert outbox.depth() == 0


def test_a_crash_while_a_batch_is_in_flight_leaves_its_messages_to_be_delivered_again(outbox):
    ids = fill(outbox, 4)
    script = Script()
    release = threading.Event()
    script.send_hook = lambda number, messages: release.wait(5)
    crashed = drainer(outbox, script, visibility_seconds=0.3)
    # The drain "dies" with batch 1 in flight and batch 2 staged: its thread never settles them.
    worker = threading.Thread(target=crashed.run_until_idle, kwargs={"timeout": 10}, daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while ("stage", 2) not in script.events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("stage", 2) in script.events
    assert outbox.depth() == 4  # nothing acknowledged
    assert outbox.receive(10) == []  # and all of it leased

    time.sleep(0.35)  # the leases run out, as after a crash
    again = Script()
    redelivered: list[str] = []
    again.send_hook = lambda number, messages: redelivered.extend(m.id for m in messages)
    drainer(outbox, again).run_until_idle(timeout=10)
    release.set()
    worker.join(5)

    assert sorted(redelivered) == sorted(ids)
    assert outbox.depth() == 0


def test_failed_messages_are_retried_later_and_the_rest_acknowledged(outbox):
    ids = fill(outbox, 4)
    script = Script()
    script.fail = lambda number, messages: {messages[0].id: "LRS unavailable"} if number == 1 else {}
    drain = drainer(outbox, script, backoff_base=60)

    drain.drain_available()

    rows = outbox.db.query("SELECT id, attempts, last_error FROM outbox")
    assert rows == [(ids[0], 1, "LRS unavailable")]


def test_a_failing_message_is_given_up_after_max_attempts(outbox):
    ids = fill(outbox, 1)
    script = Script()
    script.fail = lambda number, messages: {m.id: "still down" for m in messages}
    given_up: list[tuple[str, str, int]] = []
    drain = drainer(
        outbox,
        script,
        give_up=lambda m, reason, attempts: given_up.append((m.id, reason, attempts)),
        max_attempts=2,
        backoff_base=0.01,
        idle_wait=0.01,
    )

    drain.run_until_idle(timeout=5)

    assert given_up == [(ids[0], "still down", 2)]
    assert outbox.depth() == 0


@pytest.mark.parametrize("where", ["stage", "send", "finish"])
def test_a_bug_in_any_half_puts_its_whole_batch_back_and_the_drain_goes_on(outbox, where):
    ids = fill(outbox, 4)
    script = Script()

    def boom(*args):
        raise RuntimeError("bug")

    if where == "stage":
        stage = script.stage
        script_stage = lambda messages: boom() if messages[0].id == ids[0] else stage(messages)  # noqa: E731
    else:
        script_stage = script.stage
        if where == "send":
            script.send_hook = lambda number, messages: boom() if number == 1 else None
        else:
            script.fail = lambda number, messages: boom() if number == 1 else {}
    drain = OutboxDrainer(outbox, unused_handle, lambda *a: None, stage=script_stage, batch_size=2, backoff_base=60)

    drain.drain_available()

    rows = outbox.db.query("SELECT id, last_error FROM outbox ORDER BY available_at")
    assert {row[0] for row in rows} == set(ids[:2])
    assert all(row[1] == "worker error: RuntimeError" for row in rows)


def test_a_batch_waiting_behind_a_slow_one_keeps_its_lease(outbox):
    fill(outbox, 4)
    script = Script()
    script.send_hook = lambda number, messages: time.sleep(0.5) if number == 1 else None
    drain = drainer(outbox, script, visibility_seconds=0.4)
    leases: list[float] = []
    extend = outbox.extend_lease
    outbox.extend_lease = lambda ids, seconds: (leases.append(seconds), extend(ids, seconds))  # type: ignore[method-assign]

    drain.run_until_idle(timeout=10)

    assert leases == [0.4]  # batch 2 waited 0.5 s > half its 0.4 s lease: renewed before sending
    assert outbox.depth() == 0


def test_the_drainer_thread_waits_for_the_next_request_to_be_written_before_settling(outbox):
    fill(outbox, 6)
    script = Script()
    order: list[str] = []

    def send(self, on_wire):
        time.sleep(0.02)  # building and writing the request
        order.append(f"written {self.number}")
        on_wire()
        time.sleep(0.02)  # the LRS working

    fail = script.fail
    script.fail = lambda number, messages: (order.append(f"settle {number}"), fail(number, messages))[1]
    Staged.send, original = send, Staged.send
    try:
        drainer(outbox, script).run_until_idle(timeout=10)
    finally:
        Staged.send = original

    for number in (1, 2):
        assert order.index(f"written {number + 1}") < order.index(f"settle {number}")


def test_stop_settles_what_is_in_flight(outbox):
    fill(outbox, 4)
    script = Script()
    script.send_hook = lambda number, messages: time.sleep(0.05)
    drain = drainer(outbox, script, idle_wait=0.01)
    drain.start()
    deadline = time.monotonic() + 5
    while ("send:start", 1) not in script.events and time.monotonic() < deadline:
        time.sleep(0.005)
    drain.stop(timeout=5)

    finished = [n for what, n in script.events if what == "finish"]
    staged = [n for what, n in script.events if what == "stage"]
    assert finished == staged  # every batch received was settled before the thread ended
    assert outbox.depth() == 4 - 2 * len(staged)


def test_without_a_stage_function_batches_go_one_at_a_time(outbox):
    fill(outbox, 5)
    handled: list[int] = []
    drain = OutboxDrainer(outbox, lambda messages: handled.append(len(messages)) or {}, lambda *a: None, batch_size=2)

    drain.run_until_idle(timeout=5)

    assert handled == [2, 2, 1]
    assert outbox.depth() == 0


@pytest.mark.parametrize("queued_by", ["another process", "this process"])
def test_an_idle_drainer_starts_on_a_new_message_without_waiting_out_its_idle_wait(outbox, tmp_path, queued_by):
    # chalice local queues through its own connection to the file, the worker process drains
    # through another; a drainer thread in the same process shares the outbox object.
    sender = LocalOutbox(outbox.db.path) if queued_by == "another process" else outbox
    script = Script()
    drain = drainer(outbox, script, idle_wait=30.0)
    drain.start()
    try:
        time.sleep(0.1)  # found nothing: now in its idle wait
        sent = time.monotonic()
        sender.send(QueueMessage(source="openbadges", body={"n": 1}))
        while outbox.depth() and time.monotonic() - sent < 5:
            time.sleep(0.002)
        waited = time.monotonic() - sent
    finally:
        drain.stop(timeout=5)
        if sender is not outbox:
            sender.db.close()

    assert outbox.depth() == 0
    assert waited < 1.0  # the idle wait is 30 s: only the arrival check could have ended it


def test_an_idle_drainer_still_wakes_after_its_idle_wait_for_a_message_due_later(outbox):
    outbox.send(QueueMessage(source="openbadges", body={"n": 1}))
    (leased,) = outbox.receive(1)
    outbox.retry_later(leased.message.id, 0.2, "the LRS was away")  # no new commit when it is due
    script = Script()
    drain = drainer(outbox, script, idle_wait=0.3)
    drain.start()
    try:
        deadline = time.monotonic() + 5
        while outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        drain.stop(timeout=5)
    assert outbox.depth() == 0


def test_an_arrival_check_that_fails_falls_back_to_the_idle_wait(outbox, monkeypatch):
    import sqlite3

    def unreadable():
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(outbox, "arrivals", unreadable)
    stop = threading.Event()
    started = time.monotonic()
    outbox.wait_for_arrival(None, 0.3, stop)  # type: ignore[arg-type]
    assert 0.25 <= time.monotonic() - started < 2.0  # waited out its time, raised nothing


def test_an_idle_drainer_looks_less_often_the_longer_nothing_comes(outbox, monkeypatch):
    from chalicelib.queue import local

    looks = []
    real = outbox.arrivals
    monkeypatch.setattr(outbox, "arrivals", lambda: looks.append(1) or real())
    since = real()
    outbox.wait_for_arrival(since, 0.5, threading.Event())
    # 5, 10, 20, then every 40 ms: about 15 looks in half a second, where every 5 ms makes 100.
    assert len(looks) <= 0.5 / local.ARRIVAL_CHECK_MAX_SECONDS + 5

    outbox.send(QueueMessage(source="openbadges", body={"n": 1}))
    outbox.wait_for_arrival(since, 5.0, threading.Event())  # returns at the next look
    assert outbox._arrival_interval == local.ARRIVAL_CHECK_SECONDS  # after an arrival: quick looks again
