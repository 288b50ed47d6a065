"""Delivering commands stop loudly: a wrong LRS password or an unreachable LRS ends the command at
once (or after its stated --deadline) with exit 3 and one line naming the cause and the host;
what it queued stays in the outbox and is delivered, once, by the next run. A run's dead letters
are its own: counted by reason, exit 1.

Each command runs as a user runs it (python -m chalicelib, a subprocess) against the real test
LRS, which checks Basic credentials like Learning Locker (tools/lrs_process.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from fakes.credly_api import FakeCredly
from lrs_process import XAPI_VERSION, LrsProcess, free_port
from tests.support.paths import REPO

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

ROOT = REPO
sys.path.insert(0, str(ROOT / "bench"))
from credly_badges import EXPORT_HEADER, export_row, make_badges  # noqa: E402

USER, PASSWORD = "connector", "right-" + uuid.uuid4().hex
ROWS = 40
ORG_ID = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"


@pytest.fixture(scope="module")
def guarded_lrs():
    """The real LRS, refusing any request without USER/PASSWORD."""
    with LrsProcess(credentials=(USER, PASSWORD)) as lrs:
        yield lrs


def badges(count: int = ROWS) -> list[dict]:
    return make_badges(count, seed=11, start=datetime(2026, 3, 2, tzinfo=UTC), spread_days=90, expiry_days=(3650,))


def write_export(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(export_row(badge) for badge in rows)
    return path


def environment(tmp_path: Path, endpoint: str, password: str = PASSWORD, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LRS_", "CREDLY_"))}
    env.update(
        {
            "LRS_ENDPOINT": endpoint,
            "LRS_USERNAME": USER,
            "LRS_PASSWORD": password,
            "STATE_PATH": str(tmp_path / "state.sqlite"),
            "QUEUE_BACKEND": "local",
            "STATEMENT_ID_NAMESPACE": str(uuid.uuid5(uuid.NAMESPACE_URL, str(tmp_path))),
            "HTTP_MAX_ATTEMPTS": "2",
            "HTTP_BACKOFF_BASE": "0.05",
            "HTTP_BACKOFF_CAP": "0.1",
            "LRS_CONNECT_TIMEOUT": "1",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def command(env: dict[str, str], *args: str, timeout: float = 90) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return done, time.monotonic() - started


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def outbox_depth(env: dict[str, str]) -> int:
    import sqlite3

    with sqlite3.connect(env["STATE_PATH"]) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def stored(lrs: LrsProcess, ids: set[str]) -> set[str]:
    headers = {"X-Experience-API-Version": XAPI_VERSION}
    return {
        i
        for i in ids
        if requests.get(
            lrs.statements_url, params={"statementId": i}, headers=headers, auth=(USER, PASSWORD), timeout=10
        ).status_code
        == 200
    }


def issued_ids(env: dict[str, str], rows: list[dict]) -> set[str]:
    namespace = uuid.UUID(env["STATEMENT_ID_NAMESPACE"])
    return {str(uuid.uuid5(namespace, f"credly|{badge['id']}|issued")) for badge in rows}


def test_a_wrong_lrs_password_stops_import_csv_at_once_and_the_next_run_delivers_everything(guarded_lrs, tmp_path):
    rows = badges()
    export = write_export(tmp_path / "export.csv", rows)
    wrong = environment(tmp_path, guarded_lrs.endpoint, password="wrong")
    done, seconds = command(wrong, "import-csv", "--platform", "credly", str(export))
    host = f"127.0.0.1:{guarded_lrs.port}"
    assert done.returncode == 3, done.stderr
    assert seconds < 30  # at once: not after the queue's ten attempts
    [line] = error_lines(done.stderr)
    assert line.startswith("error: LRS") and f"{host} answered 401" in line and "LRS_PASSWORD" in line, line
    assert "wrong" not in done.stderr and "finished" not in done.stdout
    assert outbox_depth(wrong) > 0  # kept, not dead-lettered
    listed, _ = command(wrong, "deadletters", "list")
    assert listed.stderr.strip().endswith("0 dead letter(s)")

    right = environment(tmp_path, guarded_lrs.endpoint)
    again, _ = command(right, "import-csv", "--platform", "credly", "--json", str(export))
    assert again.returncode == 0, again.stderr
    assert outbox_depth(right) == 0
    expected = issued_ids(right, rows)
    assert stored(guarded_lrs, expected) == expected


def test_an_unreachable_lrs_stops_import_csv_after_its_deadline_and_nothing_is_lost(tmp_path):
    rows = badges(25)
    export = write_export(tmp_path / "export.csv", rows)
    port = free_port()  # nobody listens there yet
    env = environment(tmp_path, f"http://127.0.0.1:{port}/xAPI/")
    done, seconds = command(env, "import-csv", "--platform", "credly", "--deadline", "3", str(export))
    assert done.returncode == 3, done.stderr
    assert seconds < 25
    [line] = error_lines(done.stderr)
    assert line.startswith(f"error: LRS 127.0.0.1:{port} made no progress for 3 s (--deadline)"), line
    assert "kept in the outbox" in line
    kept = outbox_depth(env)
    assert kept > 0
    # no progress line runs into the error line
    assert all(line.startswith("error:") or "error:" not in line for line in done.stderr.splitlines())

    with LrsProcess(port=port, credentials=(USER, PASSWORD)) as lrs:
        again, _ = command(env, "import-csv", "--platform", "credly", "--json", str(export))
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)
        assert summary["already_imported"] and summary["dead_letters"] == 0
        expected = issued_ids(env, rows)
        assert stored(lrs, expected) == expected
    assert outbox_depth(env) == 0


def test_a_backfill_stops_at_once_when_the_lrs_refuses_the_password(guarded_lrs, tmp_path):
    token = "credly-" + uuid.uuid4().hex
    with FakeCredly(org_id=ORG_ID, token=token) as credly:
        for badge in badges(120):
            credly.add_badge(badge)
        env = environment(
            tmp_path,
            guarded_lrs.endpoint,
            password="wrong",
            CREDLY_API_BASE=credly.base_url,
            CREDLY_ORG_ID=ORG_ID,
            CREDLY_TOKEN=token,
        )
        done, seconds = command(env, "backfill", "credly")
    assert done.returncode == 3 and seconds < 30, done.stderr
    [line] = error_lines(done.stderr)
    assert "answered 401" in line and "LRS_USERNAME/LRS_PASSWORD" in line
    assert done.stdout == ""  # no summary claiming a finished run


def test_dead_letters_are_counted_per_run_by_reason_and_exit_1(guarded_lrs, tmp_path):
    """A badge the platform answers with an unreadable time: the worker dead-letters its page."""
    token = "credly-" + uuid.uuid4().hex
    with FakeCredly(org_id=ORG_ID, token=token) as credly:
        for index, badge in enumerate(badges(5)):
            credly.add_badge({**badge, "issued_at": "yesterday"} if index == 2 else badge)
        env = environment(
            tmp_path, guarded_lrs.endpoint, CREDLY_API_BASE=credly.base_url, CREDLY_ORG_ID=ORG_ID, CREDLY_TOKEN=token
        )
        first, _ = command(env, "backfill", "credly", "--json")
        assert first.returncode == 1, first.stderr
        # the progress line and the worker's log lines each keep a line of their own
        assert all(line.startswith("{") for line in first.stderr.splitlines() if '"event"' in line), first.stderr
        earlier = json.loads(first.stdout)["dead_letters"]
        assert earlier >= 1
        time.sleep(1.1)  # dead letters carry second-resolution times
        second, _ = command(env, "backfill", "credly", "--restart", "--json")
    assert second.returncode == 1
    summary = json.loads(second.stdout)
    assert summary["dead_letters"] == earlier  # this run's, not the store's 2 x earlier
    assert sum(summary["dead_letter_reasons"].values()) == earlier
    assert "dead letters: " in second.stderr


def seed_dead_letters(env: dict[str, str], count: int) -> None:
    """Dead letters of Credly pages the LRS can take, as an earlier failing run leaves them."""
    code = (
        "import json, sys\n"
        "from chalicelib.queue import QueueMessage\n"
        "from chalicelib.runtime import services\n"
        "for badge in json.load(sys.stdin):\n"
        "    message = QueueMessage(source='credly', body={'data': [badge]})\n"
        "    services().store.put_dead_letter(\n"
        "        message.id, 'credly', 'earlier failure', message.model_dump(mode='json')\n"
        "    )\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        text=True,
        input=json.dumps(badges(count)),
    )


def test_a_replay_stops_at_the_first_letter_the_lrs_refuses_and_keeps_them_all(guarded_lrs, tmp_path):
    wrong = environment(tmp_path, guarded_lrs.endpoint, password="wrong")
    seed_dead_letters(wrong, 3)
    done, seconds = command(wrong, "deadletters", "replay", "--all")
    assert done.returncode == 3 and seconds < 30, done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith("error: replay stopped at dead letter 1 of 3: ") and "LRS_PASSWORD" in line, line
    listed, _ = command(wrong, "deadletters", "list")
    assert listed.stderr.strip().endswith("3 dead letter(s)")

    right = environment(tmp_path, guarded_lrs.endpoint)
    again, _ = command(right, "deadletters", "replay", "--all")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "replayed 3: 3 delivered, 0 still failing"


@pytest.mark.parametrize("mode", ["backfill", "sync"])
def test_a_platform_refusing_its_token_stops_a_pull_at_once_naming_the_setting_and_the_host(
    guarded_lrs, tmp_path, mode
):
    with FakeCredly(org_id=ORG_ID, token="the-right-token") as credly:
        for badge in badges(5):
            credly.add_badge(badge)
        env = environment(
            tmp_path,
            guarded_lrs.endpoint,
            CREDLY_API_BASE=credly.base_url,
            CREDLY_ORG_ID=ORG_ID,
            CREDLY_TOKEN="a-revoked-token",
        )
        done, seconds = command(env, mode, "credly")
        port = urlsplit(credly.base_url).port
    assert done.returncode == 3 and seconds < 30, done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith(f"error: Credly at 127.0.0.1:{port} refused the API token (HTTP 401)"), line
    assert "CREDLY_TOKEN" in line and "a-revoked-token" not in done.stderr
    assert done.stdout == ""


def test_a_dead_letter_of_a_message_the_run_did_not_queue_is_not_the_runs(guarded_lrs, tmp_path):
    """Another run's message, still in the outbox, fails while this backfill drains it: not this run's."""
    token = "credly-" + uuid.uuid4().hex
    with FakeCredly(org_id=ORG_ID, token=token) as credly:
        for badge in badges(5):
            credly.add_badge(badge)
        env = environment(
            tmp_path, guarded_lrs.endpoint, CREDLY_API_BASE=credly.base_url, CREDLY_ORG_ID=ORG_ID, CREDLY_TOKEN=token
        )
        broken = {**badges(1)[0], "issued_at": "yesterday"}
        code = (
            "import json, sys\n"
            "from chalicelib.queue import QueueMessage\n"
            "from chalicelib.runtime import services\n"
            "services().queue.send(QueueMessage(source='credly', body={'data': [json.load(sys.stdin)]}))\n"
        )
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60, text=True, input=json.dumps(broken)
        )
        done, _ = command(env, "backfill", "credly", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dead_letters"] == 0
    listed, _ = command(env, "deadletters", "list")
    assert listed.stderr.strip().endswith("1 dead letter(s)")  # it is a dead letter, of no run of this command
