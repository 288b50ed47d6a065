"""The report's pure parts: reading statements, the ledger, the answers, the renderers, memory."""

from __future__ import annotations

import csv
import io
import random
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.commands.report import window_from
from chalicelib.errors import ConnectorError
from chalicelib.events import Kind
from chalicelib.report import facts, render_csv, render_text, svg
from chalicelib.report.answers import Options, Table
from chalicelib.report.collect import build_report
from chalicelib.report.facts import StatementReader
from chalicelib.report.history import LrsHistory
from chalicelib.report.ledger import Ledger, Window
from chalicelib.report.preceding import PrecedingActivities
from chalicelib.xapi import vocabulary as v
from tests.support.report_history import (
    ACTIVITIES,
    COMPLETED,
    EXPERIENCED,
    FUNNEL,
    HEADCOUNTS,
    HELD,
    VOCAB,
    History,
    expiring_rows,
    skills_rows,
    varied_history,
)

UTC = UTC
RANGE_2011 = Window(datetime(2011, 1, 1, tzinfo=UTC), datetime(2012, 1, 1, tzinfo=UTC))


class MemorySource:
    """An LRS in a list: voided statements hidden from queries, found by their id; newest first."""

    def __init__(self, statements: list[dict], newest_first: bool = True) -> None:
        voided = {s["object"]["id"] for s in statements if s["verb"]["id"] == v.VERB_VOIDED}
        self.visible = [s for s in statements if s["id"] not in voided]
        self.hidden = {s["id"]: s for s in statements if s["id"] in voided}
        self.newest_first = newest_first

    def statements(self, verbs: Iterable[str]) -> Iterator[dict]:
        ordered = list(reversed(self.visible)) if self.newest_first else self.visible
        for verb in verbs:
            yield from (s for s in ordered if s["verb"]["id"] == verb)

    def voided(self, statement_ids: Iterable[str]) -> Iterator[dict]:
        return (self.hidden[i] for i in statement_ids if i in self.hidden)


def answers(
    statements: list[dict], options: Options = Options(headcounts=HEADCOUNTS), newest_first: bool = True
) -> dict[str, list[tuple]]:
    source = MemorySource(statements, newest_first)
    return {t.name: t.rows for t in build_report(source, VOCAB, RANGE_2011, options)}


# -- the answers, without HTTP -----------------------------------------------------------------


@pytest.mark.parametrize("order", ["newest first", "oldest first", "shuffled", "repeated"])
def test_every_answer_of_the_varied_history(order):
    """The same figures whatever order the LRS answers in, and if it answers an earning twice."""
    history = varied_history()
    statements = list(history.statements)
    if order == "shuffled":  # a revocation may come before its credential
        random.Random(7).shuffle(statements)
    if order == "repeated":  # an earning read again (LrsClient.query() answers each statement once per verb)
        statements = statements + [s for s in statements if s["verb"]["id"] == v.VERBS[Kind.ISSUED][0]]
    found = answers(statements, newest_first=order != "oldest first")
    fay = facts.learner_label(history.agent(history.learners["fay"]))
    assert found == {
        "held_by_team_role": HELD,
        "skills_by_team": skills_rows(),
        "share_funnel": FUNNEL,
        "activities_before_earning": ACTIVITIES,
        "expiring": expiring_rows(fay),
    }


def test_options_shape_the_answers():
    history = varied_history()
    found = answers(history.statements, Options(before_days=10, expiring_days=35, top=1, include_emails=True))
    # 10 days: Cy's AWS Basics (10 days before), Hal's (5 days before his renewal); Dee's, Eve's and
    # Ivy's (before her second credential) workshops; Ada's, Bob's and Mallory's exams.
    assert found["activities_before_earning"] == [
        ("Cloud Architect", 6, 1, "AWS Basics", 2, 7),
        ("Data Literacy", 4, 1, "SQL Workshop", 3, 5),
        ("Python Expert", 5, 1, "Python Exam", 3, 5),
    ]
    assert [(row[1], row[4], row[5]) for row in found["expiring"]] == [
        ("Hal Abelson", 4, history.learners["hal"].email),
        ("Cy Young", 19, history.learners["cy"].email),
        ("Bob Kahn", 31, history.learners["bob"].email),
    ]


def test_a_credential_voided_after_the_range_was_held_at_its_end():
    history = History()
    gus = history.learner("gus", "Gus", "Sales", "Rep")
    history.credential(Kind.ISSUED, 1, gus, "C", "2011-07-10")
    history.void(1, "2012-02-01")
    assert answers(history.statements)["held_by_team_role"] == [("Sales", "Rep", 1, 1)]
    history.void(1, "2011-12-31")  # ... and voided again within it (a second voiding): not held
    assert answers(history.statements)["held_by_team_role"] == []


def test_the_range_includes_its_start_and_excludes_its_end():
    history = History()
    ada = history.learner("ada", "Ada", "T", "R")
    history.credential(Kind.ISSUED, 1, ada, "A", "2011-01-01")  # at the start: in
    history.credential(Kind.ISSUED, 2, ada, "B", "2012-01-01")  # at the end: out
    assert answers(history.statements)["held_by_team_role"] == [("T", "R", 1, 1)]


def test_preceding_activities_ignore_other_verbs_and_the_connectors_statements():
    history = History()
    ada = history.learner("ada", "Ada", "T", "R")
    history.credential(Kind.ISSUED, 1, ada, "A", "2011-03-10")
    history.activity(EXPERIENCED, ada, "Video", "2011-03-01")
    history.activity(COMPLETED, ada, "Lookalike", "2011-03-01", recipe=True)
    ledger = Ledger(StatementReader(VOCAB), RANGE_2011)
    for statement in history.statements:
        ledger.add(statement)
    preceding = PrecedingActivities(ledger.earned_in_range(), 30)
    for statement in history.statements:
        preceding.add(statement)
    assert preceding.counts == {} and preceding.earners == {
        history.badge_iri("A"): {facts.actor_key(history.agent(ada))}
    }


# -- reading one statement ---------------------------------------------------------------------


def test_facts_read_defensively():
    reader = StatementReader(VOCAB)
    odd = {
        "actor": "nobody",
        "verb": [],
        "object": None,
        "context": {
            "extensions": {VOCAB.ext_team: {"not": "text"}, VOCAB.ext_skills: "python", v.SHARE_MEDIUM_EXTENSION: 7}
        },
    }
    assert (reader.team(odd), reader.job_role(odd), reader.skills(odd)) == ("unknown", "unknown", ())
    assert (facts.verb_id(odd), facts.channel(odd), facts.actor_key(odd["actor"])) == ("", "unknown", None)
    assert reader.expires_at({"result": {"extensions": {VOCAB.ext_expires_at: "2012-01-02"}}}) == datetime(
        2012, 1, 2, tzinfo=UTC
    )
    assert reader.expires_at({"context": {"extensions": {VOCAB.ext_expires_at: "soon"}}}) is None


def test_a_learner_without_a_name_is_a_hash_never_the_email():
    agent = {"mbox": "mailto:Eve@Example.com"}
    label = facts.learner_label(agent)
    assert label.startswith("learner-") and "example" not in label.lower()
    assert label == facts.learner_label({"mbox": "mailto:eve@example.com"})  # one learner, one label
    assert facts.learner_email(agent) == "Eve@Example.com"


# -- range and rendering -----------------------------------------------------------------------


def test_the_window_from_the_command_line():
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert window_from(None, None, now) == Window(now - timedelta(days=365), now)
    assert window_from("2011-01-01", "2011-12-31", now) == RANGE_2011  # a date: until the end of that day
    assert window_from(None, "2011-06-01T12:00:00Z", now).until == datetime(2011, 6, 1, 12, tzinfo=UTC)
    for since, until in (("yesterday", None), (None, "2011-02-30"), ("2012-01-01", "2011-12-31")):
        with pytest.raises(ConnectorError):
            window_from(since, until, now)


def test_the_text_grid_aligns_and_neutralises_control_characters():
    lines = list(render_text.grid(("team", "n", "gap"), [("Data", 12, None), ("\x1b[31mRed", 3, "missing")]))
    assert lines == ["team       n  gap", "--------  --  -------", "Data      12  -", "?[31mRed   3  missing"]


def test_csv_quotes_formulas_and_leaves_empty_cells(tmp_path: Path):
    table = Table("t", "T", "note", ("team", "n", "gap"), [("=1+1", 2, None), ("@cmd", 0, "missing")])
    (path,) = render_csv.write([table], tmp_path / "out")
    assert list(csv.reader(io.StringIO(path.read_text()))) == [
        ["team", "n", "gap"],
        ["'=1+1", "2", ""],
        ["'@cmd", "0", "missing"],
    ]


def test_svg_escapes_every_label_and_draws_something_when_empty():
    evil = '<script>alert("x")</script>&'
    charts = [
        svg.hbars([(evil, 3)], evil),
        svg.columns([evil], [evil], {(evil, evil): 2}, evil),
        svg.heatmap([evil], [evil, "ok"], {(evil, "ok"): 1}, evil, evil),
        svg.empty(evil),
    ]
    for chart in charts:
        assert "<script" not in chart and 'alert("x")' not in chart and "&amp;" in chart
        assert chart.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<rect" in chart


@pytest.mark.parametrize(("value", "step"), [(0, 1), (3, 1), (4, 1), (5, 2), (9, 5), (40, 10), (1234, 500)])
def test_axis_steps_are_whole_and_round(value, step):
    assert svg.nice_step(value) == step


# -- reading the LRS: pages, progress, bounded memory --------------------------------------------


class PagedLrs:
    def __init__(self, statements: list[dict]) -> None:
        self.statements, self.calls = statements, []

    def query(self, **params):
        self.calls.append(params)
        yield from (s for s in self.statements if s["verb"]["id"] == params.get("verb"))


def test_the_history_asks_for_pages_of_the_given_size_and_reports_progress():
    progress = io.StringIO()
    statements = [{"verb": {"id": COMPLETED}}] * 2500
    history = LrsHistory(PagedLrs(statements), page_size=50, progress=progress)  # type: ignore[arg-type]
    assert sum(1 for _ in history.statements([COMPLETED, EXPERIENCED])) == 2500
    history.finish()
    assert history.lrs.calls == [{"verb": COMPLETED, "limit": 50}, {"verb": EXPERIENCED, "limit": 50}]
    assert "read 2,000 statements..." in progress.getvalue() and progress.getvalue().endswith(
        "read 2,500 statement(s)\n"
    )


class GeneratedSource:
    """200 earners, then `activities` learning statements made one at a time, never kept."""

    def __init__(self, activities: int) -> None:
        self.activities = activities
        self.history = History("mem")
        self.learners = [self.history.learner(f"l{i}", f"L {i}", f"T{i % 7}", "R") for i in range(200)]

    def statements(self, verbs: Iterable[str]) -> Iterator[dict]:
        verbs = set(verbs)
        if v.VERBS[Kind.ISSUED][0] in verbs:
            for number, learner in enumerate(self.learners):
                self.history.statements.clear()
                self.history.credential(Kind.ISSUED, number, learner, "A", "2011-06-15")
                yield self.history.statements[0]
        if COMPLETED in verbs:
            for index in range(self.activities):
                self.history.statements.clear()
                day = f"2011-{1 + index % 11:02d}-{1 + index % 28:02d}"
                self.history.activity(COMPLETED, self.learners[index % 200], f"Course {index % 20}", day)
                yield self.history.statements[0]

    def voided(self, statement_ids: Iterable[str]) -> Iterator[dict]:
        return iter(())


def peak_memory(activities: int) -> int:
    tracemalloc.start()
    try:
        build_report(GeneratedSource(activities), VOCAB, RANGE_2011, Options())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_follows_the_aggregates_not_the_statements():
    small, large = peak_memory(5_000), peak_memory(50_000)
    # 45,000 more statements of about 1 kB each would be some 45 MB if they were kept.
    assert large - small < 1_000_000, (small, large)


def test_learners_sharing_one_assertion_url_keep_their_own_credentials():
    history = History()
    ada, bob = history.learner("ada", "Ada", "T", "R"), history.learner("bob", "Bob", "T", "R")
    history.credential(Kind.ISSUED, 1, ada, "A", "2011-03-10")
    history.credential(Kind.ISSUED, 1, bob, "A", "2011-03-11")  # same URL, another learner
    history.credential(Kind.EXPIRED, 1, bob, "A", "2011-04-01")
    assert answers(history.statements)["held_by_team_role"] == [("T", "R", 1, 1)]


class IgnoringLrs:
    """An LRS that ignores voidedStatementId and statementId (a page of other statements)."""

    def __init__(self, voided: dict[str, dict | None]) -> None:
        self.voided, self.queries = voided, []  # id -> the statement it shows by id (None: hidden)

    def look_up(self, statement_id: str, voided: bool):
        from chalicelib.xapi.lrs import FilterIgnored

        raise FilterIgnored("voidedStatementId" if voided else "statementId", {"statements": []})

    def query(self, **params):
        self.queries.append(params)
        yield from (
            {"id": f"v-{i}", "verb": {"id": v.VERB_VOIDED}, "object": {"objectType": "StatementRef", "id": i}}
            for i in self.voided
        )

    def statement(self, statement_id: str, voided: bool = False):
        return self.voided.get(statement_id)


def test_statements_voided_after_the_range_cost_one_read_where_the_lrs_ignores_the_filter():
    lrs = IgnoringLrs({"a": {"id": "a"}, "b": None})
    progress = io.StringIO()
    history = LrsHistory(lrs, page_size=1000, progress=progress)  # type: ignore[arg-type]
    assert list(history.voided(["a", "b", "a"])) == [{"id": "a"}]
    assert lrs.queries == [{"verb": v.VERB_VOIDED}]  # the voiding statements, read once for the run
    history.finish()
    assert "1 statement(s) voided after the range could not be read" in progress.getvalue()  # b: hidden


def test_a_renewal_after_a_revocation_is_held_and_a_revocation_after_the_range_does_not_count():
    history = History()
    kim, jo = history.learner("kim", "Kim", "Sales", "Rep"), history.learner("jo", "Jo", "Data", "Analyst")
    history.credential(Kind.ISSUED, 1, kim, "B", "2011-06-01")
    history.credential("revoked", 1, kim, "B", "2011-06-15")
    history.credential(Kind.ISSUED, 1, kim, "B", "2011-09-01")
    history.credential(Kind.ISSUED, 2, jo, "A", "2011-09-10")
    history.credential("revoked", 2, jo, "A", "2012-01-10")
    for newest_first in (True, False):
        found = answers(history.statements, newest_first=newest_first)
        assert found["held_by_team_role"] == [("Data", "Analyst", 1, 1), ("Sales", "Rep", 1, 1)]
        assert [row[:4] for row in found["share_funnel"]] == [
            ("2011-09", "Cloud Architect", "(all)", 1),
            ("2011-09", "Python Expert", "(all)", 1),
        ]
