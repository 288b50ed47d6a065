"""`python -m chalicelib status` and GET /status: runs recorded by real commands (a backfill from the
fake Credly API into the real LRS, a sync Credly refuses), shown with their counts, cursor and error."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

from chalicelib.cli import main
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import make_badges  # noqa: E402

pytestmark = pytest.mark.integration


def add_badges(connector, count: int) -> None:
    for badge in make_badges(
        count, seed=3, start=datetime(2026, 1, 5, tzinfo=UTC), spread_days=100, expiry_days=(3650,)
    ):
        connector.credly.add_badge(badge)


def status(capsys, *options: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["status", *options])
    return code, capsys.readouterr().out


def source(report: dict, name: str, mode: str) -> dict:
    [found] = [s for s in report["sources"] if (s["source"], s["mode"]) == (name, mode)]
    return found


def test_a_backfill_shows_its_run_counts_and_cursor(connector, capsys, monkeypatch):
    add_badges(connector, 5)
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["backfill", "credly", "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["records"] == 5 and pulled["statements"] >= 5

    code, out = status(capsys, "--json")
    report = json.loads(out)
    run = source(report, "credly", "backfill")
    last = run["last_run"]
    assert code == 0 and report["status"] == "ok" and report["attention"] == []
    assert last == run["last_success"]
    assert (last["outcome"], last["exit_code"], last["error"]) == ("finished", 0, None)
    assert (last["records"], last["statements"], last["dead_letters"]) == (pulled["records"], pulled["statements"], 0)
    assert before <= datetime.fromisoformat(last["started_at"]) <= datetime.fromisoformat(last["ended_at"])
    assert run["cursor"] is None  # a finished backfill: the next one starts over
    lrs = {c["name"]: c for c in report["credentials"]}["lrs"]
    assert lrs["problem"] is None and lrs["verified_at"] is not None  # the LRS took the statements

    code, text = status(capsys)
    assert code == 0 and "credly backfill:" in text
    assert f"finished (exit 0), {pulled['records']} record(s), {pulled['statements']} statement(s)" in text


def test_a_stopped_backfill_shows_where_its_cursor_stays(connector, capsys, monkeypatch):
    monkeypatch.setenv("PULL_MAX_PAGES", "1")
    from chalicelib.runtime import services

    services.cache_clear()
    add_badges(connector, 150)  # two pages of 100
    assert main(["backfill", "credly"]) == 3  # PULL_MAX_PAGES: stopped, resumes next time
    code, out = status(capsys, "--json")
    run = source(json.loads(out), "credly", "backfill")
    assert code == 1 and run["last_run"]["outcome"] == "failed" and run["last_success"] is None
    assert "PULL_MAX_PAGES" in run["last_run"]["error"] and run["last_run"]["records"] == 100
    assert "page=2" in run["cursor"]["value"] and 0 <= run["cursor"]["age_seconds"] < 60


def test_a_sync_the_platform_refuses_shows_its_error_and_exit_code(connector, capsys, monkeypatch):
    add_badges(connector, 2)
    assert main(["backfill", "credly"]) == 0
    monkeypatch.setenv("CREDLY_TOKEN", "revoked-token")
    from chalicelib.runtime import services

    services.cache_clear()
    assert main(["sync", "credly"]) == 3
    error_line = capsys.readouterr().err.strip().splitlines()[-1]

    code, out = status(capsys, "--json")
    report = json.loads(out)
    last = source(report, "credly", "sync")["last_run"]
    assert code == 1 and report["status"] == "attention"
    assert (last["outcome"], last["exit_code"]) == ("failed", 3)
    assert last["error"] == error_line.removeprefix("error: ") and "401" in last["error"]
    assert any("credly sync: the last run failed (exit 3)" in reason for reason in report["attention"])
    assert source(report, "credly", "backfill")["last_run"]["outcome"] == "finished"  # kept per mode
    code, text = status(capsys)
    assert code == 1 and f"error: {last['error']}" in text


def test_get_status_answers_401_without_the_token_and_the_commands_json_with_it(connector, capsys, monkeypatch):
    import chalicelib.status

    add_badges(connector, 2)
    assert main(["backfill", "credly"]) == 0
    frozen = datetime.now(UTC)
    monkeypatch.setattr(chalicelib.status, "_now", lambda: frozen)
    assert connector.client.http.get("/status").status_code == 401
    wrong = connector.client.http.get("/status", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "STATUS_TOKEN" not in wrong.body.decode()

    answer = connector.client.http.get("/status", headers={"Authorization": f"Bearer {connector.env['STATUS_TOKEN']}"})
    code, out = status(capsys, "--json")
    assert (answer.status_code, code) == (200, 0)
    assert answer.headers["Content-Type"] == "application/json"
    assert json.loads(answer.body) == json.loads(out)


def test_get_status_names_the_setting_when_it_is_not_set(connector, monkeypatch):
    from chalicelib.runtime import services

    monkeypatch.delenv("STATUS_TOKEN")
    services.cache_clear()
    answer = connector.client.http.get("/status", headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 503 and "STATUS_TOKEN" in json.loads(answer.body)["error"]
