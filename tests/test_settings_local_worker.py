"""LOCAL_WORKER=false in the environment wins over the `local` stage's default under a real
`chalice local --stage local`: no worker process of its own beside the one run by hand, so one
worker drains one outbox; without it, the stage still starts one (as `make run` relies on)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from chalicelib.settings import load_settings
from devstack import Stack
from tests.support.paths import FIXTURE_DIR, REPO

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

ROOT = REPO
DOCUMENT = json.loads((FIXTURE_DIR / "openbadges" / "ob2_assertion.json").read_text())


def started_workers(stack: Stack) -> int:
    lines = (json.loads(line) for line in stack.log_path.read_text().splitlines() if line.startswith("{"))
    return sum(1 for line in lines if line.get("event") == "local_worker_started")


def test_local_worker_false_in_the_environment_wins_over_the_local_stage():
    with Stack() as stack:  # chalice local --stage local, LOCAL_WORKER not in the environment: a worker
        assert stack.send_openbadges({**DOCUMENT, "id": DOCUMENT["id"] + "-stage"}).status_code == 202
        assert stack.wait_until_drained()["checks"]["dead_letters"] == 0
        assert len(stack.worker_pids()) == 1

        stack.kill_connector()
        stack.start_connector(LOCAL_WORKER="false")
        before = started_workers(stack)
        assert stack.send_openbadges({**DOCUMENT, "id": DOCUMENT["id"] + "-by-hand"}).status_code == 202
        time.sleep(1.5)  # the first request starts the worker at once: long enough to see one
        assert stack.worker_pids() == [] and started_workers(stack) == before
        assert stack.health()["checks"]["queue_depth"] == 1  # waiting for the worker run by hand
        drain_by_hand(stack)


def drain_by_hand(stack: Stack) -> None:
    by_hand = subprocess.Popen(
        [sys.executable, "-m", "chalicelib", "worker"],
        cwd=ROOT,
        env={**os.environ, **stack.env()},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert stack.wait_until_drained()["checks"]["dead_letters"] == 0
        assert stack.worker_pids() == []  # the one worker draining the outbox is the one run by hand
    finally:
        by_hand.send_signal(signal.SIGTERM)
        _, stderr = by_hand.communicate(timeout=30)
    assert by_hand.returncode == 0, stderr


def test_an_explicit_setting_wins_over_the_stage_default():
    assert load_settings({"LOCAL_WORKER_DEFAULT": "true"}).local_worker is True
    assert load_settings({"LOCAL_WORKER_DEFAULT": "true", "LOCAL_WORKER": " "}).local_worker is True  # empty: unset
    assert load_settings({"LOCAL_WORKER_DEFAULT": "true", "LOCAL_WORKER": "false"}).local_worker is False
    assert load_settings({"LOCAL_WORKER_DEFAULT": "false", "LOCAL_WORKER": "true"}).local_worker is True
    assert load_settings({}).local_worker is False
