"""The store contract: the same tests, unchanged, for every backend (see conftest.py)."""

from __future__ import annotations

import threading



def test_a_delivery_is_claimed_once(store):
    assert store.claim_delivery("credly:e1", 3600) is True
    assert store.claim_delivery("credly:e1", 3600) is False
    assert store.claim_delivery("credly:e2", 3600) is True


def test_an_expired_claim_can_be_claimed_again(store):
    assert store.claim_delivery("k", 0) is True  # expires at once
    assert store.claim_delivery("k", 3600) is True
    assert store.claim_delivery("k", 3600) is False


def test_a_released_claim_can_be_claimed_again(store):
    store.claim_delivery("k", 3600)
    store.release_delivery("k")
    assert store.claim_delivery("k", 3600) is True


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        value = work()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


def test_concurrent_claims_let_exactly_one_through(store):
    assert sorted(run_together(8, lambda: store.claim_delivery("race", 3600))) == [False] * 7 + [True]


def test_dead_letters_round_trip_and_count_attempts(store):
    message = {"id": "m1", "body": {"name": "Jürgen", "nested": [1, {"a": None}]}}
    first = store.put_dead_letter("m1", "credly", "LRS rejected it", message)
    assert (first.attempts, first.source, first.message) == (1, "credly", message)
    again = store.put_dead_letter("m1", "credly", "still rejected", message)
    assert again.attempts == 2 and again.reason == "still rejected" and again.first_at == first.first_at
    store.put_dead_letter("m2", "certifier", "unknown learner", {"id": "m2"})
    assert [l.id for l in store.dead_letters()] == ["m1", "m2"]
    assert store.count_dead_letters() == 2
    assert store.dead_letter("m2").reason == "unknown learner"
    store.delete_dead_letter("m1")
    assert store.dead_letter("m1") is None and store.count_dead_letters() == 1


def test_many_dead_letters_are_all_listed(store):
    padding = "x" * 1500  # over a DynamoDB page (1 MB) in total
    for index in range(800):
        store.put_dead_letter(f"m{index:04d}", "openbadges", "reason", {"pad": padding})
    letters = store.dead_letters()
    assert len(letters) == 800 == store.count_dead_letters()
    assert len({l.id for l in letters}) == 800


def test_counters_add_up_across_threads(store):
    run_together(8, lambda: store.increment({"delivered": 5, "skipped": 1}))
    assert store.counters() == {"delivered": 40, "skipped": 8}


def test_flags_set_overwrite_clear(store):
    store.set_flag("lrs", "401")
    store.set_flag("lrs", "403")
    store.set_flag("credly", "token expired")
    assert store.flags() == {"lrs": "403", "credly": "token expired"}
    store.set_flag("lrs", None)
    assert store.flags() == {"credly": "token expired"}


def test_an_award_is_claimed_once_even_under_contention(store):
    assert sorted(run_together(8, lambda: store.claim_award("credly|t|E-1"))) == [False] * 7 + [True]
    assert store.award("credly|t|E-1")["state"] == "claimed"


def test_award_lifecycle(store):
    key = "badgr|bc|E-2"
    assert store.award(key) is None
    store.claim_award(key)
    store.complete_award(key, "vendor-1", {"entityId": "vendor-1"})
    record = store.award(key)
    assert (record["state"], record["vendor_id"], record["detail"]) == ("awarded", "vendor-1", {"entityId": "vendor-1"})
    assert store.claim_award(key) is False  # never twice


def test_a_failed_award_can_be_claimed_again_and_a_released_one_too(store):
    store.claim_award("k")
    store.fail_award("k", "422: group not found")
    assert store.award("k")["reason"] == "422: group not found"
    assert store.claim_award("k") is True
    store.release_award("k")
    assert store.award("k") is None and store.claim_award("k") is True


def test_progress_keeps_the_latest_time_per_criterion(store):
    store.add_progress("E-1", "rule", "s0", "2026-11-01T00:00:00+00:00")
    store.add_progress("E-1", "rule", "s0", "2026-10-01T00:00:00+00:00")  # an older redelivery
    store.add_progress("E-1", "rule", "s1", "2026-11-02T00:00:00+00:00")
    store.add_progress("E-2", "rule", "s0", "2026-11-03T00:00:00+00:00")
    assert store.progress("E-1", "rule") == {"s0": "2026-11-01T00:00:00+00:00", "s1": "2026-11-02T00:00:00+00:00"}
    assert store.progress("E-1", "other") == {}
