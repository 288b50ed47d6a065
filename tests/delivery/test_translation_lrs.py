"""Every statement translated from every fixture is accepted by a real, strict LRS, and a replay
is a no-op. The LRS is Learning Locker's xAPI service (tests/conftest.py starts it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.delivery.translation import Translator
from chalicelib.settings import load_settings
from tests.support.paths import FIXTURE_DIR

pytestmark = pytest.mark.integration

FIXTURES = FIXTURE_DIR
AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
SOURCES = ("credly", "certifier", "openbadges")
CASES = [
    (source, path.name)
    for source in SOURCES
    for path in sorted((FIXTURES / source).glob("*.json"))
    if path.name != "webhook_badge_created.json"  # a thin notification: translated after re-fetch
]
IDENTITIES = {
    "mbox": {},
    "mbox_sha1sum": {"IDENTITY_IFI": "mbox_sha1sum"},
    "account": {"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": "https://people.example.com"},
}


def _translate(source: str, name: str, env: dict[str, str]) -> list[dict]:
    settings = load_settings({"LEARNER_DIRECTORY": str(FIXTURES / "directory.csv"), **env})
    document = json.loads((FIXTURES / source / name).read_text())
    return Translator(settings).translate(source, document, AS_OF).statements


# The OB 3.0 learner is not in the directory: account mode dead-letters it (unit-tested).
MATRIX = [
    (source, name, ifi)
    for source, name in CASES
    for ifi in sorted(IDENTITIES)
    if not (ifi == "account" and name == "ob3_credential.json")
]


@pytest.mark.parametrize(("source", "name", "ifi"), MATRIX)
def test_lrs_accepts_every_statement_and_a_replay_changes_nothing(lrs, lrs_session, source, name, ifi):
    # A namespace per case: the same badge appears in several fixtures (revoked, then deleted),
    # and the LRS rightly refuses one id with two contents. That rule has its own test below.
    env = {"STATEMENT_ID_NAMESPACE": str(uuid.uuid4()), **IDENTITIES[ifi]}
    statements = _translate(source, name, env)
    assert statements, f"{name} produced no statements"

    first = lrs_session.post(lrs.statements_url, json=statements)
    assert first.status_code == 200, first.text
    assert first.json() == [s["id"] for s in statements]

    replay = lrs_session.post(lrs.statements_url, json=_translate(source, name, env))
    assert replay.status_code in (200, 204), replay.text  # never 409: identical bytes
    for statement in statements:
        stored = lrs_session.get(lrs.statements_url, params={"statementId": statement["id"]})
        assert stored.status_code == 200, stored.text
        assert stored.json()["verb"]["id"] == statement["verb"]["id"]


def test_a_second_revocation_of_the_same_badge_keeps_the_first(lrs, lrs_session):
    env = {"STATEMENT_ID_NAMESPACE": str(uuid.uuid4())}
    revoked = _translate("credly", "event_badge_revoked.json", env)
    deleted = _translate("credly", "event_badge_deleted.json", env)
    assert [s["id"] for s in revoked] == [s["id"] for s in deleted]

    assert lrs_session.post(lrs.statements_url, json=revoked).status_code == 200
    conflict = lrs_session.post(lrs.statements_url, json=deleted[1:])
    assert conflict.status_code == 409, conflict.text
    stored = lrs_session.get(lrs.statements_url, params={"statementId": revoked[1]["id"]}).json()
    assert stored["timestamp"] == "2027-02-02T09:00:00.000Z"
