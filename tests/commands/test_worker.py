"""`python -m chalicelib worker`: the local worker process, on its own (LOCAL_WORKER=false)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.support.connector import fixture_json
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ROOT = REPO


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "chalicelib", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_worker_delivers_what_the_routes_queued_and_stops_on_sigterm(connector, lrs_session, lrs):
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    template = fixture_json("openbadges/ob2_assertion.json")
    documents = [{**template, "id": f"{template['id']}-{uuid.uuid4()}"} for _ in range(30)]
    assert connector.post("/ingest/openbadges", documents, auth).status_code == 202  # queued, not delivered

    worker = start_worker(connector.env)
    try:
        deadline = time.monotonic() + 60
        while connector.services.queue.depth() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert connector.services.queue.depth() == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr
    assert '"local_worker_stopped"' in stderr
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    for document in documents:
        statement_id = uuid.uuid5(namespace, f"openbadges|{document['id']}|issued")
        assert lrs_session.get(lrs.statements_url, params={"statementId": str(statement_id)}).status_code == 200


def test_the_worker_refuses_the_sqs_backend_in_one_line(connector):
    env = {**connector.env, "QUEUE_BACKEND": "sqs", "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: the worker drains the local outbox")
