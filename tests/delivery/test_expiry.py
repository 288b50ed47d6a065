"""The expiry sweep: a credential's expired statement reaches the LRS once, after its expiry and
never before; a renewal moves it, a revocation cancels it; a crash between queueing and settling
repeats nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.platforms.credly.test_pull_lrs import make_badges, pull
from tests.test_processing_crash_windows import Crash, crash_at

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def badges(connector):
    made = make_badges(
        4,
        seed=11,
        start=NOW - timedelta(days=30),
        spread_days=1,
        expiry_days=(365,),
        vary_templates=False,
        state="accepted",
    )
    for badge, days in zip(made, [2, 10, 20, -3], strict=True):  # the last one expired three days ago
        badge["expires_at"] = iso(NOW + timedelta(days=days))
        connector.credly.add_badge(badge)
    pull(connector)
    connector.drain()
    return made


def expired_id(connector, badge: dict) -> str:
    return str(uuid.uuid5(uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"]), f"credly|{badge['id']}|expired"))


def in_lrs(lrs, lrs_session, statement_id: str) -> bool:
    return lrs_session.get(lrs.statements_url, params={"statementId": statement_id}).status_code == 200


def expire(as_of: datetime, capsys) -> dict:
    from chalicelib.cli import main

    assert main(["expire", "--as-of", as_of.isoformat(), "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_expired_once_after_the_expiry_and_never_before(connector, badges, lrs, lrs_session, capsys):
    soon, later, latest, past = badges
    assert in_lrs(lrs, lrs_session, expired_id(connector, past))  # expired before it was pulled: said at once
    assert expire(NOW, capsys)["expired"] == 0
    assert not in_lrs(lrs, lrs_session, expired_id(connector, soon))

    first = expire(NOW + timedelta(days=3), capsys)
    assert (first["expired"], first["statements"]) == (1, 1)
    assert in_lrs(lrs, lrs_session, expired_id(connector, soon))
    assert not in_lrs(lrs, lrs_session, expired_id(connector, later))
    assert expire(NOW + timedelta(days=3), capsys)["expired"] == 0  # once
    assert expire(NOW + timedelta(days=30), capsys)["expired"] == 2
    assert all(in_lrs(lrs, lrs_session, expired_id(connector, b)) for b in (later, latest))


def test_a_renewed_credential_expires_at_its_new_time_and_a_revoked_one_never(
    connector, badges, lrs, lrs_session, capsys
):
    soon, later, latest, _ = badges
    soon["expires_at"] = iso(NOW + timedelta(days=40))  # renewed before its expiry
    later.update(state="revoked", revocation_reason="issued in error")  # revoked before its expiry
    pull(connector)  # the next sync reads both
    connector.drain()
    assert expire(NOW + timedelta(days=25), capsys)["expired"] == 1  # only `latest`
    assert not in_lrs(lrs, lrs_session, expired_id(connector, soon))
    assert not in_lrs(lrs, lrs_session, expired_id(connector, later))
    assert expire(NOW + timedelta(days=41), capsys)["expired"] == 1
    assert in_lrs(lrs, lrs_session, expired_id(connector, soon))


def test_a_crash_between_queueing_and_settling_repeats_no_statement(
    connector, badges, lrs, lrs_session, monkeypatch, capsys
):
    soon = badges[0]
    crash_at(monkeypatch, connector.services.store, "settle_expiry", after=False)  # queued, not settled
    from chalicelib.delivery.expiry import sweep

    with pytest.raises(Crash):
        sweep(connector.services.store, connector.services.queue, NOW + timedelta(days=3))
    connector.restart()
    assert expire(NOW + timedelta(days=3), capsys)["expired"] == 1  # queued again: the same statement id
    assert in_lrs(lrs, lrs_session, expired_id(connector, soon))
    assert connector.services.store.count_dead_letters() == 0


def test_a_scheduled_sweep_runs_the_same_sweep(connector, badges, monkeypatch):
    import app
    from chalicelib.delivery import expiry

    calls = []
    monkeypatch.setattr(expiry, "sweep", lambda *a, **k: calls.append(a) or expiry.SweepReport(expired=0))
    assert connector.services.scheduled_expiry_sweep(60.0) == {"expired": 0, "finished": True}
    assert calls and app.EXPIRY_SWEEP_RATE_MINUTES >= 0
