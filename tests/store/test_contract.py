"""The store contract: the same tests, unchanged, for every backend (the `store` fixture, conftest.py).

At the end, a few DynamoDB-only tests of what SQLite has no counterpart for (SDK retries, part
items, lazy imports).
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.contract


def run_together(count: int, work: Callable[[], Any]) -> list:
    """Run `work` in `count` threads released at the same moment; every result, or the first error."""
    barrier = threading.Barrier(count)
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            value = work()
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(error)
            return
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def noise(size: int, seed: int) -> str:
    """Text that does not compress much, so sizes stay what the test says."""
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4)).decode()


# -- delivery claims -----------------------------------------------------------------------------


def test_a_delivery_is_claimed_once(store):
    assert store.claim_delivery("credly:e1", 3600) is True
    assert store.claim_delivery("credly:e1", 3600) is False
    assert store.claim_delivery("credly:e2", 3600) is True


@pytest.mark.parametrize("ttl", [0, -60])
def test_an_expired_claim_can_be_claimed_again(store, ttl):
    assert store.claim_delivery("k", ttl) is True  # expired at once (0) or already (-60)
    assert store.claim_delivery("k", 3600) is True
    assert store.claim_delivery("k", 3600) is False


def test_a_delivery_is_seen_while_its_claim_lasts(store):
    assert store.delivery_seen("credly:e1") is False  # reading claims nothing
    assert store.claim_delivery("credly:e1", 3600) is True
    assert store.delivery_seen("credly:e1") is True
    store.claim_delivery("expired", -60)
    assert store.delivery_seen("expired") is False
    long_key = "credly:" + "e" * 5000
    store.claim_delivery(long_key, 3600)
    assert (store.delivery_seen(long_key), store.delivery_seen(long_key + "x")) == (True, False)


def test_an_array_of_deliveries_is_claimed_and_read_at_once(store):
    store.claim_delivery("ob:b", 3600)
    store.claim_delivery("ob:old", -60)
    keys = ["ob:a", "ob:b", "ob:old", "ob:a2"]
    assert store.seen_deliveries(keys) == {"ob:b"}
    assert store.claim_deliveries(keys, 3600) == {"ob:a", "ob:old", "ob:a2"}  # b was claimed already
    assert store.seen_deliveries(keys + ["ob:never"]) == set(keys)
    assert store.claim_deliveries([], 3600) == set() and store.seen_deliveries([]) == set()


def test_more_keys_than_one_query_takes_are_all_read(store):
    keys = [f"ob:{i}" for i in range(1_203)]
    assert len(store.claim_deliveries(keys[::2], 3600)) == 602
    assert store.seen_deliveries(keys) == set(keys[::2])


def test_a_released_claim_can_be_claimed_again(store):
    store.claim_delivery("k", 3600)
    store.release_delivery("k")
    assert store.claim_delivery("k", 3600) is True
    store.release_delivery("never-claimed")  # a no-op, not an error


def test_concurrent_claims_let_exactly_one_through(store):
    assert sorted(run_together(8, lambda: store.claim_delivery("race", 3600))) == [False] * 7 + [True]


def test_concurrent_claims_of_an_expired_claim_let_exactly_one_through(store):
    store.claim_delivery("race", -60)
    assert sorted(run_together(8, lambda: store.claim_delivery("race", 3600))) == [False] * 7 + [True]


def test_long_and_unusual_keys_are_claimed_apart(store):
    long_key = "credly:" + "e" * 5000  # longer than a DynamoDB partition key may be
    keys = [long_key, long_key + "x", "credly:événement/1#2", "credly:"]
    assert [store.claim_delivery(k, 3600) for k in keys] == [True] * 4
    assert [store.claim_delivery(k, 3600) for k in keys] == [False] * 4
    store.release_delivery(long_key)
    assert store.claim_delivery(long_key, 3600) is True


# -- the delivered-statement log -----------------------------------------------------------------

LRS_A, LRS_B = "http://lrs-a.example/xAPI/", "http://lrs-b.example/xAPI/"


def test_delivered_ids_are_recorded_per_endpoint(store):
    assert store.delivered_ids(LRS_A, ["s1", "s2"]) == set()  # nothing recorded yet: nothing known
    store.record_delivered(LRS_A, ["s1", "s2", "s1"])
    store.record_delivered(LRS_A, ["s2", "s3"])  # recording again is no error
    assert store.delivered_ids(LRS_A, ["s1", "s3", "s4"]) == {"s1", "s3"}
    assert store.delivered_ids(LRS_B, ["s1", "s2", "s3"]) == set()  # another LRS starts afresh
    store.record_delivered(LRS_B, ["s4"])
    assert store.delivered_ids(LRS_A, ["s4"]) == set() and store.delivered_ids(LRS_B, ["s4"]) == {"s4"}
    store.record_delivered(LRS_A, [])
    assert store.delivered_ids(LRS_A, []) == set()


def test_forgetting_an_endpoint_forgets_its_ids_only_until_recorded_again(store):
    store.record_delivered(LRS_A, ["s1", "s2"])
    store.record_delivered(LRS_B, ["s1"])
    store.forget_delivered(LRS_A)
    assert store.delivered_ids(LRS_A, ["s1", "s2"]) == set()
    assert store.delivered_ids(LRS_B, ["s1"]) == {"s1"}
    store.record_delivered(LRS_A, ["s2"])
    assert store.delivered_ids(LRS_A, ["s1", "s2"]) == {"s2"}  # refilled with what came since
    store.forget_delivered("http://never-recorded.example/")  # a no-op, not an error


def test_an_endpoints_log_is_counted_where_the_backend_can_without_reading_it_all(store):
    from chalicelib.store.dynamodb import DynamoDbStore

    assert store.count_delivered(LRS_A) == 0  # never recorded: no log at all
    store.record_delivered(LRS_A, ["s1", "s2", "s1"])
    store.record_delivered(LRS_A, ["s2", "s3"])
    store.record_delivered(LRS_B, ["s9"])
    # DynamoDB would have to Scan the table to count: it says so rather than guess.
    assert store.count_delivered(LRS_A) == (None if isinstance(store, DynamoDbStore) else 3)
    store.forget_delivered(LRS_A)
    assert (store.count_delivered(LRS_A), store.count_delivered(LRS_B) in (1, None)) == (0, True)


def test_many_delivered_ids_and_long_endpoints_are_read_at_once(store):
    ids = [f"{i:08d}-5e1c-5d5a-9b7e-0c2f7a1d3b4e" for i in range(1_203)]
    endpoint = "https://lrs.example/" + "x" * 3000 + "/xAPI/"
    store.record_delivered(endpoint, ids[::2])
    assert store.delivered_ids(endpoint, ids) == set(ids[::2])
    assert store.delivered_ids(endpoint + "other/", ids) == set()


def test_concurrent_first_records_of_an_endpoint_are_all_kept(store):
    # The first records of an endpoint race to start its log: none may go into a log no one reads.
    def record() -> str:
        statement_id = f"s-{threading.get_ident()}"
        store.record_delivered(LRS_A, [statement_id])
        return statement_id

    recorded = run_together(6, record)
    assert store.delivered_ids(LRS_A, recorded + ["s-never"]) == set(recorded) and len(set(recorded)) == 6


# -- dead letters --------------------------------------------------------------------------------


MESSAGE = {
    "id": "m1",
    "source": "credly",
    "body": {"name": "Jürgen Łukasz 日本語 🎓", "nested": [1, 2.5, {"a": None, "b": [True, False]}], "empty": {}},
}


def test_a_dead_letter_round_trips(store):
    letter = store.put_dead_letter("m1", "credly", "LRS rejected it", MESSAGE)
    assert (letter.id, letter.source, letter.reason, letter.attempts) == ("m1", "credly", "LRS rejected it", 1)
    assert letter.message == MESSAGE and letter.first_at == letter.last_at
    assert store.dead_letter("m1") == letter
    assert store.dead_letters() == [letter]


def test_putting_a_dead_letter_again_counts_attempts_and_keeps_the_latest_reason(store):
    first = store.put_dead_letter("m1", "credly", "LRS rejected it", MESSAGE)
    changed = {**MESSAGE, "body": {"retried": True}}
    store.put_dead_letter("m1", "credly", "still rejected", MESSAGE)
    third = store.put_dead_letter("m1", "credly", "gave up after 10 attempts", changed)
    assert (third.attempts, third.reason, third.message) == (3, "gave up after 10 attempts", changed)
    assert third.first_at == first.first_at and third.last_at >= first.last_at
    assert store.dead_letter("m1") == third
    assert store.count_dead_letters() == 1


def test_concurrent_puts_of_one_dead_letter_count_every_attempt(store):
    attempts = run_together(8, lambda: store.put_dead_letter("m1", "credly", "reason", MESSAGE).attempts)
    assert all(1 <= n <= 8 for n in attempts)  # SQLite reads the letter back after its write
    assert store.dead_letter("m1").attempts == 8


def test_dead_letters_are_listed_by_first_time_then_id(store):
    for message_id in ["m3", "m1", "m2"]:
        store.put_dead_letter(message_id, "certifier", "unknown learner", {"id": message_id})
    store.put_dead_letter("m3", "certifier", "again", {"id": "m3"})  # a re-put keeps its place
    letters = store.dead_letters()
    assert [(letter.first_at, letter.id) for letter in letters] == sorted(
        (letter.first_at, letter.id) for letter in letters
    )
    assert store.dead_letters() == letters  # stable
    assert store.dead_letters(limit=2) == letters[:2]


def test_a_dead_letter_can_be_deleted(store):
    store.put_dead_letter("m1", "credly", "r", MESSAGE)
    store.put_dead_letter("m2", "certifier", "unknown learner", {"id": "m2"})
    assert store.count_dead_letters() == 2
    store.delete_dead_letter("m1")
    store.delete_dead_letter("never-there")  # a no-op, not an error
    assert store.dead_letter("m1") is None and store.dead_letter("never-there") is None
    assert [letter.id for letter in store.dead_letters()] == ["m2"] and store.count_dead_letters() == 1


def test_a_dead_letter_as_large_as_an_sqs_message_round_trips(store):
    big = {"id": "big", "body": {"image": "data:image/png;base64," + noise(1_000_000, seed=1)}}
    assert len(json.dumps(big)) > 1_000_000  # a DynamoDB item holds 400 KB
    assert store.put_dead_letter("big", "openbadges", "too big for the LRS", big).message == big
    assert store.dead_letter("big").message == big
    assert store.put_dead_letter("big", "openbadges", "again", {"id": "big"}).attempts == 2  # smaller now
    assert store.dead_letter("big").message == {"id": "big"}
    store.put_dead_letter("big", "openbadges", "and large again", big)
    assert [letter.message for letter in store.dead_letters()] == [big]
    store.delete_dead_letter("big")
    assert store.dead_letter("big") is None and store.count_dead_letters() == 0


def test_more_dead_letters_than_one_page_are_all_listed_and_counted(store, backend_calls):
    # 450 letters of 3 KB: 1.35 MB, more than one DynamoDB Query page (1 MB).
    for index in range(450):
        store.put_dead_letter(f"m{index:04d}", "openbadges", "reason", {"pad": noise(3000, seed=index)})
    backend_calls.clear()
    letters = store.dead_letters()
    assert [(letter.first_at, letter.id) for letter in letters] == sorted(
        (letter.first_at, letter.id) for letter in letters
    )
    assert len({letter.id for letter in letters}) == 450 == store.count_dead_letters()
    assert letters[-1].message == {"pad": noise(3000, seed=int(letters[-1].id[1:]))}
    assert not backend_calls or backend_calls["Query"] >= 4  # DynamoDB: two pages each to list and to count


def clock(store, monkeypatch) -> Callable[[str], None]:
    """Sets the time the store writes (its module's _now_iso), to give letters their dates."""
    module = sys.modules[type(store).__module__]
    return lambda when: monkeypatch.setattr(module, "_now_iso", lambda: when)


def put_dated_letters(store, monkeypatch) -> None:
    """Letters of three sources; d's last time (a re-put) is weeks after its first."""
    set_time = clock(store, monkeypatch)
    for message_id, source, reason, when in [
        ("d", "credly", "unknown learner E-1", "2026-10-01T08:00:00+00:00"),
        ("a", "credly", "LRS timed out", "2026-11-01T10:00:00+00:00"),
        ("b", "certifier", "Unknown learner E-2", "2026-11-15T10:00:00+00:00"),
        ("c", "openbadges", "ÉCHEC: LRS Timed Out", "2026-12-01T10:00:00+00:00"),
        ("d", "credly", "unknown learner E-1", "2026-12-05T10:00:00+00:00"),
    ]:
        set_time(when)
        store.put_dead_letter(message_id, source, reason, {"id": message_id})


def heads(store, **where: Any) -> list[str]:
    from chalicelib.store import LetterFilter

    return [head.id for head in store.dead_letter_heads(LetterFilter(**where))]


def test_dead_letter_heads_are_the_letters_without_their_messages_in_order(store, monkeypatch):
    from chalicelib.store import LetterFilter

    put_dated_letters(store, monkeypatch)
    listed = store.dead_letter_heads(LetterFilter())
    assert [h.id for h in listed] == [letter.id for letter in store.dead_letters()] == ["d", "a", "b", "c"]
    letter = store.dead_letter("d")
    assert listed[0] == type(listed[0])(letter.id, letter.source, letter.reason, 2, letter.first_at, letter.last_at)
    assert not hasattr(listed[0], "message")
    assert heads(store, limit=2) == ["d", "a"]


def test_dead_letter_heads_filter_by_source_reason_and_last_time(store, monkeypatch):
    put_dated_letters(store, monkeypatch)
    assert heads(store, sources=("credly",)) == ["d", "a"]
    assert heads(store, sources=("credly", "openbadges")) == ["d", "a", "c"]
    assert heads(store, sources=("accredible",)) == []
    assert heads(store, reason="TIMED out") == ["a", "c"]
    assert heads(store, reason="échec") == ["c"]  # case folded beyond ASCII
    assert heads(store, reason="unknown learner") == ["d", "b"]
    assert heads(store, since="2026-11-15T10:00:00+00:00") == ["d", "b", "c"]  # d by its last time, b at it
    assert heads(store, until="2026-11-15T10:00:00+00:00") == ["a"]  # before: b is not
    assert heads(store, since="2026-11-01T00:00:00+00:00", until="2026-12-01T00:00:00+00:00") == ["a", "b"]
    assert heads(store, sources=("credly", "certifier"), reason="learner", since="2026-11-02T00:00:00+00:00") == [
        "d",
        "b",
    ]
    assert heads(store, sources=("credly", "certifier"), limit=2) == ["d", "a"]


def test_a_discarded_letter_is_gone_and_its_audit_record_kept(store, monkeypatch):
    set_time = clock(store, monkeypatch)
    set_time("2026-11-01T10:00:00+00:00")
    store.put_dead_letter("m1", "credly", "unknown learner", MESSAGE)
    store.put_dead_letter("m2", "certifier", "kept", {"id": "m2"})
    set_time("2026-11-02T10:00:00+00:00")
    letter = store.put_dead_letter("m1", "credly", "unknown learner E-1", MESSAGE)
    set_time("2026-11-03T10:00:00+00:00")
    record = store.discard_dead_letter("m1", "left the company")
    assert (record.id, record.source, record.reason, record.discard_reason, record.discarded_at) == (
        "m1",
        "credly",
        "unknown learner E-1",
        "left the company",
        "2026-11-03T10:00:00+00:00",
    )
    assert (record.message, record.attempts, record.first_at, record.last_at) == (
        MESSAGE,
        2,
        letter.first_at,
        letter.last_at,
    )
    assert store.dead_letter("m1") is None and [letter.id for letter in store.dead_letters()] == ["m2"]
    assert store.count_dead_letters() == 1 and heads(store) == ["m2"]
    assert store.discarded_letters() == [record]
    assert store.discard_dead_letter("m1", "twice") is None and store.discard_dead_letter("never", "x") is None
    assert store.discarded_letters() == [record]


def test_discarded_letters_are_listed_latest_first_each_discard_its_own(store, monkeypatch):
    set_time = clock(store, monkeypatch)
    records = []
    for index, when in enumerate(
        ["2026-11-01T10:00:00+00:00", "2026-11-02T10:00:00+00:00", "2026-11-02T10:00:00+00:00"]
    ):  # the same letter dead again, discarded again
        store.put_dead_letter("m1", "credly", f"failure {index}", {"n": index})
        set_time(when)
        records.append(store.discard_dead_letter("m1", f"discard {index}"))
    assert store.discarded_letters() == records[::-1]
    assert store.discarded_letters(limit=2) == records[:0:-1]


def test_a_discarded_letter_as_large_as_an_sqs_message_keeps_its_message(store):
    big = {"id": "big", "body": {"image": "data:image/png;base64," + noise(1_000_000, seed=3)}}
    store.put_dead_letter("big", "openbadges", "too big for the LRS", big)
    assert store.discard_dead_letter("big", "sent by hand").message == big
    assert store.dead_letter("big") is None
    store.put_dead_letter("big", "openbadges", "dead again", {"id": "big", "pad": noise(1_000_000, seed=5)})
    store.delete_dead_letter("big")  # and its parts: not the record's
    [record] = store.discarded_letters()
    assert record.message == big and record.reason == "too big for the LRS"


# -- counters and flags --------------------------------------------------------------------------


def test_counters_add_up_across_threads(store):
    run_together(8, lambda: store.increment({"delivered": 5, "skipped": 1}))
    assert store.counters() == {"delivered": 40, "skipped": 8}


def test_counters_start_empty_and_take_any_integer(store):
    assert store.counters() == {}
    store.increment({})
    store.increment({"delivered": 3, "dead_lettered": 0})
    store.increment({"delivered": -1})
    assert store.counters() == {"delivered": 2, "dead_lettered": 0}


def test_flags_set_overwrite_clear(store):
    assert store.flags() == {}
    store.set_flag("lrs", "401")
    store.set_flag("lrs", "403: Jürgen's token")
    store.set_flag("credly_auth", "token expired")
    assert store.flags() == {"lrs": "403: Jürgen's token", "credly_auth": "token expired"}
    store.set_flag("lrs", None)
    store.set_flag("never-set", None)  # a no-op, not an error
    assert store.flags() == {"credly_auth": "token expired"}


# -- award ledger and progress -------------------------------------------------------------------


def test_an_award_is_claimed_once_even_under_contention(store):
    assert sorted(run_together(8, lambda: store.claim_award("credly|t|E-1"))) == [False] * 7 + [True]
    assert store.award("credly|t|E-1")["state"] == "claimed"


def test_award_lifecycle(store):
    key = "badgr|bc|E-2"
    assert store.award(key) is None
    store.claim_award(key)
    store.complete_award(key, "vendor-1", {"entityId": "vendor-1", "name": "Zertifikat für Jürgen"})
    record = store.award(key)
    assert (record["state"], record["vendor_id"], record["detail"]) == (
        "awarded",
        "vendor-1",
        {"entityId": "vendor-1", "name": "Zertifikat für Jürgen"},
    )
    assert set(record) == {"state", "vendor_id", "detail", "updated_at"}
    assert store.claim_award(key) is False  # never twice


def test_a_failed_award_can_be_claimed_again_and_a_released_one_too(store):
    store.claim_award("k")
    store.fail_award("k", "422: group not found")
    assert store.award("k")["reason"] == "422: group not found"
    assert sorted(run_together(8, lambda: store.claim_award("k"))) == [False] * 7 + [True]
    assert store.award("k")["state"] == "claimed"
    store.release_award("k")
    assert store.award("k") is None and store.claim_award("k") is True


def test_completing_an_unclaimed_award_records_nothing(store):
    store.complete_award("nobody", "vendor-1", {})
    store.fail_award("nobody", "r")
    assert store.award("nobody") is None


def test_progress_keeps_the_latest_time_per_criterion(store):
    store.add_progress("E-1", "rule", "s0", "2026-11-01T00:00:00+00:00")
    store.add_progress("E-1", "rule", "s0", "2026-10-01T00:00:00+00:00")  # an older redelivery
    store.add_progress("E-1", "rule", "s1", "2026-11-02T00:00:00+00:00")
    store.add_progress("E-2", "rule", "s0", "2026-11-03T00:00:00+00:00")
    assert store.progress("E-1", "rule") == {"s0": "2026-11-01T00:00:00+00:00", "s1": "2026-11-02T00:00:00+00:00"}
    assert store.progress("E-1", "other") == {}


def test_progress_keys_do_not_run_together(store):
    store.add_progress("a#b", "c", "s0", "2026-11-01T00:00:00+00:00")
    store.add_progress("a", "b#c", "s0", "2026-11-02T00:00:00+00:00")
    assert store.progress("a#b", "c") == {"s0": "2026-11-01T00:00:00+00:00"}
    assert store.progress("a", "b#c") == {"s0": "2026-11-02T00:00:00+00:00"}


# -- DynamoDB only -------------------------------------------------------------------------------


def lose_first_answer(client: Any, operation: str) -> list:
    """Make botocore resend the first `operation` after DynamoDB applied it, as after a read timeout."""
    retried: list = []

    def retry_once(**_: Any) -> int | None:
        if not retried:
            retried.append(operation)
            return 0  # "retry after 0 s"
        return None

    client.meta.events.register_first(f"needs-retry.dynamodb.{operation}", retry_once)
    return retried


def test_dynamodb_a_claim_whose_answer_was_lost_is_still_ours(dynamodb_store):
    retried = lose_first_answer(dynamodb_store.client, "PutItem")
    assert dynamodb_store.claim_delivery("credly:e1", 3600) is True  # the resend fails its condition
    assert retried and dynamodb_store.claim_delivery("credly:e1", 3600) is False
    assert dynamodb_store.claim_award("credly|t|E-1") is True


# -- pull cursors and the expiry sweep --------------------------------------------------------------


def test_a_cursor_is_kept_replaced_and_forgotten(store):
    assert store.cursor("credly:sync") is None
    store.set_cursor("credly:sync", "https://api.credly.com/v1/organizations/o/badges?page=2")
    store.set_cursor("badgr:sync", "2026-11-30T10:00:00Z")
    store.set_cursor("credly:sync", "https://api.credly.com/v1/organizations/o/badges?page=3")
    assert store.cursor("credly:sync").endswith("page=3") and store.cursor("badgr:sync") == "2026-11-30T10:00:00Z"
    store.set_cursor("credly:sync", None)
    assert store.cursor("credly:sync") is None


def test_a_cursor_says_when_it_was_set(store):
    from datetime import datetime, timedelta

    assert store.cursor_updated_at("credly:sync") is None
    store.set_cursor("credly:sync", "page-2")
    when = datetime.fromisoformat(store.cursor_updated_at("credly:sync"))
    assert abs(datetime.now(UTC) - when) < timedelta(seconds=5)
    store.set_cursor("credly:sync", None)
    assert store.cursor_updated_at("credly:sync") is None


def a_run(source: str, mode: str, started: str, outcome: str = "finished", **more):
    from chalicelib.store import Run

    fields = {"records": 3, "statements": 6, "dead_letters": 0, "exit_code": 3 if outcome == "failed" else 0, **more}
    return Run(source, mode, started, started.replace("00:00", "00:30"), outcome, **fields)


def test_the_last_run_and_the_last_success_are_kept_per_source_and_mode(store):
    assert store.runs() == []
    first = a_run("credly", "backfill", "2027-01-01T10:00:00+00:00")
    store.record_run(first)
    assert [(h.last, h.last_success) for h in store.runs()] == [(first, first)]
    failed = a_run(
        "credly",
        "backfill",
        "2027-01-02T10:00:00+00:00",
        "failed",
        error="Credly refused (HTTP 401)",
        statements=None,
        dead_letters=None,
    )
    other = a_run("a#b", "import-csv", "2027-01-02T11:00:00+00:00", "stopped early")
    synced = a_run("credly", "sync", "2027-01-02T12:00:00+00:00")
    for run in (failed, other, synced):
        store.record_run(run)
    histories = {(h.last.source, h.last.mode): h for h in store.runs()}
    assert list(histories) == [("a#b", "import-csv"), ("credly", "backfill"), ("credly", "sync")]
    assert (histories["credly", "backfill"].last, histories["credly", "backfill"].last_success) == (failed, first)
    assert histories["a#b", "import-csv"].last_success == other  # stopped early: not a failure
    again = a_run("credly", "backfill", "2027-01-03T10:00:00+00:00")
    store.record_run(again)
    assert [(h.last, h.last_success) for h in store.runs() if h.last.mode == "backfill"] == [(again, again)]
    assert len(store.runs()) == 3  # replaced, never a growing log


def test_the_last_verified_time_of_credentials_is_kept(store):
    assert store.verified() == {}
    store.set_verified("lrs", "2027-01-01T10:00:00+00:00")
    store.set_verified("credly_auth", "2027-01-01T11:00:00+00:00")
    store.set_verified("lrs", "2027-01-02T10:00:00+00:00")
    assert store.verified() == {"lrs": "2027-01-02T10:00:00+00:00", "credly_auth": "2027-01-01T11:00:00+00:00"}
    assert store.flags() == {}  # not problems: /health shows every flag as one


def at(day: int, hour: int = 12) -> str:
    return f"2027-01-{day:02d}T{hour:02d}:00:00.000Z"


def test_expiries_are_due_once_their_time_has_come_earliest_first(store):
    for key, when in [("credly|c", at(20)), ("credly|a", at(3)), ("badgr|b", at(3, 18)), ("credly|later", at(31))]:
        store.remember_expiry(key, when, {"credential": key})
    assert store.due_expiries(at(2)) == []
    assert [e.key for e in store.due_expiries(at(3, 12))] == ["credly|a"]  # at its time, not a second early
    due = store.due_expiries(at(25))
    assert [(e.key, e.expires_at) for e in due] == [("credly|a", at(3)), ("badgr|b", at(3, 18)), ("credly|c", at(20))]
    assert due[0].event == {"credential": "credly|a"}
    assert [e.key for e in store.due_expiries(at(25), limit=2)] == ["credly|a", "badgr|b"]


def test_a_settled_expiry_is_not_due_again(store):
    store.remember_expiry("credly|a", at(3), {})
    store.remember_expiry("credly|b", at(4), {})
    store.settle_expiry("credly|a", at(3))
    assert [e.key for e in store.due_expiries(at(10))] == ["credly|b"]
    store.settle_expiry("credly|b", at(4))
    assert store.due_expiries(at(30)) == []
    assert store.due_expiries(at(30)) == []  # and again, after the empty days were passed over


def test_a_renewed_credential_expires_at_its_new_time_only(store):
    store.remember_expiry("credly|a", at(3), {"v": 1})
    store.remember_expiry("credly|a", at(20), {"v": 2})  # renewed before its first expiry
    assert store.due_expiries(at(10)) == []
    [due] = store.due_expiries(at(21))
    assert (due.expires_at, due.event) == (at(20), {"v": 2})


def test_settling_an_expiry_renewed_meanwhile_keeps_the_renewal(store):
    store.remember_expiry("credly|a", at(3), {})
    [due] = store.due_expiries(at(5))
    store.remember_expiry("credly|a", at(28), {})  # renewed while the sweep was sending
    store.settle_expiry(due.key, due.expires_at)
    assert store.due_expiries(at(5)) == []
    assert [e.expires_at for e in store.due_expiries(at(29))] == [at(28)]


def test_expiries_are_updated_a_batch_at_a_time(store):
    from chalicelib.store import Expiry

    store.remember_expiry("credly|revoked", at(4), {})
    store.update_expiries(
        [Expiry("credly|a", at(3), {"v": 1}), Expiry("badgr|b", at(5), {"v": 2})], ["credly|revoked", "credly|never"]
    )
    assert [(e.key, e.event) for e in store.due_expiries(at(30))] == [("credly|a", {"v": 1}), ("badgr|b", {"v": 2})]
    store.update_expiries([], [])  # nothing to do: no error


def test_a_share_link_round_trips_and_an_unknown_one_is_none(store):
    from chalicelib.store import ShareLink

    event = {"kind": "shared", "credential": {"id": "c-1", "name": "Données \u00e9"}, "learner": {"email": "a@b.c"}}
    link = ShareLink("AAAAAAAAAAAAAAAA", "linkedin", "https://badges.example/c-1", "2026-01-02T03:04:05.000Z", event)
    store.put_share_link(link)
    assert store.share_link(link.id) == link
    assert store.share_link("BBBBBBBBBBBBBBBB") is None
    assert store.share_link("x" * 5000) is None  # a key DynamoDB could not take as is: looked up, not refused


def test_a_forgotten_expiry_is_never_due(store):
    store.remember_expiry("credly|a", at(3), {})
    store.forget_expiry("credly|a")
    store.forget_expiry("credly|never")  # a no-op
    assert store.due_expiries(at(30)) == []


def test_an_expiry_remembered_before_earlier_ones_is_still_found(store):
    store.remember_expiry("credly|late", at(25), {})
    assert store.due_expiries(at(26))  # the sweep passes the empty days before the 25th
    store.remember_expiry("credly|early", at(2), {})  # a credential with an earlier expiry arrives
    assert [e.key for e in store.due_expiries(at(26))] == ["credly|early", "credly|late"]


def test_dynamodb_a_smaller_or_deleted_letter_leaves_no_parts(dynamodb_store):
    big = {"pad": noise(1_000_000, seed=2)}
    client = dynamodb_store.client

    def stored_items() -> int:
        return sum(page["Count"] for page in client.get_paginator("scan").paginate(TableName=dynamodb_store.table_name))

    dynamodb_store.put_dead_letter("big", "openbadges", "r", big)
    assert stored_items() > 2  # the letter and its parts
    dynamodb_store.put_dead_letter("big", "openbadges", "r", {"small": True})
    assert stored_items() == 1
    dynamodb_store.put_dead_letter("big", "openbadges", "r", big)
    dynamodb_store.delete_dead_letter("big")
    assert stored_items() == 0


def test_dynamodb_dead_letter_heads_leave_messages_and_other_sources_in_the_table(dynamodb_store):
    from chalicelib.store import LetterFilter

    for index in range(5):
        dynamodb_store.put_dead_letter(f"m{index}", "credly" if index < 2 else "certifier", "r", {"n": index})
    answers: list[dict] = []
    dynamodb_store.client.meta.events.register("after-call.dynamodb.Query", lambda parsed, **_: answers.append(parsed))
    assert [h.id for h in dynamodb_store.dead_letter_heads(LetterFilter(sources=("credly",)))] == ["m0", "m1"]
    [answer] = answers
    assert (answer["ScannedCount"], answer["Count"]) == (5, 2)  # filtered by the query, not here
    assert all("message" not in item for item in answer["Items"])


def test_dynamodb_a_discarded_letter_leaves_no_letter_parts(dynamodb_store):
    from chalicelib.store.dynamodb import _pk

    dynamodb_store.put_dead_letter("big", "openbadges", "r", {"pad": noise(1_000_000, seed=4)})
    dynamodb_store.discard_dead_letter("big", "done")
    assert list(dynamodb_store._query(_pk("deadletter-part", "big"))) == []


def test_dynamodb_keys_not_encodable_as_utf8_are_hashed(dynamodb_store):
    key = json.loads('"credly:\\ud800"')  # a lone surrogate: valid JSON, not UTF-8
    assert dynamodb_store.claim_delivery(key, 3600) is True
    assert dynamodb_store.claim_delivery(key, 3600) is False


def test_dynamodb_store_module_does_not_import_boto3():
    probe = "import sys, chalicelib.store.dynamodb; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    root = REPO
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
