"""Run records (chalicelib/runs.py): what a run keeps of its error, failed runs, scheduled runs."""

from __future__ import annotations

import pytest

from chalicelib.errors import ConnectorError, OutsideFailure
from chalicelib.runs import note_verified, one_line, recorded
from chalicelib.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path):
    return SqliteStore(str(tmp_path / "state.sqlite"))


def test_an_error_is_kept_as_one_line_without_emails_or_url_credentials():
    error = OutsideFailure("no learner ada.lovelace@example.com at https://bot:s3cret@lrs.example/xAPI/\ntrace")
    assert one_line(error) == "no learner <email> at https://***@lrs.example/xAPI/"
    assert len(one_line("x" * 1000)) == 303


@pytest.mark.parametrize(
    ("error", "code"), [(OutsideFailure("LRS down"), 3), (ConnectorError("set X"), 2), (KeyError("bug"), 1)]
)
def test_a_failed_run_is_recorded_with_its_exit_code_and_its_error_raised(store, error, code):
    with pytest.raises(type(error)), recorded(store, "credly", "sync") as tally:
        tally.records = 7
        raise error
    [history] = store.runs()
    assert (history.last.outcome, history.last.exit_code, history.last.records) == ("failed", code, 7)
    assert history.last.error == one_line(error) and history.last_success is None


def test_a_store_that_cannot_record_does_not_hide_the_runs_error(store, monkeypatch):
    def broken(run):
        raise RuntimeError("store down")

    monkeypatch.setattr(store, "record_run", broken)
    with pytest.raises(OutsideFailure, match="LRS down"), recorded(store, "credly", "sync"):
        raise OutsideFailure("LRS down")


def test_a_scheduled_sync_that_stops_is_recorded_as_failed_with_exit_3(tmp_path, monkeypatch):
    from chalicelib.platforms.pulling import PullStopped
    from chalicelib.runtime import Services
    from chalicelib.settings import load_settings

    class Endless:
        def pages(self, mode, start, since):
            raise PullStopped("the platform answers endlessly")
            yield

    monkeypatch.setattr("chalicelib.platforms.puller", lambda name, settings, mode: Endless())
    services = Services(load_settings({"STATE_PATH": str(tmp_path / "state.sqlite")}))
    answer = services.scheduled_sync("credly", 300.0)
    [history] = services.store.runs()
    assert answer["finished"] is False
    assert (history.last.source, history.last.mode, history.last.outcome, history.last.exit_code) == (
        "credly",
        "scheduled-sync",
        "failed",
        3,
    )
    assert "answers endlessly" in history.last.error


def test_a_successful_call_is_noted_at_most_once_a_minute(store, monkeypatch):
    writes = []
    monkeypatch.setattr(store, "set_verified", lambda name, at: writes.append(name))
    for _ in range(5):
        note_verified(store, "lrs")
    note_verified(store, "credly_auth")
    assert writes == ["lrs", "credly_auth"]


def test_a_run_stopped_by_a_platform_refusing_its_credentials_flags_them(store):
    from chalicelib.platforms.credly.api import CredlyAuthError

    with pytest.raises(CredlyAuthError), recorded(store, "credly", "sync"):
        raise CredlyAuthError("Credly at api.credly.com refused the API token (HTTP 401): renew CREDLY_TOKEN")
    assert store.flags() == {
        "credly_auth": "Credly at api.credly.com refused the API token (HTTP 401): renew CREDLY_TOKEN"
    }
