"""The delivered-statement log against the real LRS: a pull of credentials imported from a CSV
export before sends none of the imported statements again (one look-up a batch shows the LRS
still holds them); after the LRS lost what it held (restarted: it keeps statements in memory) the
log is not trusted and everything is delivered again; with DELIVERY_LOG=false every statement is
POSTed as before. Requests are counted by tools/lrs_proxy.py in front of an LRS of the test's own."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lrs_process import LrsProcess
from lrs_proxy import LrsProxy
from tests.commands.test_import_csv import api_statement_ids, write_export
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import make_badges  # noqa: E402

BADGES = 120  # accepted: 240 statements, three list pages of the fake


@pytest.fixture
def own_lrs() -> Iterator[LrsProcess]:
    """An LRS of this test alone: it is restarted (and so emptied) while the log stays full."""
    with LrsProcess() as lrs:
        yield lrs


@pytest.fixture
def counted(own_lrs: LrsProcess) -> Iterator[LrsProxy]:
    with LrsProxy(own_lrs.endpoint, oldest_first=False, ignored=(), about=True) as proxy:
        yield proxy


@pytest.fixture
def imported(connector, counted, tmp_path, monkeypatch, capsys) -> set[str]:
    """BADGES Credly badges imported from their CSV export through the proxy, and served by the
    fake Credly API for the pull: the statement ids both give."""
    monkeypatch.setenv("LRS_ENDPOINT", counted.endpoint)
    connector.restart()
    badges = make_badges(
        BADGES,
        seed=5,
        start=datetime(2026, 2, 1, tzinfo=UTC),
        spread_days=90,
        expiry_days=(3650,),
        state="accepted",
    )
    write_export(tmp_path / "export.csv", badges)
    code, summary = run(capsys, "import-csv", "--platform", "credly", str(tmp_path / "export.csv"))
    ids = api_statement_ids(connector, badges)
    assert (code, summary["delivered"], len(ids)) == (0, 2 * BADGES, 2 * BADGES)
    for badge in badges:
        connector.credly.add_badge(badge)
    counted.seen.clear()
    return ids


def run(capsys, *argv: str) -> tuple[int, dict]:
    from chalicelib.cli import main

    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def posted_ids(proxy: LrsProxy) -> set[str]:
    return set().union(*(seen.statement_ids() for seen in proxy.seen if seen.method == "POST"))


def look_ups(proxy: LrsProxy) -> int:
    return sum(seen.method == "GET" and "statementId" in seen.query for seen in proxy.seen)


def missing(proxy: LrsProxy, ids: set[str]) -> set[str]:
    import requests

    return {
        i
        for i in ids
        if requests.get(
            proxy.statements_url, params={"statementId": i}, timeout=10, headers={"X-Experience-API-Version": "1.0.3"}
        ).status_code
        != 200
    }


def test_a_pull_after_an_import_posts_none_of_the_imported_statements(connector, imported, counted, capsys):
    code, summary = run(capsys, "backfill", "credly")

    assert (code, summary["delivered"], summary["already_stored"], summary["dead_letters"]) == (0, 0, 2 * BADGES, 0)
    assert posted_ids(counted) == set()
    assert 1 <= look_ups(counted) <= 3  # one look-up a worker batch (of one to three list pages)
    assert connector.services.store.counters()["already_stored"] == 2 * BADGES


def test_with_the_log_off_every_statement_is_posted_as_before(connector, imported, counted, capsys, monkeypatch):
    monkeypatch.setenv("DELIVERY_LOG", "false")
    connector.restart()

    code, summary = run(capsys, "backfill", "credly")

    assert (code, summary["delivered"], summary["already_stored"]) == (0, 0, 2 * BADGES)
    assert posted_ids(counted) == imported  # each answered 409 and settled by the client's look-ups


def test_after_the_lrs_lost_what_it_held_a_pull_delivers_everything_again(
    connector, imported, counted, own_lrs, capsys
):
    own_lrs.stop()
    own_lrs.start()  # the same endpoint, empty: the log still holds every statement
    assert missing(counted, imported) == imported
    counted.seen.clear()

    code, summary = run(capsys, "backfill", "credly")

    assert (code, summary["delivered"], summary["already_stored"], summary["dead_letters"]) == (0, 2 * BADGES, 0, 0)
    assert posted_ids(counted) == imported
    assert missing(counted, imported) == set()  # nothing lost
    counted.seen.clear()
    code, again = run(capsys, "backfill", "credly")  # the log, refilled by that pull, is trusted again
    assert (code, again["already_stored"], posted_ids(counted)) == (0, 2 * BADGES, set())


def test_reconcile_never_trusts_the_log(connector, imported, counted, own_lrs, capsys):
    from chalicelib.delivery.translation import Translator
    from chalicelib.xapi.lrs import LrsClient

    own_lrs.stop()
    own_lrs.start()
    translator = Translator(connector.services.settings)
    statements = translator.translate("credly", {"data": connector.credly.badges}).statements
    lost = statements[7]["id"]
    # The LRS holds all but one again: a look-up of a batch's logged ids would (nearly always) trust the log.
    LrsClient(own_lrs.endpoint).send([s for s in statements if s["id"] != lost])
    assert missing(counted, imported) == {lost}

    code, summary = run(capsys, "reconcile", "credly", "--since", "2026-01-01T00:00:00Z")

    assert (code, summary["missing"], summary["dead_letters"]) == (0, 1, 0)
    assert lost in posted_ids(counted) and missing(counted, imported) == set()
