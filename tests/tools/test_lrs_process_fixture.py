"""Smoke test of the LRS fixture itself: the behaviours the connector relies on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from lrs_process import LrsProcess

pytestmark = pytest.mark.integration

# Unique per run so counts don't depend on what other tests stored in the shared LRS.
VERB = f"https://example.com/verbs/smoke-{uuid.uuid4()}"


def _statement(statement_id: str, timestamp: str, verb: str = VERB) -> dict[str, Any]:
    return {
        "id": statement_id,
        "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.com"},
        "verb": {"id": verb, "display": {"en-US": "smoke-tested"}},
        "object": {"objectType": "Activity", "id": "https://example.com/badges/smoke"},
        "timestamp": timestamp,
    }


def test_lrs_accepts_rejects_and_queries(lrs: LrsProcess, lrs_session: requests.Session) -> None:
    sid = str(uuid.uuid4())
    stmt = _statement(sid, "2024-01-01T00:00:00Z")

    r = lrs_session.post(lrs.statements_url, json=stmt, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == [sid]

    # Re-posting the identical statement is idempotent (not a conflict).
    r = lrs_session.post(lrs.statements_url, json=stmt, timeout=10)
    assert r.status_code == 200, r.text

    bad = _statement(str(uuid.uuid4()), "2024-01-01T00:00:00Z", verb="x.y/z")
    r = lrs_session.post(lrs.statements_url, json=bad, timeout=10)
    assert r.status_code == 400, r.text

    conflicting = _statement(sid, "2024-06-01T00:00:00Z")
    r = lrs_session.post(lrs.statements_url, json=conflicting, timeout=10)
    assert r.status_code == 409, r.text

    second = _statement(str(uuid.uuid4()), "2024-01-02T00:00:00Z")
    r = lrs_session.post(lrs.statements_url, json=[second], timeout=10)
    assert r.status_code == 200, r.text

    r = lrs_session.get(lrs.statements_url, params={"verb": VERB}, timeout=10)
    assert r.status_code == 200, r.text
    ids = {s["id"] for s in r.json()["statements"]}
    assert ids == {sid, second["id"]}


def test_lrs_requires_version_header(lrs: LrsProcess) -> None:
    r = requests.get(lrs.statements_url, timeout=10)
    assert r.status_code == 400


def test_lrs_restarts_on_same_port(lrs_session: requests.Session) -> None:
    with LrsProcess() as own:
        port = own.port
        stmt = _statement(str(uuid.uuid4()), "2024-01-01T00:00:00Z")
        assert lrs_session.post(own.statements_url, json=stmt, timeout=10).status_code == 200
        own.stop()
        with pytest.raises(requests.ConnectionError):
            lrs_session.get(own.about_url, timeout=2)
        own.start()
        assert own.port == port
        r = lrs_session.get(own.statements_url, params={"verb": VERB}, timeout=10)
        assert r.status_code == 200
        assert r.json()["statements"] == []  # memory mode: data is gone after a restart
