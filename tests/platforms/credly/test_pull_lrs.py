"""Pulling Credly's history into the real LRS: paged, resumable after a failing or truncated
page and after a crash between queueing a page and storing its cursor; a badge that also came
by webhook is one statement."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime

import pytest

from tests.support.connector import fixture_json
from tests.support.paths import REPO
from tests.test_processing_crash_windows import Crash, crash_at

pytestmark = pytest.mark.integration

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import make_badges  # noqa: E402

BADGES = 250  # three pages of 100


@pytest.fixture
def history(connector, monkeypatch):
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    connector.restart()
    badges = make_badges(
        BADGES,
        seed=7,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        spread_days=200,
        expiry_days=(3650,),
        vary_templates=True,
        state="pending",
    )
    for badge in badges:
        connector.credly.add_badge(badge)
    return badges


def pull(connector, mode: str = "backfill", on_page=None, since=None):
    return connector.pull("credly", mode, on_page, since)


def issued_ids(connector, badges: list[dict]) -> list[str]:
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    return [str(uuid.uuid5(namespace, f"credly|{b['id']}|issued")) for b in badges]


def missing_in_lrs(lrs_session, lrs, ids: list[str]) -> list[str]:
    return [i for i in ids if lrs_session.get(lrs.statements_url, params={"statementId": i}).status_code != 200]


def list_requests(connector) -> list[str]:
    return [target for method, target in connector.credly.targets if "/badges" in target and method == "GET"]


def test_a_backfill_reads_every_page_and_delivers_every_badge(connector, history, lrs, lrs_session):
    report = pull(connector)
    assert (report.pages, report.records, report.total, report.finished) == (3, BADGES, BADGES, True)
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
    assert connector.services.store.count_dead_letters() == 0
    assert connector.services.store.cursor("pull:credly:backfill") is None  # done: a new run starts over


@pytest.mark.parametrize("failure", ["server-error", "truncated"])
def test_a_failing_page_stops_the_pull_and_the_next_run_resumes_there(connector, history, lrs, lrs_session, failure):
    from chalicelib.errors import ConnectorError

    def fail_after_two(report):
        if report.pages == 2:
            if failure == "truncated":
                connector.credly.truncate_next()
            else:
                connector.credly.fail_next(503, times=2)  # every attempt of the third page

    with pytest.raises(ConnectorError):
        pull(connector, on_page=fail_after_two)
    assert "page=3" in connector.services.store.cursor("pull:credly:backfill")
    before = len(list_requests(connector))

    report = pull(connector)
    assert (report.pages, report.records, report.finished) == (1, 50, True)
    assert len(list_requests(connector)) == before + 1  # only the third page, read again
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
    assert connector.services.store.count_dead_letters() == 0


def test_a_crash_between_queueing_a_page_and_storing_its_cursor_loses_nothing(
    connector, history, lrs, lrs_session, monkeypatch
):
    crash_at(monkeypatch, connector.services.store, "set_cursor", nth=2, after=False)  # page 2 queued only
    with pytest.raises(Crash):
        pull(connector)
    connector.restart()
    report = pull(connector)
    assert (report.pages, report.finished) == (2, True)  # page 2 again (queued twice: same ids), then 3
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []


def test_a_badge_that_came_by_webhook_and_by_backfill_is_one_statement(connector, lrs, lrs_session):
    detail = fixture_json("credly/event_badge_created.json")["data"]
    connector.credly.add_badge(detail["badge"])
    assert connector.credly_webhook(fixture_json("credly/webhook_badge_created.json")).status_code == 200
    connector.drain()
    pull(connector)
    connector.drain()

    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    statement_id = str(uuid.uuid5(namespace, f"credly|{detail['badge']['id']}|issued"))
    assert missing_in_lrs(lrs_session, lrs, [statement_id]) == []
    counters = connector.services.store.counters()
    assert counters.get("already_stored", 0) + counters["delivered"] >= 2  # sent twice, stored once
    template = detail["badge"]["badge_template"]
    earned = lrs_session.get(
        lrs.statements_url,
        params={
            "verb": "http://specification.openbadges.org/xapi/verbs/earned",
            "agent": '{"mbox": "mailto:ada.lovelace@example.com"}',
        },
    ).json()["statements"]
    assert sum(1 for s in earned if s["id"] == statement_id) == 1, template["id"]


def test_a_backfill_since_a_date_stops_at_the_first_page_reaching_past_it(connector, history):
    newest_first = sorted(history, key=lambda b: b["issued_at"], reverse=True)
    since = datetime.fromisoformat(newest_first[120]["issued_at"].replace("Z", "+00:00"))
    report = pull(connector, since=since)
    assert (report.pages, report.finished) == (2, True)  # page 2 holds the 121st newest: past `since`
    assert all("sort=-issued_at" in t for t in list_requests(connector)[1:])


def test_a_scheduled_sync_stops_before_its_time_is_up_and_the_next_one_goes_on(
    connector, history, lrs, lrs_session, monkeypatch
):
    import app

    monkeypatch.setattr(app, "_seconds_left", lambda: 120.0)  # no more than one page's allowance
    first = app._sync_handler("credly")(None)
    assert (first["pages"], first["finished"]) == (1, False)
    monkeypatch.setattr(app, "_seconds_left", lambda: 900.0)
    second = app._sync_handler("credly")(None)
    assert (second["pages"], second["records"], second["finished"]) == (2, BADGES - 100, True)
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []


def test_reconcile_finds_what_the_lrs_lacks_and_sends_only_those_pages(connector, history, lrs, lrs_session, capsys):
    from chalicelib.cli import main
    from chalicelib.platforms import puller
    from chalicelib.pull.runner import PullRunner

    services = connector.services
    PullRunner(services.store, services.queue).run(
        "credly", "backfill", puller("credly", services.settings, "backfill"), deadline=0.0
    )  # the first page only
    connector.drain()
    assert len(missing_in_lrs(lrs_session, lrs, issued_ids(connector, history))) == BADGES - 100

    assert main(["reconcile", "credly", "--since", "2026-01-01T00:00:00Z", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["missing"], dry["pages_sent"], dry["statements"]) == (BADGES - 100, 0, BADGES)
    assert connector.services.queue.depth() == 0  # a dry run sends nothing

    assert main(["reconcile", "credly", "--since", "2026-01-01T00:00:00Z"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == BADGES - 100
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []  # drained by the command


def test_restart_forgets_where_the_last_run_stopped(connector, history, capsys):
    from chalicelib.cli import main

    connector.services.store.set_cursor("pull:credly:sync", "https://elsewhere.example/v1/badges?page=9")
    assert main(["sync", "credly", "--json"]) == 2  # a stored link to another host is refused
    assert main(["sync", "credly", "--restart", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["records"], summary["finished"], summary["statements"]) == (BADGES, True, BADGES)


def test_a_large_organisation_pulls_through_the_high_volume_search(connector, history, lrs, lrs_session, monkeypatch):
    monkeypatch.setenv("CREDLY_HIGH_VOLUME", "true")
    connector.restart()
    report = pull(connector)
    assert (report.pages, report.records) == (3, BADGES)
    listed = [target for method, target in connector.credly.targets if method == "GET"]
    assert len(listed) == 3 and all("/high_volume_issued_badge_search?" in t for t in listed)
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
