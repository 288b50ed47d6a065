"""`python -m chalicelib deadletters list|replay` on the store the connector wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.connector import fixture_json
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ROOT = REPO


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", "deadletters", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_then_replay_after_the_cause_is_fixed(connector, tmp_path, monkeypatch):
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    document = fixture_json("openbadges/ob2_assertion.json")  # hashed recipient: needs the directory
    empty = tmp_path / "empty.csv"
    empty.write_text("employee_id,email,name,job_role,team,lms_account\n")
    env = {**connector.env, "LEARNER_DIRECTORY": str(empty)}
    # The connector under test runs with the full directory: make this message fail first.

    monkeypatch.setenv("LEARNER_DIRECTORY", str(empty))
    connector.restart()
    assert connector.post("/ingest/openbadges", document, auth).status_code == 202
    connector.drain()

    listed = cli(env, "list")
    assert listed.returncode == 0, listed.stderr
    assert "hashed recipient" in listed.stdout and "1 dead letter(s)" in listed.stderr
    letter_id = listed.stdout.split()[0]
    as_json = json.loads(cli(env, "list", "--json").stdout.splitlines()[0])
    [event] = as_json["message"]["body"]  # the event intake read from the document
    assert as_json["message"]["kind"] == "event" and event["credential"]["assertion_url"] == document["id"]

    still_broken = cli(env, "replay", "--all")
    assert still_broken.returncode == 1 and "dead-lettered again" in still_broken.stderr

    fixed = {**env, "LEARNER_DIRECTORY": connector.env["LEARNER_DIRECTORY"]}
    replayed = cli(fixed, "replay", "--id", letter_id)
    assert replayed.returncode == 0, replayed.stderr
    assert "1 delivered" in replayed.stdout
    assert "0 dead letter(s)" in cli(fixed, "list").stderr
    assert cli(fixed, "replay", "--id", "nope").returncode == 2
