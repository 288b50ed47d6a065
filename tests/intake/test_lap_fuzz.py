"""LAP evidence (POST /lap/statements, POST /lap/reports) against nasty inputs.

Properties checked:

- `check_statement` on the forwarded-statement fixture with one field (at any depth) replaced by
  a nasty value or removed, and on arbitrary JSON values: returns, or raises InputError; never
  anything else. A statement it accepts goes through the queue (JSON round trip) and the award
  worker's reading of it (rule matching, progress merging, learner lookup) raising nothing but
  the documented ConnectorError for a learner missing from the directory: what the route
  accepts never becomes a dead letter for a reason the route could have named.
- `parse_report_json` the same, on the report fixture and arbitrary JSON.
- `parse_report_csv` on generated CSV text (short and long rows, quotes, new lines, NUL, huge
  fields, numbers out of float range) and arbitrary text: InputError (naming "line N", the
  header or the report) or rows that pass the queue and the worker's reading.

Plus one regression test per bug found.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.awards.evaluate import apply_matches, merge_progress
from chalicelib.awards.inputs import check_statement, parse_report_csv, parse_report_json
from chalicelib.awards.rules import load_rules
from chalicelib.awards.worker import AwardWorker
from chalicelib.errors import ConnectorError, InputError
from chalicelib.identity import LearnerDirectory
from chalicelib.intake.http import read_json
from chalicelib.platforms.common import require_queueable
from chalicelib.queue import QueueMessage
from tests.support.helpers import DIRECTORY_CSV, REPO_ROOT
from tests.support.strategies import (
    HugeInt,
    fuzz,
    json_reachable,
    json_values,
    load_fixture,
    mutated,
    mutated_many,
)

pytestmark = pytest.mark.fuzz

NOW = datetime(2026, 11, 28, tzinfo=UTC)
RULES = load_rules(REPO_ROOT / "examples" / "award_rules.toml")
DIRECTORY = LearnerDirectory.from_csv(DIRECTORY_CSV)
WORKER = AwardWorker(RULES, store=None, directory=DIRECTORY, client_for=lambda name: None, queue=None)  # type: ignore[arg-type]
STATEMENT = load_fixture("lap/learninglocker_forwarded_statement.json")
REPORT = load_fixture("lap/report_rows.json")
LEARNER_NOT_FOUND = "LAP learner not found"


def through_the_worker(message: QueueMessage) -> None:
    """What the award worker does with an accepted message before it awards, after the queue
    (a JSON round trip, as the local outbox makes it)."""
    if not json_reachable(message.body):
        return  # an int only a Python caller can make: never queued
    queued = QueueMessage.model_validate_json(message.model_dump_json())
    matches, agent = WORKER._evidence(queued, NOW)
    try:
        learner = WORKER._learner(agent)
    except ConnectorError as error:
        assert str(error).startswith(LEARNER_NOT_FOUND), error
        return
    for outcome in apply_matches(RULES, matches, {}, NOW):
        stored = {key: at.isoformat() for key, at in outcome.progress.items()}  # as the store keeps it
        assert merge_progress(stored, {}) == outcome.progress
    assert learner.employee_id


def statement_accepted_or_refused(statement: object) -> None:
    try:
        require_queueable(statement, "[0]")  # as read_json checks the route's whole body first
        checked = check_statement(statement, "[0]")
    except InputError as error:
        assert error.field.startswith("[0]")
        return
    through_the_worker(QueueMessage(source="lap", body=checked))


def report_messages(report) -> list[QueueMessage]:
    """The messages POST /lap/reports queues for a parsed report (intake/lap.py)."""
    info = report.report.model_dump(exclude_none=True)
    return [
        QueueMessage(source="lap-report", body={"report": info, "row": row.model_dump(exclude_none=True)})
        for row in report.rows
    ]


def report_accepted_or_refused(parse, *args) -> None:
    try:
        if parse is parse_report_json:
            require_queueable(args[0])  # as read_json checks the route's whole body first
        report = parse(*args)
    except InputError:
        return
    for message in report_messages(report):
        through_the_worker(message)


# -- forwarded statements --------------------------------------------------------------------


def test_the_fixture_statement_is_accepted_and_matches():
    statement_accepted_or_refused(STATEMENT)
    assert WORKER._evidence(QueueMessage(source="lap", body=STATEMENT), NOW)[0]


@fuzz(600)
@given(mutated(STATEMENT))
def test_statement_with_one_mutated_field(statement):
    statement_accepted_or_refused(statement)


@fuzz(300)
@given(mutated_many(STATEMENT))
def test_statement_with_several_mutated_fields(statement):
    statement_accepted_or_refused(statement)


@fuzz(100)
@given(json_values())
def test_statement_any_json(value):
    statement_accepted_or_refused(value)


# -- report rows, JSON -----------------------------------------------------------------------


@fuzz(300)
@given(mutated(REPORT))
def test_report_json_with_one_mutated_field(data):
    report_accepted_or_refused(parse_report_json, data)


@fuzz(200)
@given(mutated_many(REPORT))
def test_report_json_with_several_mutated_fields(data):
    report_accepted_or_refused(parse_report_json, data)


@fuzz(100)
@given(json_values())
def test_report_json_any_json(value):
    report_accepted_or_refused(parse_report_json, value)


# -- report rows, CSV ------------------------------------------------------------------------

COLUMNS = ["email", "name", "employee_id", "account_name", "account_homepage", "courses_completed", "exam_score", ""]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "ada.lovelace@example.com",
            "E-2002",
            "4",
            "0.86",
            "1" * 400,
            "1" * 5000,
            "nan",
            "inf",
            "-1e400",
            "1_000",
            "\x00",
            '"',
            "a,b",
            "line\nbreak",
            "x" * 140_000,
            "true",
        ]
    ),
    st.text(max_size=20),
)


@st.composite
def csv_documents(draw) -> str:
    header = draw(st.lists(st.sampled_from(COLUMNS) | st.text(max_size=8), min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 2), max_size=4))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):  # damage it: cut it anywhere, or drop a quote
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", '"', "\n", "\r", "\x00"])) + text[cut:]
    return text


@fuzz(300)
@given(csv_documents())
def test_report_csv_generated(text):
    report_accepted_or_refused(parse_report_csv, text, "python-readiness")


@fuzz(100)
@given(st.text(max_size=200))
def test_report_csv_any_text(text):
    report_accepted_or_refused(parse_report_csv, text, "r")


# -- regressions -----------------------------------------------------------------------------


def _statement(**changes) -> dict:
    statement = load_fixture("lap/learninglocker_forwarded_statement.json")
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = statement
        for part in parents:
            target = target[part]
        target[last] = value
    return statement


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # b. timestamps that overflow in UTC crashed the award worker (OverflowError in parse_time)
        ({"timestamp": "0001-01-01T00:00:00+01:00"}, "[0].timestamp"),
        ({"timestamp": "9999-12-31T23:59:59-05:00"}, "[0].timestamp"),
        ({"stored": "9999-12-31T23:59:59-05:00"}, "[0].stored"),
        ({"timestamp": "yesterday"}, "[0].timestamp"),
        ({"timestamp": 1764000000}, "[0].timestamp"),
        # b. an account name that is a list: TypeError (unhashable) in LearnerDirectory.find_agent
        ({"actor__account__name": ["E-1001"]}, "[0].actor.account.name"),
        ({"actor__account__name": {"id": "E-1001"}}, "[0].actor.account.name"),
        ({"actor__account": ["E-1001"]}, "[0].actor.account"),
        ({"actor__mbox": ["mailto:ada.lovelace@example.com"]}, "[0].actor.mbox"),
        ({"actor__mbox": "ada.lovelace@example.com"}, "[0].actor.mbox"),
        ({"actor__mbox_sha1sum": {"sha1": "x"}}, "[0].actor.mbox_sha1sum"),
        # e. a scaled score beyond float range: OverflowError in the rules' number check
        ({"result__score__scaled": 10**400}, "[0].result.score.scaled"),
        ({"result__score__scaled": HugeInt(10**5000)}, "[0].result.score.scaled"),
        ({"result__score__scaled": 1.5}, "[0].result.score.scaled"),
        ({"result__score__scaled": math.nan}, "[0].result.score.scaled"),
    ],
)
def test_statement_that_could_never_be_used_is_refused_naming_the_field(changes, field):
    with pytest.raises(InputError) as refused:
        check_statement(_statement(**changes), "[0]")
    assert refused.value.field == field


def test_a_lone_surrogate_anywhere_in_a_statement_is_refused_where_the_route_reads_the_body():
    # e. the queue cannot encode the message (500 at the route): read_json checks the whole body
    statement = _statement(context__extensions={"https://x.example/e": "\ud800"})
    with pytest.raises(InputError) as refused:
        read_json(json.dumps([statement]).encode())
    assert refused.value.field == "[0].context.extensions.https://x.example/e"


@pytest.mark.parametrize(
    "changes",
    [
        {"timestamp": "0001-01-01T00:00:00-01:00"},  # in range once in UTC
        {"timestamp": None},
        {"result__score__scaled": "0.9"},  # not a number: no score for the rules, as before
        {"result__score__scaled": True},
        {"result": "passed"},
    ],
)
def test_statement_with_usable_or_ignored_values_is_accepted(changes):
    statement = check_statement(_statement(**changes))
    through_the_worker(QueueMessage(source="lap", body=statement))


@pytest.mark.parametrize(
    "agent",
    [
        {"account": {"homePage": "https://lms.example.com", "name": ["E-1001"]}},
        {"account": {"name": {"a": 1}}},
        {"account": {"name": 1001}},
        {"account": ["E-1001"]},
        {"mbox": ["mailto:ada.lovelace@example.com"]},
        {"mbox_sha1sum": 12},
        ["not", "an", "agent"],
        None,
    ],
)
def test_find_agent_never_raises_on_odd_types(agent):
    assert DIRECTORY.find_agent(agent) is None


def test_find_agent_still_finds_by_account_name():
    entry = DIRECTORY.find_agent({"account": {"homePage": "https://lms.example.com", "name": "E-1001"}})
    assert entry is not None and entry.email == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        # e. generated_at is read by the award worker: unreadable, it was a dead letter per row
        (lambda r: r["report"].update(generated_at="tomorrow"), "report.generated_at"),
        (lambda r: r["report"].update(generated_at="0001-01-01T00:00:00+01:00"), "report.generated_at"),
        # e. an int beyond float range: OverflowError when a rule compares it
        (lambda r: r["rows"][1]["values"].update(exam_score=10**400), "rows[1].values.exam_score"),
    ],
)
def test_report_json_that_could_never_be_used_is_refused_naming_the_field(mutate, field):
    report = load_fixture("lap/report_rows.json")
    mutate(report)
    with pytest.raises(InputError) as refused:
        parse_report_json(report)
    assert refused.value.field == field


def test_a_lone_surrogate_in_a_report_is_refused_where_the_route_reads_the_body():
    # e. the queue cannot encode the row: read_json checks the whole body before the report is read
    report = load_fixture("lap/report_rows.json")
    report["rows"][0]["learner"]["name"] = "Ada \ud800"
    with pytest.raises(InputError) as refused:
        read_json(json.dumps(report).encode())
    assert refused.value.field == "rows[0].learner.name"


def test_report_json_keeps_nan_as_no_number():
    report = load_fixture("lap/report_rows.json")
    report["rows"][0]["values"]["exam_score"] = math.nan
    for message in report_messages(parse_report_json(report)):
        through_the_worker(message)


def test_short_csv_row_has_empty_cells():
    # d. DictReader gives None for missing cells: AttributeError on .strip() (500)
    report = parse_report_csv("email,name,employee_id,courses_completed\nada.lovelace@example.com\n", "r")
    assert report.rows[0].learner.email == "ada.lovelace@example.com"
    assert report.rows[0].values == {}


def test_short_csv_row_without_learner_names_its_line():
    with pytest.raises(InputError) as refused:
        parse_report_csv("courses_completed,email\n4,ada.lovelace@example.com\n\n3\n", "r")
    assert refused.value.field == "line 4"


def test_csv_field_over_the_csv_limit_names_its_line():
    # d. csv.Error "field larger than field limit (131072)" was a 500
    text = "email,notes\nada.lovelace@example.com,short\ngrace.hopper@example.com," + "x" * 140_000 + "\n"
    with pytest.raises(InputError) as refused:
        parse_report_csv(text, "r")
    assert refused.value.field == "line 3"
    assert "field larger than field limit" in refused.value.message


def test_csv_header_over_the_csv_limit_names_line_1():
    with pytest.raises(InputError) as refused:
        parse_report_csv("email," + "x" * 140_000 + "\n", "r")
    assert refused.value.field == "line 1"


def test_csv_extra_cells_are_ignored():
    report = parse_report_csv("email,score\nada.lovelace@example.com,4,extra,cells\n", "r")
    assert report.rows[0].values == {"score": 4}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("4", 4),
        ("0.86", 0.86),
        ("1" * 400, "1" * 400),
        ("1" * 5000, "1" * 5000),
        ("nan", "nan"),
        ("-inf", "-inf"),
        ("1e400", "1e400"),
    ],
)
def test_csv_numbers_the_rules_cannot_compare_stay_text(cell, value):
    # e. "1"*400 became an int beyond float range: OverflowError when a rule compared it
    report = parse_report_csv(f"email,score\nada.lovelace@example.com,{cell}\n", "r")
    assert report.rows[0].values == {"score": value}
    for message in report_messages(report):
        through_the_worker(message)
