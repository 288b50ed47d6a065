"""Reverse path: LAP evidence awards credentials through the platform's API, exactly once."""

from __future__ import annotations

import copy
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration

TEMPLATE = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"
MODULES = ["https://lxp.example.com/m/one", "https://lxp.example.com/m/two", "https://lxp.example.com/m/three"]
RULES = (
    f"""
[aliases]
final-exam = ["https://lms.example.com/courses/python-301/final-exam", "https://lxp.example.com/py301-exam"]

[[rules]]
id = "python-expert"
name = "Python Expert"
credential = {{ platform = "credly", id = "{TEMPLATE}" }}
[[rules.statements]]
verb = "passed"
activity = "alias:final-exam"
min_score = 0.8
success = true

[[rules]]
id = "three-modules"
name = "Three modules"
match = "all"
credential = {{ platform = "credly", id = "aaaaaaaa-0000-4000-8000-000000000003" }}
"""
    + "".join(
        f'[[rules.statements]]\nkey = "m{i}"\nverb = "completed"\nactivity = "{iri}"\n' for i, iri in enumerate(MODULES)
    )
    + """
[[rules]]
id = "python-ready"
name = "Python ready"
credential = { platform = "credly", id = "bbbbbbbb-0000-4000-8000-000000000004" }
[[rules.report]]
report = "python-readiness"
field = "courses_completed"
min = 3
"""
)


def with_rules(connector, monkeypatch, tmp_path, text: str) -> None:
    """The connector with these award rules (AWARD_RULES), as a new process would read them."""
    (tmp_path / "rules.toml").write_text(text)
    monkeypatch.setenv("AWARD_RULES", str(tmp_path / "rules.toml"))
    connector.restart()


@pytest.fixture
def awards(connector, monkeypatch, tmp_path):
    with_rules(connector, monkeypatch, tmp_path, RULES)
    return connector


def passed_exam(**changes) -> dict:
    statement = copy.deepcopy(fixture_json("lap/learninglocker_forwarded_statement.json"))
    statement["id"] = str(uuid.uuid4())
    statement["timestamp"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    statement.update(changes)
    return statement


def forward(connector, statement: dict):
    headers = {"Authorization": f"Bearer {connector.env['LAP_TOKEN']}"}
    answer = connector.post("/lap/statements", statement, headers)
    assert answer.status_code == 202, answer.body
    return answer


def test_a_qualifying_statement_awards_the_badge_once(awards):
    forward(awards, passed_exam())
    awards.drain()
    assert len(awards.credly.issued) == 1
    issued = awards.credly.issued[0]
    assert issued["badge_template_id"] == TEMPLATE
    assert issued["issuer_earner_id"] == "E-1001" and issued["recipient_email"] == "ada.lovelace@example.com"
    record = awards.services.store.award(f"credly|{TEMPLATE}|E-1001")
    assert record["state"] == "awarded" and record["vendor_id"]


def test_the_new_platforms_activity_id_counts_through_the_alias(awards):
    statement = passed_exam()
    statement["object"]["id"] = "https://lxp.example.com/py301-exam"
    forward(awards, statement)
    awards.drain()
    assert len(awards.credly.issued) == 1


def test_a_score_below_the_threshold_awards_nothing(awards):
    statement = passed_exam()
    statement["result"]["score"]["scaled"] = 0.79
    forward(awards, statement)
    awards.drain()
    assert awards.credly.issued == []


def test_the_same_evidence_delivered_five_times_awards_once(awards):
    statement = passed_exam()
    for _ in range(5):
        forward(awards, statement)  # the same statement id: acknowledged, not queued again
    for _ in range(5):
        forward(awards, passed_exam())  # the same fact under new statement ids
    awards.drain()
    assert len(awards.credly.issued) == 1
    assert awards.services.store.counters()["already_awarded"] >= 1


def test_two_deliveries_processed_concurrently_award_once(awards):
    from chalicelib.queue import QueueMessage

    messages = [QueueMessage(source="lap", body=passed_exam()) for _ in range(2)]
    awards.credly.delay_next(0.3)  # keep the first award in flight while the second arrives
    barrier = threading.Barrier(2)
    results = []

    def work(message):
        barrier.wait()
        results.append(awards.services.process([message]))

    threads = [threading.Thread(target=work, args=(m,)) for m in messages]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(awards.credly.issued) == 1
    retried = [m for m in messages if any(m.id in r.failed for r in results)]
    if retried:  # the loser saw a fresh claim and retries; its retry finds the award made
        assert not awards.services.process(retried).failed
    assert len(awards.credly.issued) == 1


def test_a_500_then_success_awards_once(awards):
    awards.credly.fail_next(500)
    forward(awards, passed_exam())
    awards.drain()
    assert len(awards.credly.issued) == 1
    assert awards.services.store.count_dead_letters() == 0


def test_credly_422_already_has_this_badge_is_recorded_as_awarded(awards):
    awards.credly.issued.append({"recipient_email": "ada.lovelace@example.com", "badge_template_id": TEMPLATE})
    forward(awards, passed_exam())
    awards.drain()
    record = awards.services.store.award(f"credly|{TEMPLATE}|E-1001")
    assert record["state"] == "awarded"
    assert awards.services.store.counters()["already_awarded"] == 1
    assert awards.services.store.count_dead_letters() == 0


def test_a_multi_statement_rule_fires_only_with_its_last_criterion_across_requests(awards):
    for index, module in enumerate(reversed(MODULES)):
        statement = passed_exam(verb={"id": "http://adlnet.gov/expapi/verbs/completed"})
        statement["object"]["id"] = module
        forward(awards, statement)
        awards.drain()
        expected = 1 if index == len(MODULES) - 1 else 0
        issued = [i for i in awards.credly.issued if i["badge_template_id"].endswith("000000000003")]
        assert len(issued) == expected, f"after {index + 1} of {len(MODULES)} modules"


def test_a_report_row_awards_through_the_report_rule(awards):
    headers = {"Authorization": f"Bearer {awards.env['LAP_TOKEN']}"}
    assert awards.post("/lap/reports", fixture_json("lap/report_rows.json"), headers).status_code == 202
    awards.drain()
    issued = [i for i in awards.credly.issued if i["badge_template_id"].endswith("000000000004")]
    assert [i["issuer_earner_id"] for i in issued] == ["E-1001"]  # Grace completed only 2


def test_an_unmappable_learner_is_a_dead_letter_not_a_guess(awards):
    statement = passed_exam()
    statement["actor"] = {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "E-9999"}}
    forward(awards, statement)
    awards.drain()
    assert awards.credly.issued == []
    letters = awards.services.store.dead_letters()
    assert len(letters) == 1 and "learner directory" in letters[0].reason


BADGR_RULES = """
[[rules]]
id = "accessibility-champion"
name = "Accessibility Champion"
credential = { platform = "badgr", id = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J" }
[[rules.statements]]
verb = "passed"
activity = "https://lms.example.com/courses/python-301/final-exam"
"""


@pytest.fixture
def badgr(awards, monkeypatch, tmp_path):
    from fakes.badgr_api import FakeBadgr

    rules = tmp_path / "badgr-rules.toml"
    rules.write_text(BADGR_RULES)
    with FakeBadgr("issuer@example.com", "pw") as fake:
        for name, value in {
            "AWARD_RULES": str(rules),
            "BADGR_API_BASE": fake.base_url,
            "BADGR_USERNAME": "issuer@example.com",
            "BADGR_PASSWORD": "pw",
        }.items():
            monkeypatch.setenv(name, value)
        awards.restart()
        yield fake


def test_an_award_on_a_platform_without_webhooks_reaches_the_lrs_as_the_issued_statement(
    awards, badgr, lrs, lrs_session
):
    forward(awards, passed_exam())
    forward(awards, passed_exam())  # the same fact again: Badgr would accept a duplicate
    awards.drain()
    assert len(badgr.assertions) == 1  # the ledger, not the platform, kept it to one
    entity = badgr.assertions[0]["entityId"]

    namespace = uuid.UUID(awards.env["STATEMENT_ID_NAMESPACE"])
    statement_id = str(uuid.uuid5(namespace, f"badgr|{entity}|issued"))
    stored = lrs_session.get(lrs.statements_url, params={"statementId": statement_id})
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    assert body["object"]["definition"]["name"]["en"] == "Accessibility Champion"
    assert body["context"]["platform"] == "Canvas Credentials"


def test_an_award_dead_letter_replays_through_the_award_worker(awards):
    from chalicelib.deadletters import replay

    statement = passed_exam()
    statement["actor"] = {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "E-9999"}}
    forward(awards, statement)
    awards.drain()
    [outcome] = replay(awards.services, awards.services.store.dead_letters())
    assert outcome.result.startswith("dead-lettered again") and "learner directory" in outcome.result
    assert awards.credly.issued == []


def test_an_ambiguous_answer_to_a_badgr_award_is_never_repeated(awards, badgr):
    badgr.fail_next(500, path="/assertions")  # maybe made, maybe not: Badgr would accept a second
    forward(awards, passed_exam())
    awards.drain()
    forward(awards, passed_exam())  # more evidence while the claim is unresolved
    assert awards.services.drainer().drain_once() == 1  # sees the fresh claim: retried later, not awarded
    posts = [r for r in badgr.received if r.method == "POST" and r.path.endswith("/assertions")]
    assert len(posts) == 1  # read back (nothing made then), never posted again
    assert awards.services.store.award("badgr|Bc7Dd8Ee9Ff0Gg1Hh2Ii3J|E-1001")["state"] == "claimed"
    [letter] = awards.services.store.dead_letters()
    assert "check the platform" in letter.reason


def test_a_missing_platform_setting_leaves_no_claim_and_the_replay_awards(awards, monkeypatch, tmp_path):
    from chalicelib.deadletters import replay
    from fakes.badgr_api import FakeBadgr

    with_rules(awards, monkeypatch, tmp_path, BADGR_RULES)
    forward(awards, passed_exam())
    awards.drain()
    [letter] = awards.services.store.dead_letters()
    assert "BADGR_USERNAME" in letter.reason
    assert awards.services.store.award("badgr|Bc7Dd8Ee9Ff0Gg1Hh2Ii3J|E-1001") is None  # no claim left behind

    with FakeBadgr("issuer@example.com", "pw") as fake:  # the operator sets the missing settings
        for name, value in {
            "BADGR_API_BASE": fake.base_url,
            "BADGR_USERNAME": "issuer@example.com",
            "BADGR_PASSWORD": "pw",
        }.items():
            monkeypatch.setenv(name, value)
        awards.restart()
        [outcome] = replay(awards.services, awards.services.store.dead_letters())
        assert outcome.result == "delivered"
        assert len(fake.assertions) == 1
        assert awards.services.store.award("badgr|Bc7Dd8Ee9Ff0Gg1Hh2Ii3J|E-1001")["state"] == "awarded"
