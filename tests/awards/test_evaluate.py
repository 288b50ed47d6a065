"""Award evaluation: which criteria a statement or report row satisfies, and when a rule fires.

Everything takes an explicit `as_of`; expected times are written literally.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.awards.evaluate import (
    Match,
    apply_matches,
    group_matches,
    index_rules,
    merge_progress,
    report_row_matches,
    rule_fires,
    satisfied_keys,
    statement_matches,
    statement_satisfies,
    statement_time,
)
from chalicelib.awards.rules import load_rules, parse_rules
from tests.support.helpers import FIXTURES, REPO_ROOT

AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
EXAMPLE = REPO_ROOT / "examples" / "award_rules.toml"
ADL = "http://adlnet.gov/expapi/verbs/"
OLD_EXAM = "https://lms.example.com/courses/python-301/final-exam"
NEW_EXAM = "https://lxp.example.com/activities/py301-exam"
FIXTURE_TIME = datetime(2026, 11, 26, 9, 12, 44, tzinfo=UTC)

SECURE = {
    "injection": "https://lxp.example.com/activities/sc-injection",
    "authentication": "https://lxp.example.com/activities/sc-authentication",
    "secrets": "https://lxp.example.com/activities/sc-secrets-management",
}


@pytest.fixture(scope="module")
def rules():
    return load_rules(EXAMPLE)


def forwarded() -> dict:
    """The statement Learning Locker forwards: Ada passed the old LMS's exam with 0.86."""
    return json.loads((FIXTURES / "lap" / "learninglocker_forwarded_statement.json").read_text())


def statement(verb: str, activity: str, when: str | None = "2026-11-20T10:00:00Z", **result) -> dict:
    built = {
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "E-1001"}},
        "verb": {"id": ADL + verb},
        "object": {"objectType": "Activity", "id": activity},
    }
    if result:
        built["result"] = result
    if when:
        built["timestamp"] = when
    return built


def keys(matches: list[Match]) -> list[tuple[str, str]]:
    return [(m.rule_id, m.key) for m in matches]


# --- statements against criteria -----------------------------------------------------------


def test_forwarded_statement_on_the_old_exam_id_matches(rules):
    assert statement_matches(rules, forwarded(), AS_OF) == [Match("python-expert", "final-exam", FIXTURE_TIME)]


def test_alias_matches_the_new_platform_id_too(rules):
    moved = forwarded()
    moved["object"]["id"] = NEW_EXAM
    assert keys(statement_matches(rules, moved, AS_OF)) == [("python-expert", "final-exam")]


def test_activity_outside_the_alias_does_not_match(rules):
    other = forwarded()
    other["object"]["id"] = "https://lms.example.com/courses/python-201/final-exam"
    assert statement_matches(rules, other, AS_OF) == []


def test_other_verb_does_not_match(rules):
    failed = forwarded()
    failed["verb"]["id"] = ADL + "failed"
    assert statement_matches(rules, failed, AS_OF) == []


@pytest.mark.parametrize("scaled, matches", [(0.79, False), (0.7999, False), (0.8, True), (1, True)])
def test_minimum_scaled_score(rules, scaled, matches):
    attempt = forwarded()
    attempt["result"]["score"]["scaled"] = scaled
    assert bool(statement_matches(rules, attempt, AS_OF)) is matches


@pytest.mark.parametrize(
    "result",
    [
        {"success": True, "completion": True},  # no score
        {"score": {"raw": 86, "min": 0, "max": 100}, "success": True},  # no scaled score
        {"score": {"scaled": "0.9"}, "success": True},  # not a number
        {"score": {"scaled": True}, "success": True},
    ],
    ids=["no-score", "raw-only", "text", "bool"],
)
def test_missing_or_unusable_score_fails_a_min_score_criterion(rules, result):
    attempt = forwarded()
    attempt["result"] = result
    assert statement_matches(rules, attempt, AS_OF) == []


def test_statement_without_result_fails_a_result_criterion(rules):
    attempt = forwarded()
    del attempt["result"]
    assert statement_matches(rules, attempt, AS_OF) == []


@pytest.mark.parametrize("success", [False, None, "true"])
def test_success_must_equal_the_criterion(rules, success):
    attempt = forwarded()
    if success is None:
        del attempt["result"]["success"]
    else:
        attempt["result"]["success"] = success
    assert statement_matches(rules, attempt, AS_OF) == []


def test_completion_must_equal_the_criterion(rules):
    done = statement("completed", SECURE["secrets"], completion=True)
    assert keys(statement_matches(rules, done, AS_OF)) == [("secure-coding-practitioner", "secrets")]
    assert statement_matches(rules, statement("completed", SECURE["secrets"], completion=False), AS_OF) == []
    assert statement_matches(rules, statement("completed", SECURE["secrets"]), AS_OF) == []


def test_within_days_boundary(rules):
    exactly = forwarded()
    exactly["timestamp"] = "2025-11-28T00:00:00.000Z"  # 365 days before AS_OF
    assert keys(statement_matches(rules, exactly, AS_OF)) == [("python-expert", "final-exam")]
    older = forwarded()
    older["timestamp"] = "2025-11-27T23:59:59.999Z"
    assert statement_matches(rules, older, AS_OF) == []
    # the same statement judged a millisecond earlier is inside the window again
    assert statement_matches(rules, older, AS_OF - timedelta(milliseconds=1)) != []


def test_time_is_timestamp_else_stored_else_none(rules):
    attempt = forwarded()
    attempt["timestamp"] = "2024-01-01T00:00:00Z"  # too old; stored is recent but not used
    assert statement_matches(rules, attempt, AS_OF) == []
    del attempt["timestamp"]
    assert statement_matches(rules, attempt, AS_OF) == [
        Match("python-expert", "final-exam", datetime(2026, 11, 26, 9, 12, 45, 102000, tzinfo=UTC))
    ]
    del attempt["stored"]
    assert statement_time(attempt) is None
    assert statement_matches(rules, attempt, AS_OF) == []  # within_days needs a time
    # a criterion without within_days still matches, at as_of
    mastered = statement("mastered", "https://lms.example.com/courses/accessibility-fundamentals", when=None)
    assert statement_matches(rules, mastered, AS_OF) == [Match("accessibility-champion", "a11y-course", AS_OF)]


def test_timestamp_with_offset_is_normalised():
    assert statement_time({"timestamp": "2026-11-26T11:12:44+02:00"}) == FIXTURE_TIME
    assert statement_time({"timestamp": "not a time", "stored": "2026-11-26T09:12:44Z"}) == FIXTURE_TIME


def test_voided_statements_never_match():
    rules = parse_rules(
        '[[rules]]\nid = "any-passed"\nname = "Anything passed"\n'
        'credential = { platform = "certifier", id = "01JC0GROUPSECURITY0000001" }\n'
        '[[rules.statements]]\nverb = "passed"\n'
    )
    voiding = {
        "verb": {"id": ADL + "voided"},
        "object": {"objectType": "StatementRef", "id": "e1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8"},
        "timestamp": "2026-11-27T00:00:00Z",
    }
    assert statement_matches(rules, voiding, AS_OF) == []


def test_voided_verb_on_an_activity_does_not_match(rules):
    odd = forwarded()
    odd["verb"]["id"] = ADL + "voided"
    assert statement_matches(rules, odd, AS_OF) == []


def test_object_must_be_an_activity(rules):
    ref = forwarded()
    ref["object"] = {"objectType": "StatementRef", "id": OLD_EXAM}
    assert statement_matches(rules, ref, AS_OF) == []
    implicit = forwarded()
    del implicit["object"]["objectType"]  # Activity is the default objectType
    assert statement_matches(rules, implicit, AS_OF) != []


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"verb": "passed"},
        {"verb": {"id": ADL + "passed"}, "object": "x"},
        {"verb": {"id": ADL + "passed"}, "object": {"id": OLD_EXAM}, "result": []},
    ],
)
def test_malformed_statements_match_nothing(rules, broken):
    assert statement_matches(rules, broken, AS_OF) == []


def test_criterion_without_activity_matches_any_activity():
    rules = parse_rules(
        '[[rules]]\nid = "first-pass"\nname = "First pass"\n'
        'credential = { platform = "badgr", id = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J" }\n'
        '[[rules.statements]]\nverb = "passed"\n'
    )
    assert keys(statement_matches(rules, forwarded(), AS_OF)) == [("first-pass", "s0")]
    assert keys(statement_matches(rules, statement("passed", "urn:x:anything"), AS_OF)) == [("first-pass", "s0")]
    assert statement_matches(rules, statement("completed", "urn:x:anything"), AS_OF) == []


def test_one_statement_can_satisfy_criteria_of_several_rules():
    rules = parse_rules(
        '[aliases]\nexam = ["https://lms.example.com/courses/python-301/final-exam"]\n'
        '[[rules]]\nid = "b"\nname = "B"\ncredential = { platform = "badgr", id = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J" }\n'
        '[[rules.statements]]\nverb = "passed"\n'
        '[[rules]]\nid = "a"\nname = "A"\ncredential = { platform = "accredible", id = 1 }\n'
        '[[rules.statements]]\nverb = "passed"\nactivity = "alias:exam"\nmin_score = 0.9\n'
        '[[rules.statements]]\nverb = "passed"\nactivity = "alias:exam"\nmin_score = 0.5\n'
    )
    assert keys(statement_matches(rules, forwarded(), AS_OF)) == [("b", "s0"), ("a", "s1")]


def test_statement_satisfies_one_criterion(rules):
    criterion = rules.rule("python-expert").statements[0]
    assert statement_satisfies(rules, criterion, forwarded(), AS_OF)
    low = forwarded()
    low["result"]["score"]["scaled"] = 0.5
    assert not statement_satisfies(rules, criterion, low, AS_OF)


def test_index_is_built_once_and_only_candidates_are_tested():
    # 3,000 rules on distinct activities: a statement must not be tested against all of them.
    text = "".join(
        f'[[rules]]\nid = "r{n}"\nname = "R{n}"\ncredential = {{ platform = "accredible", id = {n} }}\n'
        f'[[rules.statements]]\nverb = "completed"\nactivity = "https://lxp.example.com/a/{n}"\n'
        for n in range(3000)
    )
    rules = parse_rules(text)
    assert index_rules(rules) is index_rules(rules)
    statements = [statement("completed", f"https://lxp.example.com/a/{n}") for n in range(3000)]
    started = time.perf_counter()
    found = [statement_matches(rules, s, AS_OF) for s in statements]
    elapsed = time.perf_counter() - started
    assert [keys(m) for m in found[:2]] == [[("r0", "s0")], [("r1", "s0")]]
    assert all(len(m) == 1 for m in found)
    assert elapsed < 1.0, f"{elapsed:.2f} s for 3,000 statements against 3,000 rules"


# --- progress: "all" needs every criterion, in any order, across deliveries -------------------


def deliver(rules, progress, stmt, as_of=AS_OF):
    """One delivery for one learner: merge the matches, return (progress, fired rule ids)."""
    outcomes = apply_matches(rules, statement_matches(rules, stmt, as_of), progress, as_of)
    progress = {**progress, **{o.rule.id: o.progress for o in outcomes}}
    return progress, [o.rule.id for o in outcomes if o.fired]


@pytest.mark.parametrize("order", list(itertools.permutations(SECURE)))
def test_all_rule_fires_on_the_third_statement_in_any_order(rules, order):
    progress: dict = {}
    fired_at = []
    for n, module in enumerate(order):
        progress, fired = deliver(
            rules, progress, statement("completed", SECURE[module], completion=True, when=f"2026-11-2{n}T10:00:00Z")
        )
        fired_at.append("secure-coding-practitioner" in fired)
    assert fired_at == [False, False, True]
    assert set(progress["secure-coding-practitioner"]) == set(SECURE)


def test_all_rule_does_not_fire_on_the_same_criterion_twice(rules):
    progress: dict = {}
    for day in ("20", "21", "22"):
        progress, fired = deliver(
            rules,
            progress,
            statement("completed", SECURE["injection"], completion=True, when=f"2026-11-{day}T10:00:00Z"),
        )
        assert fired == []
    assert progress["secure-coding-practitioner"] == {"injection": datetime(2026, 11, 22, 10, tzinfo=UTC)}


def test_old_platform_activity_counts_toward_an_all_rule(rules):
    progress: dict = {}
    old_injection = statement("completed", "https://lms.example.com/courses/secure-coding/injection", completion=True)
    for stmt in (
        old_injection,
        statement("completed", SECURE["authentication"], completion=True),
        statement("completed", SECURE["secrets"], completion=True),
    ):
        progress, fired = deliver(rules, progress, stmt)
    assert fired == ["secure-coding-practitioner"]


def test_any_rule_fires_on_one_criterion(rules):
    practicum = statement("passed", "https://lxp.example.com/activities/wcag-audit-practicum", success=True)
    progress, fired = deliver(rules, {}, practicum)
    assert fired == ["accessibility-champion"]
    assert progress == {"accessibility-champion": {"wcag-practicum": datetime(2026, 11, 20, 10, tzinfo=UTC)}}
    failed = statement("passed", "https://lxp.example.com/activities/wcag-audit-practicum", success=False)
    assert deliver(rules, {}, failed) == ({}, [])


def test_rule_fires_judges_within_days_again_at_as_of():
    rules = parse_rules(
        '[[rules]]\nid = "pair"\nname = "Pair"\ncredential = { platform = "badgr", id = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J" }\n'
        '[[rules.statements]]\nkey = "a"\nverb = "completed"\nactivity = "https://x.example/a"\nwithin_days = 30\n'
        '[[rules.statements]]\nkey = "b"\nverb = "completed"\nactivity = "https://x.example/b"\n'
    )
    rule = rules.rule("pair")
    progress = {"a": "2026-10-29T00:00:00.000Z", "b": "2026-11-27T00:00:00.000Z"}  # stored as text
    assert rule_fires(rule, progress, AS_OF)  # exactly 30 days
    assert satisfied_keys(rule, progress, AS_OF + timedelta(seconds=1)) == frozenset({"b"})
    assert not rule_fires(rule, progress, AS_OF + timedelta(seconds=1))
    # a first statement that has left its window when the last one arrives does not count
    progress2, fired = deliver(
        rules,
        {},
        statement("completed", "https://x.example/a", when="2026-09-01T00:00:00Z"),
        as_of=datetime(2026, 9, 2, tzinfo=UTC),
    )
    assert fired == [] and "a" in progress2["pair"]
    _, fired = deliver(rules, progress2, statement("completed", "https://x.example/b", when="2026-11-27T00:00:00Z"))
    assert fired == []


def test_rule_fires_all_and_any_and_ignores_unknown_keys(rules):
    secure = rules.rule("secure-coding-practitioner")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    assert not rule_fires(secure, {}, AS_OF)
    assert not rule_fires(secure, {"injection": at, "authentication": at, "s2": at}, AS_OF)
    assert rule_fires(secure, {"injection": at, "authentication": at, "secrets": at}, AS_OF)
    a11y = rules.rule("accessibility-champion")
    assert not rule_fires(a11y, {}, AS_OF)
    assert rule_fires(a11y, {"a11y-course": at}, AS_OF)


def test_merge_progress_keeps_the_latest_time():
    early = datetime(2026, 11, 1, tzinfo=UTC)
    late = datetime(2026, 11, 20, tzinfo=UTC)
    assert merge_progress({"a": late, "b": "2026-11-01T00:00:00Z"}, {"a": early, "c": late}) == {
        "a": late,
        "b": early,
        "c": late,
    }
    assert merge_progress(None, {"a": "garbage"}) == {}


def test_naive_times_are_utc(rules):
    a11y = rules.rule("accessibility-champion")
    assert rule_fires(a11y, {"a11y-course": datetime(2026, 11, 1)}, datetime(2026, 11, 28))
    assert merge_progress({"a": datetime(2026, 11, 1, 12)}, {}) == {"a": datetime(2026, 11, 1, 12, tzinfo=UTC)}
    assert statement_matches(rules, forwarded(), datetime(2026, 11, 28)) == [
        Match("python-expert", "final-exam", FIXTURE_TIME)
    ]


def test_group_matches_latest_per_rule_and_key():
    early = datetime(2026, 11, 1, tzinfo=UTC)
    late = datetime(2026, 11, 2, tzinfo=UTC)
    assert group_matches([Match("r", "s0", late), Match("r", "s0", early), Match("q", "s1", early)]) == {
        "r": {"s0": late},
        "q": {"s1": early},
    }


def test_apply_matches_reports_unchanged_progress(rules):
    stored = {"python-expert": {"final-exam": "2026-11-26T09:12:44.000Z"}}
    [outcome] = apply_matches(rules, statement_matches(rules, forwarded(), AS_OF), stored, AS_OF)
    assert (outcome.rule.id, outcome.fired, outcome.changed) == ("python-expert", True, False)
    assert outcome.progress == {"final-exam": FIXTURE_TIME}


# --- report rows -------------------------------------------------------------------------------

REPORT_AT = datetime(2026, 11, 27, 6, tzinfo=UTC)


def report_rows() -> dict:
    return json.loads((FIXTURES / "lap" / "report_rows.json").read_text())


def test_report_rows_of_the_fixture(rules):
    report = report_rows()
    ada, grace = report["rows"]
    assert report_row_matches(rules, "python-readiness", ada, REPORT_AT) == [
        Match("python-ready", "courses", REPORT_AT),
        Match("python-ready", "exam", REPORT_AT),
    ]
    assert report_row_matches(rules, "python-readiness", grace, REPORT_AT) == []
    outcomes = apply_matches(rules, report_row_matches(rules, "python-readiness", ada, REPORT_AT), {}, REPORT_AT)
    assert [(o.rule.id, o.fired) for o in outcomes] == [("python-ready", True)]


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"courses_completed": 3, "exam_score": 0.8}, ["courses", "exam"]),  # thresholds are inclusive
        ({"courses_completed": 2, "exam_score": 0.95}, ["exam"]),
        ({"courses_completed": 5, "exam_score": 0.79}, ["courses"]),
        ({"courses_completed": "4", "exam_score": " 0.86 "}, ["courses", "exam"]),  # CSV text
        ({"courses_completed": "four", "exam_score": None}, []),
        ({"courses_completed": True}, []),
        ({}, []),
    ],
)
def test_report_thresholds(rules, values, expected):
    row = {"learner": {"email": "ada.lovelace@example.com"}, "values": values}
    assert [m.key for m in report_row_matches(rules, "python-readiness", row, REPORT_AT)] == expected


def test_report_partial_progress_does_not_fire(rules):
    ready = rules.rule("python-ready")
    assert not rule_fires(ready, {"courses": REPORT_AT}, AS_OF)
    assert rule_fires(ready, {"courses": REPORT_AT, "exam": "2026-01-01T00:00:00Z"}, AS_OF)  # no window


def test_report_id_must_match_when_the_criterion_names_one(rules):
    ada = report_rows()["rows"][0]
    assert report_row_matches(rules, "java-readiness", ada, REPORT_AT) == []
    assert report_row_matches(rules, None, ada, REPORT_AT) == []


def test_report_equals_max_and_any_report():
    rules = parse_rules(
        '[[rules]]\nid = "status"\nname = "Status"\ncredential = { platform = "accredible", id = 771002 }\n'
        'match = "any"\n'
        '[[rules.report]]\nkey = "done"\nfield = "status"\nequals = "completed"\n'
        '[[rules.report]]\nkey = "cert"\nreport = "compliance"\nfield = "certified"\nequals = true\n'
        '[[rules.report]]\nkey = "level"\nreport = "compliance"\nfield = "level"\nequals = 2\n'
        '[[rules.report]]\nkey = "risk"\nreport = "compliance"\nfield = "risk"\nmax = 0.2\n'
    )

    def matched(report_id, values):
        return [m.key for m in report_row_matches(rules, report_id, {"values": values}, REPORT_AT)]

    assert matched("anything", {"status": "completed"}) == ["done"]
    assert matched(None, {"status": "completed"}) == ["done"]
    assert matched("anything", {"status": "Completed"}) == []
    assert matched("anything", {"status": 1}) == []
    assert matched("anything", {"certified": True, "level": 2, "risk": 0.1}) == []  # other report
    assert matched("compliance", {"certified": True, "level": 2.0, "risk": 0.2}) == ["cert", "level", "risk"]
    assert matched("compliance", {"certified": "TRUE", "level": "2", "risk": "0.1"}) == ["cert", "level", "risk"]
    assert matched("compliance", {"certified": False, "level": 3, "risk": 0.21}) == []
    assert matched("compliance", {"certified": 1, "level": True, "risk": "n/a"}) == []


def test_evaluation_does_not_change_its_inputs(rules):
    stmt = forwarded()
    before = copy.deepcopy(stmt)
    progress = {"python-expert": {"final-exam": "2025-01-01T00:00:00Z"}}
    snapshot = copy.deepcopy(progress)
    apply_matches(rules, statement_matches(rules, stmt, AS_OF), progress, AS_OF)
    assert (stmt, progress) == (before, snapshot)
