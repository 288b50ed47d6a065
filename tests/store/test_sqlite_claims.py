"""SQLite's de-duplication claims: expired ones count as absent (the contract, test_contract.py)
and are also cleared from the table as new claims come, so that it does not keep every delivery
ever made. (DynamoDB's expire by the table's TTL.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import chalicelib.store.sqlite as sqlite_module
from chalicelib.store.sqlite import PRUNED_PER_CLAIM, SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sqlite_module, "time", clock)
    return clock


@pytest.fixture
def store(tmp_path, clock) -> Iterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "state.sqlite"))
    yield store
    store.db.close()


def rows(store: SqliteStore) -> int:
    return int(store.db.query("SELECT COUNT(*) FROM deliveries")[0][0])


def test_expired_claims_are_cleared_as_new_ones_come_and_live_ones_stay(store, clock):
    store.claim_deliveries([f"old:{n}" for n in range(300)], 60)
    store.claim_delivery("live", 3600)
    clock.now += 61  # the 300 have expired, "live" has not

    for n in range(100):
        assert store.claim_delivery(f"new:{n}", 3600) is True
    assert rows(store) == 300 - 100 * PRUNED_PER_CLAIM + 1 + 100

    store.claim_deliveries([f"more:{n}" for n in range(100)], 3600)
    assert rows(store) == 1 + 100 + 100  # the backlog is gone; no live claim went with it
    assert store.seen_deliveries(["live", "new:0", "more:99", "old:0"]) == {"live", "new:0", "more:99"}
    assert store.claim_delivery("live", 3600) is False


def test_a_claim_that_expired_at_once_is_absent_as_before(store):
    assert store.claim_delivery("k", 0) is True
    assert store.delivery_seen("k") is False
    assert store.claim_delivery("k", 3600) is True
    assert store.claim_delivery("k", 3600) is False
