"""Award rules file (AWARD_RULES): the models, TOML loading and `rules validate` (every problem
reported at once, each naming its rule and field)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.awards.rules import (
    Credential,
    RuleIssue,
    RulesError,
    RuleSet,
    RulesFileUnreadable,
    iri_problem,
    load_rules,
    parse_rules,
    validate_command,
)
from tests.support.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "award_rules.toml"

ADL = "http://adlnet.gov/expapi/verbs/"
PASSED = ADL + "passed"
OLD_EXAM = "https://lms.example.com/courses/python-301/final-exam"
NEW_EXAM = "https://lxp.example.com/activities/py301-exam"
CREDLY_TEMPLATE = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"


def rule_toml(body: str, rule_id: str = "r1", credential: str | None = None) -> str:
    credential = credential or f'{{ platform = "credly", id = "{CREDLY_TEMPLATE}" }}'
    return f'[[rules]]\nid = "{rule_id}"\nname = "Rule {rule_id}"\ncredential = {credential}\n{body}\n'


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(text: str) -> list[RuleIssue]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return caught.value.issues


# --- the example file ---------------------------------------------------------------------


def test_example_file_validates():
    assert validate_command(EXAMPLE) == (0, ["4 rules, 8 criteria, 2 aliases: OK"])


def test_example_python_expert_rule_matches_old_and_new_exam_ids():
    rules = load_rules(EXAMPLE)
    rule = rules.rule("python-expert")
    assert rule.credential == Credential(platform="credly", id=CREDLY_TEMPLATE)
    assert rule.match == "all"
    [criterion] = rule.statements
    assert rule.report == ()
    assert criterion.key == "final-exam"
    assert criterion.verb == PASSED
    assert criterion.activity == "alias:python-301-final-exam"
    assert rules.activities_of(criterion) == frozenset({OLD_EXAM, NEW_EXAM})
    assert (criterion.min_score, criterion.success, criterion.completion, criterion.within_days) == (
        0.8,
        True,
        None,
        365,
    )


def test_example_other_rules():
    rules = load_rules(EXAMPLE)
    secure = rules.rule("secure-coding-practitioner")
    assert secure.credential == Credential(platform="certifier", id="01JC0GROUPSECURITY0000001")
    assert (secure.match, [c.key for c in secure.statements]) == ("all", ["injection", "authentication", "secrets"])
    assert rules.activities_of(secure.statements[0]) == frozenset(
        {
            "https://lms.example.com/courses/secure-coding/injection",
            "https://lxp.example.com/activities/sc-injection",
        }
    )
    assert rules.activities_of(secure.statements[1]) == frozenset(
        {"https://lxp.example.com/activities/sc-authentication"}
    )

    a11y = rules.rule("accessibility-champion")
    assert a11y.credential == Credential(platform="badgr", id="Bc7Dd8Ee9Ff0Gg1Hh2Ii3J")
    assert (a11y.match, len(a11y.statements)) == ("any", 2)
    assert a11y.statements[1].verb == ADL + "mastered"

    ready = rules.rule("python-ready")
    assert ready.credential == Credential(platform="accredible", id="771002")  # a TOML integer, as text
    assert ready.kind == "report" and ready.statements == ()
    assert [(c.key, c.report, c.field, c.min, c.max, c.equals) for c in ready.report] == [
        ("courses", "python-readiness", "courses_completed", 3, None, None),
        ("exam", "python-readiness", "exam_score", 0.8, None, None),
    ]
    assert rules.report_ids() == ["python-readiness"]


def test_verbs_are_the_statement_criteria_verb_iris():
    assert load_rules(EXAMPLE).verbs() == [ADL + "completed", ADL + "mastered", PASSED]


@pytest.mark.parametrize("name", ["passed", "completed", "mastered", "scored", "attended", "Passed"])
def test_short_verb_names_are_adl_verbs(name):
    rules = parse_rules(rule_toml(f'[[rules.statements]]\nverb = "{name}"'))
    assert rules.rule("r1").statements[0].verb == ADL + name.lower()


def test_verb_iri_is_kept_as_written():
    verb = "https://w3id.org/xapi/tla/verbs/achieved"
    rules = parse_rules(rule_toml(f'[[rules.statements]]\nverb = "{verb}"'))
    assert rules.verbs() == [verb]


def test_criterion_without_activity_accepts_any_and_plain_iri_is_one_activity():
    rules = parse_rules(
        rule_toml(
            '[[rules.statements]]\nverb = "passed"\n'
            '[[rules.statements]]\nverb = "completed"\nactivity = "https://lxp.example.com/a"'
        )
    )
    first, second = rules.rule("r1").statements
    assert rules.activities_of(first) is None
    assert rules.activities_of(second) == frozenset({"https://lxp.example.com/a"})


def test_positional_and_explicit_keys():
    rules = parse_rules(
        rule_toml(
            '[[rules.statements]]\nverb = "passed"\n'
            '[[rules.statements]]\nverb = "completed"\nkey = "module-2"\n'
            '[[rules.statements]]\nverb = "attended"'
        )
        + rule_toml('[[rules.report]]\nfield = "a"\nmin = 1\n[[rules.report]]\nfield = "b"\nequals = "yes"', "r2")
    )
    assert [c.key for c in rules.rule("r1").criteria] == ["s0", "module-2", "s2"]
    assert [c.key for c in rules.rule("r2").criteria] == ["r0", "r1"]
    assert rules.rule("r1").criterion("module-2").verb == ADL + "completed"


def test_alias_may_be_a_single_iri():
    rules = parse_rules(
        '[aliases]\nexam = "https://lms.example.com/exam"\n'
        + rule_toml('[[rules.statements]]\nverb = "passed"\nactivity = "alias:exam"')
    )
    assert rules.activities_of(rules.rule("r1").statements[0]) == frozenset({"https://lms.example.com/exam"})


@pytest.mark.parametrize(
    "platform, credential_id",
    [
        ("credly", CREDLY_TEMPLATE),
        ("certifier", "01JC0GROUPSECURITY0000001"),
        ("badgr", "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J"),
        ("accredible", "771001"),
    ],
)
def test_each_platform_id_format_is_accepted(platform, credential_id):
    rules = parse_rules(
        rule_toml(
            '[[rules.statements]]\nverb = "passed"', credential=f'{{ platform = "{platform}", id = "{credential_id}" }}'
        )
    )
    assert rules.rule("r1").credential == Credential(platform=platform, id=credential_id)


def test_credly_template_id_is_normalised_to_lower_case():
    rules = parse_rules(
        rule_toml(
            '[[rules.statements]]\nverb = "passed"',
            credential=f'{{ platform = "credly", id = "{CREDLY_TEMPLATE.upper()}" }}',
        )
    )
    assert rules.rule("r1").credential.id == CREDLY_TEMPLATE


@pytest.mark.parametrize(
    "platform, credential_id, fragment",
    [
        ("credly", "python-expert", "UUID"),
        ("accredible", "pm-essentials", "number"),
        ("certifier", "01JC0 GROUP", "letters, digits"),
        ("badgr", "https://api.badgr.io/public/badges/Bc7Dd8Ee9Ff0Gg1Hh2Ii3J", "not a URL"),
    ],
)
def test_platform_id_format_is_checked(platform, credential_id, fragment):
    [issue] = issues_of(
        rule_toml(
            '[[rules.statements]]\nverb = "passed"', credential=f'{{ platform = "{platform}", id = "{credential_id}" }}'
        )
    )
    assert (issue.rule, issue.field) == ("r1", "credential.id")
    assert fragment in issue.message


@pytest.mark.parametrize(
    "value, ok",
    [
        ("https://lms.example.com/courses/python-301/final-exam", True),
        ("urn:uuid:2d8e3f40-5b6c-4d7e-9f01-1b2c3d4e5f60", True),
        ("lms.example.com/courses/x", False),
        ("/courses/x", False),
        ("https://lms.example.com/a b", False),
        ("https:/lms.example.com/x", False),
        ("https://", False),
    ],
)
def test_iri_problem(value, ok):
    assert (iri_problem(value) is None) is ok


# --- every problem, with its rule and field ---------------------------------------------------

BROKEN = """
[aliases]
python-301-final-exam = ["https://lms.example.com/courses/python-301/final-exam", "lxp.example.com/py301-exam"]

[[rules]]
id = "python-expert"
name = "Python Expert"
credential = { platform = "udemy", id = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b" }
[[rules.statements]]
verb = "passed"
activity = "alias:python-301-exam"
min_score = 1.5
min_scor = 0.8

[[rules]]
id = "both-kinds"
name = "Both"
credential = { platform = "certifier", id = "01JC0GROUPSECURITY0000001" }
[[rules.statements]]
verb = "pased"
activity = "lms/courses/x"
within_days = 0
[[rules.report]]
field = "exam_score"

[[rules]]
id = "python-expert"
name = "Duplicate"
match = "most"
credential = { platform = "badgr", id = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J" }
[[rules.statements]]
verb = "completed"

[[rules]]
id = "No Criteria"
name = "Neither"
credential = { platform = "accredible", id = 771002 }
"""

EXPECTED = [
    (None, "aliases.python-301-final-exam[1]", "not an absolute IRI"),
    ("python-expert", "credential.platform", "'credly', 'certifier', 'badgr' or 'accredible', not 'udemy'"),
    ("python-expert", "statements[0].activity", "unknown alias 'python-301-exam'"),
    ("python-expert", "statements[0].min_score", "at most 1"),
    ("python-expert", "statements[0].min_scor", "unknown key"),
    ("both-kinds", "statements[0].verb", "unknown verb 'pased'"),
    ("both-kinds", "statements[0].activity", "not an absolute IRI"),
    ("both-kinds", "statements[0].within_days", "at least 1"),
    ("both-kinds", "", "both statements and report criteria"),
    ("both-kinds", "report[0]", "give a threshold"),
    ("#3", "match", "'all' or 'any', not 'most'"),
    ("#3", "id", "duplicate rule id 'python-expert' (first used by rule #1)"),
    ("#4", "id", "slug"),
    ("#4", "", "has no criteria"),
]


def test_every_problem_is_reported_with_its_rule_and_field():
    issues = issues_of(BROKEN)
    found = [(i.rule, i.field, i.message) for i in issues]
    for rule, field, fragment in EXPECTED:
        assert any(r == rule and f == field and fragment in m for r, f, m in found), (rule, field, fragment, found)
    assert len(issues) == len(EXPECTED), found


def test_validate_command_lists_every_problem(tmp_path):
    path = write(tmp_path, BROKEN)
    code, lines = validate_command(path)
    assert code == 1
    assert lines[-1] == f"{path}: {len(EXPECTED)} problems"
    problems = lines[:-1]
    assert len(problems) == len(EXPECTED)
    assert (
        "aliases.python-301-final-exam[1]: not an absolute IRI (it needs a scheme such as https://): "
        "'lxp.example.com/py301-exam'" in problems
    )
    assert "rule python-expert: statements[0].min_score: must be at most 1 (got 1.5)" in problems
    assert "rule #3: id: duplicate rule id 'python-expert' (first used by rule #1)" in problems
    assert "rule both-kinds: statements[0].min_score" not in "\n".join(problems)
    rule_lines = [line for line in problems if line.startswith("rule ")]
    assert len(rule_lines) == len(EXPECTED) - 1
    for line in rule_lines:
        assert re.match(r"^rule (#\d+|[a-z0-9-]+): ", line), line


def test_problems_within_one_criterion_and_across_criteria_are_all_reported():
    issues = issues_of(
        rule_toml(
            '[[rules.statements]]\nverb = "http://adlnet.gov/expapi/verbs/voided"\nmin_score = -0.1\n'
            'success = "yes"\nwithin_days = 30.5\n'
            '[[rules.statements]]\nkey = "s0"\nverb = "passed"\ncompletion = 1'
        )
    )
    assert sorted((i.field, i.message.split(" (")[0]) for i in issues) == sorted(
        [
            ("statements[0].verb", "voiding statements never match a criterion: use another verb"),
            ("statements[0].min_score", "must be at least 0"),
            ("statements[0].success", "input should be a valid boolean"),
            ("statements[0].within_days", "input should be a valid integer"),
            ("statements[1].completion", "input should be a valid boolean"),
            ("statements[1].key", "duplicate criterion key 's0'"),
        ]
    )
    assert {i.rule for i in issues} == {"r1"}


@pytest.mark.parametrize(
    "criterion, fragment",
    [
        ('field = "a"', "give a threshold"),
        ('field = "a"\nequals = 3\nmin = 1', "equals cannot be combined"),
        ('field = "a"\nmin = 5\nmax = 1', "greater than max"),
    ],
)
def test_report_thresholds_are_checked(criterion, fragment):
    [issue] = issues_of(rule_toml(f"[[rules.report]]\n{criterion}"))
    assert (issue.rule, issue.field) == ("r1", "report[0]")
    assert fragment in issue.message


@pytest.mark.parametrize(
    "criterion",
    [
        'field = "a"\nmin = 1\nmax = 5',
        'field = "a"\nmax = 0.5',
        'field = "a"\nequals = true',
        'field = "a"\nequals = "done"',
    ],
)
def test_report_thresholds_accepted(criterion):
    parse_rules(rule_toml(f"[[rules.report]]\n{criterion}"))


def test_unknown_keys_at_every_level():
    issues = issues_of(
        "version = 1\n"
        + rule_toml(
            'colour = "red"\n[[rules.statements]]\nverb = "passed"\n'
            '[[rules.report]]\nfield = "a"\nmin = 1\nfeild = "b"',
            credential='{ platform = "credly", id = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b", url = "x" }',
        )
    )
    fields = {(i.rule, i.field) for i in issues if "unknown key" in i.message}
    assert fields == {(None, "version"), ("r1", "colour"), ("r1", "credential.url"), ("r1", "report[0].feild")}
    both = [i for i in issues if "unknown key" not in i.message]
    assert [(i.rule, i.field) for i in both] == [("r1", "")]  # statements and report in one rule


def test_rules_written_as_one_table_or_missing():
    [issue] = issues_of('[rules]\nid = "x"')
    assert (issue.field, issue.message) == ("rules", "must be an array of tables: write [[rules]]")
    [issue] = issues_of('[aliases]\na = ["https://x.example/a"]')
    assert issue.field == "rules" and "no [[rules]]" in issue.message
    [issue] = issues_of(rule_toml('[rules.statements]\nverb = "passed"'))
    assert (issue.rule, issue.field) == ("r1", "statements")
    assert "[[rules.statements]]" in issue.message


def test_bad_toml_names_line_and_column(tmp_path):
    path = write(tmp_path, '[[rules]]\nid = "x"\nname = = "y"\n')
    code, lines = validate_command(path)
    assert code == 1
    assert lines[0].startswith("line 3, column 8: invalid TOML: ")
    assert lines[1] == f"{path}: 1 problem"


def test_unreadable_file_exits_2(tmp_path):
    code, lines = validate_command(tmp_path / "missing.toml")
    assert code == 2
    assert lines == [f"error: {tmp_path / 'missing.toml'}: No such file or directory"]
    with pytest.raises(RulesFileUnreadable):
        load_rules(tmp_path / "missing.toml")


def test_load_rules_error_carries_every_issue(tmp_path):
    path = write(tmp_path, BROKEN)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert len(caught.value.issues) == len(EXPECTED)
    assert str(caught.value).startswith(f"{path}: {len(EXPECTED)} problems: ")


def test_valid_file_summary(tmp_path):
    path = write(tmp_path, rule_toml('[[rules.statements]]\nverb = "passed"'))
    assert validate_command(path) == (0, ["1 rule, 1 criterion, 0 aliases: OK"])


def test_models_check_consistency_when_built_directly():
    credential = {"platform": "credly", "id": CREDLY_TEMPLATE}
    with pytest.raises(ValidationError, match="unknown alias 'nope'"):
        RuleSet.model_validate(
            {
                "rules": [
                    {
                        "id": "a",
                        "name": "A",
                        "credential": credential,
                        "statements": [{"verb": "passed", "activity": "alias:nope"}],
                    }
                ]
            }
        )
    with pytest.raises(ValidationError, match="has no criteria"):
        RuleSet.model_validate({"rules": [{"id": "a", "name": "A", "credential": credential}]})
    with pytest.raises(ValidationError, match="duplicate rule id 'a'"):
        rule = {"id": "a", "name": "A", "credential": credential, "statements": [{"verb": "passed"}]}
        RuleSet.model_validate({"rules": [rule, rule]})
    with pytest.raises(ValidationError, match="give a threshold"):
        RuleSet.model_validate(
            {"rules": [{"id": "a", "name": "A", "credential": credential, "report": [{"field": "x"}]}]}
        )


def test_the_models_alone_report_every_problem_at_its_location():
    with pytest.raises(ValidationError) as caught:
        RuleSet.model_validate(tomllib.loads(BROKEN))
    errors = caught.value.errors()
    assert len(errors) == len(EXPECTED)
    assert {
        ("aliases", "python-301-final-exam", 1),
        ("rules", 0, "statements", 0, "activity"),  # the unknown alias
        ("rules", 1),  # statements and report in one rule
        ("rules", 1, "report", 0),  # no threshold, next to the rule's field errors
        ("rules", 2, "id"),  # the duplicate id
        ("rules", 3),  # no criteria
    } <= {tuple(e["loc"]) for e in errors}
