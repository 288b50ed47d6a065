"""With the settings a user gets, the local worker's POSTs carry LRS_BATCH_SIZE statements when the
outbox holds that many (ten messages a batch used to put at most ten statements in a POST of
fifty); a batch of large messages (pull and import pages) stays within the outbox's byte bound."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from chalicelib.queue import QueueMessage
from chalicelib.queue.local import LocalOutbox
from lrs_process import LrsProcess
from lrs_proxy import LrsProxy
from tests.delivery.test_worker_faults import FIXTURES, make_services

pytestmark = pytest.mark.integration


@pytest.fixture
def counted(lrs: LrsProcess) -> Iterator[LrsProxy]:
    with LrsProxy(lrs.endpoint, oldest_first=False, ignored=(), about=True) as proxy:
        yield proxy


def assertion() -> dict:
    document = json.loads((FIXTURES / "openbadges" / "ob2_assertion.json").read_text())
    document["id"] = f"https://badges.example.org/assertions/full-posts-{uuid.uuid4()}"
    return document


def test_default_settings_fill_each_post(monkeypatch, tmp_path, counted: LrsProxy) -> None:
    for name in ("WORKER_BATCH_SIZE", "LRS_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    services = make_services(monkeypatch, tmp_path, counted.endpoint)
    services.queue.send_many([QueueMessage(source="openbadges", kind="document", body=assertion()) for _ in range(120)])

    services.drainer().run_until_idle(timeout=60)

    assert services.queue.depth() == 0 and services.store.count_dead_letters() == 0
    sizes = [len(json.loads(seen.body)) for seen in counted.seen if seen.method == "POST"]
    assert sum(sizes) == 120
    assert sizes == [50, 50, 20]  # one statement an assertion: 50 messages fill a POST


def test_a_batch_holds_at_most_the_byte_bound_of_bodies(tmp_path) -> None:
    outbox = LocalOutbox(str(tmp_path / "outbox.sqlite"))
    page = {"badges": ["x" * 1000] * 100}  # a pull page: about 100 KB
    outbox.send_many([QueueMessage(source="credly", kind="document", body=page) for _ in range(12)])
    assert len(outbox.receive(50, max_bytes=350_000)) == 3
    assert len(outbox.receive(50, max_bytes=1)) == 1  # the first message whatever its size
    assert len(outbox.receive(50)) == 8  # no bound: every ready one up to the count
