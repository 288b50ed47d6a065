"""An LRS that honours less than Learning Locker does: through tools/lrs_proxy.py (oldest first,
statementId/voidedStatementId ignored, no /about) in front of the real test LRS, and refusals in
plain text. Reads verify what comes back; a refusal keeps the LRS's text; a refusal of the
version, the credentials or the endpoint stops the batch instead of dead-lettering it."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from chalicelib.httpretry import RetryPolicy
from chalicelib.xapi.lrs import LrsAnswerError, LrsClient, LrsConfigurationError, StoredStatements
from fakes.fake_lrs import FakeLrs
from lrs_process import XAPI_VERSION, LrsProcess
from lrs_proxy import LrsProxy
from tests.support.connector import connector, hostile_lrs  # noqa: F401  (fixtures)
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import make_badges  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"


def new_verb() -> str:
    return f"https://example.com/verbs/hostile-{uuid.uuid4()}"


def statement(verb: str, mbox: str = "mailto:learner@example.com") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": mbox},
        "verb": {"id": verb, "display": {"en-US": "tested"}},
        "object": {"objectType": "Activity", "id": "https://example.com/activities/hostile"},
        "timestamp": "2024-01-01T00:00:00.000Z",
    }


def voiding(target: str) -> dict:
    return {**statement(VOIDED), "object": {"objectType": "StatementRef", "id": target}}


def ids(statements) -> list[str]:
    return [s["id"] for s in statements]


def stored_in(lrs: LrsProcess, statement_id: str) -> bool:
    answer = requests.get(
        lrs.statements_url,
        params={"statementId": statement_id},
        headers={"X-Experience-API-Version": XAPI_VERSION},
        timeout=5,
    )
    return answer.status_code == 200 and answer.json()["id"] == statement_id


@pytest.fixture(scope="module")
def lrs() -> Iterator[LrsProcess]:
    """An LRS of this module's own: through a proxy that ignores the id filters, every look-up
    reads the whole LRS oldest first, so what these tests find must not depend on the thousands of
    statements other tests leave in the session's LRS."""
    with LrsProcess() as proc:
        yield proc


@pytest.fixture
def history(lrs: LrsProcess) -> dict[str, dict]:
    """Three statements of a new verb in the real LRS, the first voided since."""
    direct = LrsClient(lrs.endpoint, retry=FAST)
    verb = new_verb()
    kept = [statement(verb) for _ in range(3)]
    direct.send(kept)
    direct.send([voiding(kept[0]["id"])])
    return {"voided": kept[0], "kept": kept[1], "other": kept[2]}


# -- look-ups by id ---------------------------------------------------------------------------


def test_a_look_up_by_id_takes_only_the_statement_with_that_id(hostile_lrs: LrsProxy, history) -> None:
    client = LrsClient(hostile_lrs.endpoint, retry=FAST)
    kept = history["kept"]["id"]
    assert ids(client.query(statementId=kept)) == [kept]
    assert list(client.query(statementId=str(uuid.uuid4()))) == []
    # The LRS ignores voidedStatementId and hides voided statements from its pages: the voided
    # statement cannot be shown, and a statement that is not voided is never taken for one.
    assert list(client.query(voidedStatementId=history["voided"]["id"])) == []
    assert list(client.query(voidedStatementId=kept)) == []
    looked_up = [s.query for s in hostile_lrs.seen if s.method == "GET"]
    assert any("statementId" in q for q in looked_up)  # the filter was asked for, and ignored


def test_many_look_ups_read_the_lrs_once_and_check_ids(hostile_lrs: LrsProxy, history) -> None:
    stored = StoredStatements(LrsClient(hostile_lrs.endpoint, retry=FAST))
    assert stored.holds(history["kept"]) and stored.holds(history["other"])
    assert stored.holds(history["voided"])  # its voiding statement is in the LRS
    assert not stored.holds({**history["kept"], "id": str(uuid.uuid4())})
    assert stored.voided(history["kept"]["id"]) is None
    assert stored.ignored == {"statementId", "voidedStatementId"}
    reads = len(hostile_lrs.seen)
    assert stored.holds(history["other"]) and stored.holds(history["voided"])
    assert len(hostile_lrs.seen) == reads  # the LRS was read once for the run


def test_a_voided_statement_an_lrs_shows_is_found_by_its_voiding_statement(lrs: LrsProcess, history) -> None:
    """An LRS that ignores voidedStatementId but answers statementId for a voided statement (as
    one that does not hide voided statements does): the voided statement is found once, by id."""
    with LrsProxy(lrs.endpoint, ignored=("voidedStatementId",)) as proxy:
        voided_id = history["voided"]["id"]
        proxy.refuse(
            lambda seen: seen.query.get("statementId") == voided_id,
            json.dumps(history["voided"]),
            status=200,
            content_type="application/json",
        )
        stored = StoredStatements(LrsClient(proxy.endpoint, retry=FAST))
        assert stored.voided(voided_id) == history["voided"]
        assert stored.voided(history["kept"]["id"]) is None
        assert stored.ignored == {"voidedStatementId"}


def test_a_filter_the_lrs_ignores_is_applied_on_the_connectors_side(lrs: LrsProcess, history) -> None:
    with LrsProxy(lrs.endpoint, ignored=("verb",)) as proxy:
        client = LrsClient(proxy.endpoint, retry=FAST)
        verb = history["kept"]["verb"]["id"]
        found = list(client.query(verb=verb))
    assert sorted(ids(found)) == sorted([history["kept"]["id"], history["other"]["id"]])
    assert {s["verb"]["id"] for s in found} == {verb}


def test_pages_that_repeat_themselves_are_read_once_and_a_circle_stops() -> None:
    one, two, three = (statement(new_verb()) for _ in range(3))
    with FakeLrs() as fake:
        client = LrsClient(fake.endpoint, retry=FAST)
        fake.script(
            (200, {}, {"statements": [one, two], "more": "/xAPI/statements?cursor=1"}),
            (200, {}, {"statements": [two, three, two], "more": ""}),
        )
        assert ids(client.query()) == ids([one, two, three])
        circle = {"statements": [one], "more": "/xAPI/statements?cursor=1"}
        fake.script((200, {}, circle), (200, {}, circle))
        with pytest.raises(LrsAnswerError, match="circle"):
            list(client.query())


# -- reconcile and /health --------------------------------------------------------------------


def test_reconcile_finds_what_the_lrs_lacks_when_it_ignores_the_id_filters(
    connector,
    hostile_lrs,
    lrs,  # noqa: F811
    monkeypatch,
    capsys,
) -> None:
    from chalicelib.cli import main
    from chalicelib.runtime import services

    badges = make_badges(
        5,
        seed=11,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        spread_days=30,
        expiry_days=(3650,),
        vary_templates=True,
        state="pending",
    )
    for badge in badges[:3]:
        connector.credly.add_badge(badge)
    connector.pull("credly")
    connector.drain()
    earned = [connector.statement_id(f"credly|{b['id']}|issued") for b in badges]
    LrsClient(lrs.endpoint, retry=FAST).send([voiding(earned[0])])  # a revoked credential stays reconciled
    for badge in badges[3:]:
        connector.credly.add_badge(badge)

    monkeypatch.setenv("LRS_ENDPOINT", hostile_lrs.endpoint)
    services.cache_clear()
    assert main(["reconcile", "credly", "--since", "2026-01-01T00:00:00Z", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["statements"], dry["missing"]) == (5, 2)

    assert main(["reconcile", "credly", "--since", "2026-01-01T00:00:00Z"]) == 0
    listed = capsys.readouterr().out
    assert all(statement_id in listed for statement_id in earned[3:])
    assert not any(statement_id in listed for statement_id in earned[:3])
    assert all(stored_in(lrs, statement_id) for statement_id in earned[1:])


def test_health_reaches_an_lrs_without_about_by_one_statement(connector, hostile_lrs, monkeypatch) -> None:  # noqa: F811
    from chalicelib import health

    monkeypatch.setattr(health, "_lrs_answers", {})
    details = {"Authorization": f"Bearer {connector.env['STATUS_TOKEN']}"}
    answer = json.loads(connector.client.http.get("/health/details", headers=details).body)
    assert (answer["checks"]["lrs"], answer["checks"]["lrs_checked_with"]) == ("reachable", "GET /about")

    monkeypatch.setenv("LRS_ENDPOINT", hostile_lrs.endpoint)
    connector.restart()
    reply = connector.client.http.get("/health/details", headers=details)
    checks = json.loads(reply.body)["checks"]
    assert reply.status_code == 200 and checks["lrs"] == "reachable"
    assert checks["lrs_checked_with"] == "GET statements?limit=1 (the LRS has no /about)"
    asked = [(s.path, s.query) for s in hostile_lrs.seen]
    assert asked == [("/xAPI/about", {}), ("/xAPI/statements", {"limit": "1"})]


# -- refusals ---------------------------------------------------------------------------------


def posts_holding(statement_id: str):
    return lambda seen: seen.method == "POST" and statement_id in seen.statement_ids()


@pytest.mark.parametrize(
    "text, content_type, reason",
    [
        (
            "Statement from ada@example.com refused: verb.id is not an IRI",
            "text/plain",
            "HTTP 400: Statement from <redacted> refused: verb.id is not an IRI",
        ),
        ("Problem in 'statements.0.version'. Received '\"9.9\"'", "text/plain", "HTTP 400: Problem in 'version'"),
        (
            "<html><head><title>400</title></head><body><h1>Invalid statement</h1>\n"
            "<p>object.id is missing</p></body></html>",
            "text/html",
            "HTTP 400: 400 Invalid statement object.id is missing",
        ),
    ],
    ids=["plain-text", "a-statement-version-path", "html"],
)
def test_a_per_statement_refusal_in_any_shape_is_bisected_and_keeps_the_lrs_text(
    hostile_lrs, lrs, text, content_type, reason
) -> None:
    batch = [statement(new_verb()) for _ in range(8)]
    refused = batch[5]
    hostile_lrs.refuse(posts_holding(refused["id"]), text, content_type=content_type)
    report = LrsClient(hostile_lrs.endpoint, retry=FAST).send(batch)
    assert sorted(report.delivered) == sorted(ids(batch[:5] + batch[6:]))
    assert report.rejected == [(refused, reason)]
    assert all(stored_in(lrs, s["id"]) for s in batch if s is not refused)
    assert not stored_in(lrs, refused["id"])


def pinned_to(version: str):
    return lambda seen: seen.headers.get("X-Experience-API-Version") != version


@pytest.mark.parametrize(
    "text, content_type, setting",
    [
        ("X-Experience-API-Version is not supported", "text/plain", "LRS_XAPI_VERSION"),
        ('{"detail": "Invalid version: 1.0.3 is not supported, use 1.0.0"}', "application/json", "LRS_XAPI_VERSION"),
        ("Invalid credentials for ada@example.com", "text/plain", "LRS_USERNAME/LRS_PASSWORD"),
        ('{"error": "Authorization required"}', "application/json", "LRS_USERNAME/LRS_PASSWORD"),
        ("Unknown endpoint", "text/plain", "LRS_ENDPOINT"),
    ],
    ids=["version-text", "version-json", "credentials-text", "authorization-json", "endpoint-text"],
)
def test_a_refusal_naming_a_setting_stops_the_batch_at_once(hostile_lrs, lrs, text, content_type, setting) -> None:
    hostile_lrs.refuse(pinned_to("1.0.0"), text, content_type=content_type)
    batch = [statement(new_verb()) for _ in range(8)]
    with pytest.raises(LrsConfigurationError) as caught:
        LrsClient(hostile_lrs.endpoint, retry=FAST).send(batch)
    message = str(caught.value)
    assert f"check {setting}" in message and f"127.0.0.1:{hostile_lrs.port}" in message
    assert "\n" not in message and "@" not in message
    assert len([s for s in hostile_lrs.seen if s.method == "POST"]) == 1  # nothing bisected
    assert not any(stored_in(lrs, s["id"]) for s in batch)


def test_a_version_the_lrs_refuses_stops_the_worker_at_once_and_flags_the_lrs(
    connector,
    hostile_lrs,  # noqa: F811
    monkeypatch,
) -> None:
    from chalicelib.queue import QueueMessage
    from chalicelib.runtime import services
    from tests.support.connector import fixture_json

    hostile_lrs.refuse(pinned_to("1.0.3"), "X-Experience-API-Version 2.0.0 is not supported by this LRS")
    monkeypatch.setenv("LRS_ENDPOINT", hostile_lrs.endpoint)
    monkeypatch.setenv("LRS_XAPI_VERSION", "2.0.0")
    services.cache_clear()
    worker = services().worker
    message = QueueMessage(source="certifier", body=fixture_json("certifier/webhook_credential_issued.json"))
    result = worker.process([message])
    assert set(result.failed) == {message.id}  # retried later, not dead-lettered
    assert services().store.count_dead_letters() == 0
    flag = services().store.flags()["lrs"]
    assert "LRS_XAPI_VERSION" in flag and f"127.0.0.1:{hostile_lrs.port}" in flag and "2.0.0" in flag
    assert len([s for s in hostile_lrs.seen if s.method == "POST"]) == 1
