"""The answers beyond the five (report --add, --who-*) and the filters, on a small hand-built
history whose figures are worked out by hand in the comments."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.events import Kind
from chalicelib.report import render_csv, render_html, render_text
from chalicelib.report.answers import Options, Table
from chalicelib.report.cohorts import partial_months
from chalicelib.report.collect import build_report
from chalicelib.report.extra import ADDABLE, More
from chalicelib.report.filters import Filters
from chalicelib.report.ledger import Window
from chalicelib.report.searches import SEARCH_VERBS, query_of
from tests.support.paths import FIXTURE_DIR
from tests.support.report_history import COMPLETED, VOCAB, History, at

UTC = UTC
RANGE_2011 = Window(datetime(2011, 1, 1, tzinfo=UTC), datetime(2012, 1, 1, tzinfo=UTC))
SEARCHES = json.loads((FIXTURE_DIR / "lxp" / "searched_statements.json").read_text())
NEW_ANSWERS = (
    "who",
    "credentials_by_role",
    "roles_by_credential",
    "share_cohorts",
    "activity_lift",
    "searches_by_skill",
)


def searched(history: History, learner_key: str, fixture: int, day: str) -> None:
    """The fixture's searched statement `fixture`, made by one of the history's learners on `day`."""
    statement = copy.deepcopy(SEARCHES[fixture]["statement"])
    statement.update(id=str(uuid.uuid4()), actor=history.agent(history.learners[learner_key]), timestamp=at(day))
    history.statements.append(statement)


PEOPLE = [
    ("ada", "Ada Lovelace", "Platform", "Engineer"),
    ("bob", "Bob Kahn", "Platform", "Engineer"),
    ("cy", "Cy Young", "Platform", "Manager"),
    ("dee", "Dee Hock", "Data", "Analyst"),
    ("eve", "Eve Arden", "Data", "Analyst"),
    ("fay", "Fay Wray", "Platform", "Engineer"),
    ("gus", "Gus Grissom", "Platform", "Engineer"),
    ("zed", "Zed Nobody", "Other", "Other"),
]


def answers_history() -> History:
    """Skills: A Python Expert (python, testing), B Cloud Architect (aws), C Data Literacy (sql, python)."""
    h = History()
    for key, name, team, role in PEOPLE:
        h.learner(key, name, team, role)
    ada, bob, cy, dee, eve, fay, gus = (h.learners[key] for key in ("ada", "bob", "cy", "dee", "eve", "fay", "gus"))
    issued = Kind.ISSUED
    h.credential(issued, 1, ada, "A", "2011-03-10")
    h.credential(issued, 2, bob, "A", "2011-03-20")
    h.credential(issued, 3, cy, "B", "2011-04-05", "2012-06-01")
    h.credential(issued, 4, dee, "C", "2011-04-10")
    h.credential(issued, 5, eve, "C", "2011-05-01")  # revoked: in no answer
    h.credential("revoked", 5, eve, "C", "2011-06-01")
    h.credential(issued, 6, cy, "A", "2010-06-01")  # earned before the range, held
    h.credential(issued, 7, ada, "B", "2011-06-01")
    h.credential(issued, 8, ada, "C", "2011-06-15")
    h.credential(issued, 9, fay, "B", "2011-08-01")
    h.credential(issued, 10, gus, "B", "2011-09-01")

    h.credential(Kind.ACCEPTED, 1, ada, "A", "2011-03-11")
    h.credential(Kind.ACCEPTED, 3, cy, "B", "2011-04-06")
    S, V = Kind.SHARED, Kind.VIEWED
    h.interaction(S, 1, ada, "A", "2011-03-12", "linkedin")
    h.interaction(S, 1, ada, "A", "2011-04-01", "linkedin")  # a month later: still March's cohort
    h.interaction(S, 1, ada, "A", "2011-03-13", "twitter")
    h.interaction(S, 2, bob, "A", "2011-03-21", "linkedin")
    for _ in range(3):
        h.interaction(V, 1, ada, "A", "2011-04-02", "linkedin", guest=True)
    h.interaction(V, 2, bob, "A", "2011-03-22", "linkedin", guest=True)
    h.interaction(V, 3, cy, "B", "2011-04-07", "email", guest=True)
    h.interaction(S, 6, cy, "A", "2011-03-05", "linkedin")  # a credential earned before the range
    h.interaction(S, 1, ada, "A", "2012-01-03", "linkedin")  # after the range

    # Python Expert: earners Ada (03-10) and Bob (03-20); non-earners of Platform: Fay, Gus (Cy
    # earned it in 2010); their window: the 30 days before the median earning, 03-10.
    for learner, name, day in (
        (ada, "Intro", "2011-02-20"),
        (bob, "Intro", "2011-03-01"),
        (fay, "Intro", "2011-03-01"),
        (gus, "Intro", "2011-02-25"),
        (ada, "Exam", "2011-03-05"),
        (bob, "Exam", "2011-03-15"),
        (ada, "Lab", "2011-03-01"),
        (fay, "Lab", "2011-03-05"),
        (ada, "Mentoring", "2011-03-02"),
        (gus, "Lab", "2011-04-15"),
    ):  # after the non-earners' window
        h.activity(COMPLETED, learner, name, day)

    searched(h, "ada", 0, "2011-05-01")  # pandas dataframes
    searched(h, "bob", 1, "2011-05-02")  # pandas dataframes
    searched(h, "bob", 1, "2011-05-09")  # again: Bob once, two searches
    searched(h, "dee", 2, "2011-05-03")  # sql joins
    searched(h, "cy", 3, "2011-05-04")  # terraform
    searched(h, "cy", 4, "2011-05-05")  # no query
    searched(h, "eve", 1, "2011-05-06")  # holds nothing
    searched(h, "zed", 1, "2011-05-06")  # holds nothing
    searched(h, "ada", 3, "2012-02-01")  # after the range
    return h


class ListSource:
    """The statements of a history as the LRS answers them by verb (nothing voided here)."""

    def __init__(self, statements: list[dict]) -> None:
        self.all = statements

    def statements(self, verbs: Iterable[str]) -> Iterator[dict]:
        for verb in verbs:
            yield from (s for s in self.all if s["verb"]["id"] == verb)

    def voided(self, statement_ids: Iterable[str]) -> Iterator[dict]:
        return iter(())


def tables(history: History, more: More, options: Options = Options()) -> dict[str, Table]:
    return {t.name: t for t in build_report(ListSource(history.statements), VOCAB, RANGE_2011, options, more)}


def rows(history: History, more: More, name: str, options: Options = Options()) -> list[tuple]:
    return tables(history, more, options)[name].rows


ALL = More(add=ADDABLE)


# -- who ---------------------------------------------------------------------------------------


def test_who_holds_a_skill_lists_each_credential_held_whenever_earned():
    history = answers_history()
    found = rows(history, More(who_skills=("Python",)), "who")
    assert found == [
        ("Ada Lovelace", "Platform", "Engineer", "Data Literacy", "2011-06-15", None),
        ("Ada Lovelace", "Platform", "Engineer", "Python Expert", "2011-03-10", None),
        ("Bob Kahn", "Platform", "Engineer", "Python Expert", "2011-03-20", None),
        ("Cy Young", "Platform", "Manager", "Python Expert", "2010-06-01", None),
        ("Dee Hock", "Data", "Analyst", "Data Literacy", "2011-04-10", None),  # Eve's was revoked
    ]


def test_who_holds_a_credential_by_name_and_emails_only_when_asked():
    history = answers_history()
    more = More(who_credentials=("cloud ARCHITECT",))
    assert rows(history, more, "who") == [
        ("Ada Lovelace", "Platform", "Engineer", "Cloud Architect", "2011-06-01", None),
        ("Cy Young", "Platform", "Manager", "Cloud Architect", "2011-04-05", "2012-06-01"),
        ("Fay Wray", "Platform", "Engineer", "Cloud Architect", "2011-08-01", None),
        ("Gus Grissom", "Platform", "Engineer", "Cloud Architect", "2011-09-01", None),
    ]
    with_emails = tables(history, more, Options(include_emails=True))["who"]
    assert with_emails.columns[-1] == "email"
    assert [row[-1] for row in with_emails.rows] == [history.learners[k].email for k in ("ada", "cy", "fay", "gus")]
    assert "who" not in tables(history, More())  # only when asked


# -- roles -------------------------------------------------------------------------------------


def test_credentials_per_job_role_and_roles_per_credential():
    found = tables(answers_history(), More(add=("roles",)))
    # Held: Engineers Ada (A, B, C), Bob (A), Fay (B), Gus (B); Manager Cy (A, B); Analyst Dee (C).
    assert found["credentials_by_role"].rows == [
        ("Analyst", "Data Literacy", 1, 100.0),
        ("Engineer", "Cloud Architect", 3, 75.0),
        ("Engineer", "Python Expert", 2, 50.0),
        ("Engineer", "Data Literacy", 1, 25.0),
        ("Manager", "Cloud Architect", 1, 100.0),
        ("Manager", "Python Expert", 1, 100.0),
    ]
    assert found["roles_by_credential"].rows == [
        ("Cloud Architect", "Engineer", 3, 75.0),
        ("Cloud Architect", "Manager", 1, 25.0),
        ("Data Literacy", "Analyst", 1, 50.0),
        ("Data Literacy", "Engineer", 1, 50.0),
        ("Python Expert", "Engineer", 2, 66.7),
        ("Python Expert", "Manager", 1, 33.3),
    ]


# -- cohorts -----------------------------------------------------------------------------------


COHORTS = [  # month, credential, channel, earned, learners, accepted %, shared %, shares, views, views/share, period
    ("2011-03", "(all credentials)", "(all)", 2, 2, 50.0, 100.0, 4, 4, 1.0, "whole"),
    ("2011-03", "Python Expert", "(all)", 2, 2, 50.0, 100.0, 4, 4, 1.0, "whole"),
    ("2011-03", "Python Expert", "linkedin", None, None, None, 100.0, 3, 4, 1.33, "whole"),
    ("2011-03", "Python Expert", "twitter", None, None, None, 50.0, 1, 0, 0.0, "whole"),
    ("2011-04", "(all credentials)", "(all)", 2, 2, 50.0, 0.0, 0, 1, None, "whole"),
    ("2011-04", "Cloud Architect", "(all)", 1, 1, 100.0, 0.0, 0, 1, None, "whole"),
    ("2011-04", "Cloud Architect", "email", None, None, None, 0.0, 0, 1, None, "whole"),
    ("2011-04", "Data Literacy", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-06", "(all credentials)", "(all)", 2, 1, 0.0, 0.0, 0, 0, None, "whole"),  # Ada twice: one learner
    ("2011-06", "Cloud Architect", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-06", "Data Literacy", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-08", "(all credentials)", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-08", "Cloud Architect", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-09", "(all credentials)", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
    ("2011-09", "Cloud Architect", "(all)", 1, 1, 0.0, 0.0, 0, 0, None, "whole"),
]


def test_cohort_rates_count_each_step_towards_the_month_earned():
    assert rows(answers_history(), More(add=("cohorts",)), "share_cohorts") == COHORTS


def test_cohorts_take_views_a_guest_made_for_the_earner_named_in_xapi2_context_agents():
    history = answers_history()
    for statement in history.statements:
        earner = statement.get("context", {}).get("extensions", {}).pop(VOCAB.ext_earner, None)
        if earner:
            statement["context"]["contextAgents"] = [
                {"objectType": "contextAgent", "agent": earner, "relevantTypes": [VOCAB.agent_type_earner]}
            ]
    assert rows(history, More(add=("cohorts",)), "share_cohorts") == COHORTS


@pytest.mark.parametrize(
    "since, until, cut",
    [
        ("2011-01-01", "2011-07-01", set()),
        ("2011-01-15", "2011-06-10", {"2011-01", "2011-06"}),
        ("2011-01-01T06:00:00", "2011-03-01", {"2011-01"}),
        ("2011-02-01", "2011-02-01T00:00:01", {"2011-02"}),
    ],
)
def test_the_months_the_range_cuts_are_partial(since, until, cut):
    window = Window(*(datetime.fromisoformat(t).replace(tzinfo=UTC) for t in (since, until)))
    assert partial_months(window) == cut


def test_a_cut_month_is_marked_partial_in_the_cohorts():
    history = answers_history()
    window = Window(datetime(2011, 3, 15, tzinfo=UTC), datetime(2011, 4, 8, tzinfo=UTC))
    found = build_report(ListSource(history.statements), VOCAB, window, Options(), More(add=("cohorts",)))
    cohorts = next(t for t in found if t.name == "share_cohorts").rows
    # Bob's (03-20) only in March, Cy's and its acceptance in April; Ada's April share is hers (03-10): out.
    assert [r for r in cohorts if r[2] == "(all)" and r[1] == "(all credentials)"] == [
        ("2011-03", "(all credentials)", "(all)", 1, 1, 0.0, 100.0, 1, 1, 1.0, "partial"),
        ("2011-04", "(all credentials)", "(all)", 1, 1, 100.0, 0.0, 0, 1, None, "partial"),
    ]


# -- lift --------------------------------------------------------------------------------------


def test_lift_ranks_what_only_earners_did_first_and_generic_courses_at_one():
    found = [r for r in rows(answers_history(), More(add=("lift",)), "activity_lift") if r[0] == "Python Expert"]
    assert found == [  # credential, earners, non-earners, rank, activity, earners %, non-earners %, lift
        ("Python Expert", 2, 2, 1, "Exam", 100.0, 0.0, None),
        ("Python Expert", 2, 2, 2, "Mentoring", 50.0, 0.0, None),  # fewer earners, but only earners
        ("Python Expert", 2, 2, 3, "Intro", 100.0, 100.0, 1.0),
        ("Python Expert", 2, 2, 4, "Lab", 50.0, 50.0, 1.0),  # Gus's Lab came after the window
    ]


def test_lift_compares_within_the_earners_teams_and_stops_at_top():
    found = rows(answers_history(), More(add=("lift",)), "activity_lift", Options(top=1))
    # Data Literacy: earners Dee (04-10) and Ada (06-15), teams Data and Platform; non-earners: every
    # learner of those teams who never earned it (Bob, Cy, Fay, Gus; Eve's was revoked but earned).
    assert [r[:4] for r in found if r[0] == "Data Literacy"] == []  # no activity before either earning
    assert [r for r in found if r[0] == "Python Expert"] == [("Python Expert", 2, 2, 1, "Exam", 100.0, 0.0, None)]


# -- searches ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SEARCHES, ids=[c["comment"][:30] for c in SEARCHES])
def test_the_query_is_read_where_each_tool_writes_it(case):
    assert query_of(case["statement"]) == case["query"]
    assert case["statement"]["verb"]["id"] in SEARCH_VERBS


def test_topics_searched_by_the_holders_of_each_skill():
    # Held skills: aws Ada, Cy, Fay, Gus; python Ada, Bob, Cy, Dee; testing Ada, Bob, Cy; sql Ada, Dee.
    assert rows(answers_history(), More(add=("searches",)), "searches_by_skill") == [
        ("aws", 4, 1, "pandas dataframes", 1, 1),
        ("aws", 4, 2, "terraform", 1, 1),
        ("python", 4, 1, "pandas dataframes", 2, 3),
        ("python", 4, 2, "sql joins", 1, 1),
        ("python", 4, 3, "terraform", 1, 1),
        ("testing", 3, 1, "pandas dataframes", 2, 3),
        ("testing", 3, 2, "terraform", 1, 1),
        ("sql", 2, 1, "pandas dataframes", 1, 1),
        ("sql", 2, 2, "sql joins", 1, 1),
    ]


def test_searches_are_read_only_when_asked():
    asked: list[str] = []

    class Counting(ListSource):
        def statements(self, verbs):
            verbs = list(verbs)
            asked.extend(verbs)
            return super().statements(verbs)

    build_report(Counting(answers_history().statements), VOCAB, RANGE_2011, Options(), ALL)
    assert set(SEARCH_VERBS) <= set(asked)
    asked.clear()
    build_report(Counting(answers_history().statements), VOCAB, RANGE_2011, Options(), More(add=("roles",)))
    assert not set(SEARCH_VERBS) & set(asked)


# -- filters -----------------------------------------------------------------------------------


def test_a_team_filter_applies_to_every_answer():
    history = answers_history()
    found = tables(history, More(add=ADDABLE, who_skills=("python",), filters=Filters(teams=("data",))))
    assert {r[0] for r in found["held_by_team_role"].rows} == {"Data"}
    assert found["who"].rows == [("Dee Hock", "Data", "Analyst", "Data Literacy", "2011-04-10", None)]
    assert found["credentials_by_role"].rows == [("Analyst", "Data Literacy", 1, 100.0)]
    assert [r[:5] for r in found["share_cohorts"].rows] == [
        ("2011-04", "(all credentials)", "(all)", 1, 1),
        ("2011-04", "Data Literacy", "(all)", 1, 1),
    ]
    assert [r[:2] for r in found["searches_by_skill"].rows] == [("python", 1), ("sql", 1)]
    assert found["activity_lift"].rows == []
    assert {r[2] for r in found["expiring"].rows} <= {"Data"}


def test_a_credential_filter_keeps_only_its_share_steps():
    history = answers_history()
    found = tables(history, More(filters=Filters(credentials=("Cloud Architect",))))
    # Cy's acceptance in April and the guest's view by email; no share of any other credential.
    assert [r for r in found["share_funnel"].rows if r[2] == "(all)"][:1] == [
        ("2011-04", "Cloud Architect", "(all)", 1, 1, 0, 1)
    ]
    assert {r[1] for r in found["share_funnel"].rows} == {"Cloud Architect"}


def test_a_skill_filter_keeps_that_skill_alone_and_filters_combine():
    history = answers_history()
    found = tables(history, More(add=("searches", "roles"), filters=Filters(skills=("SQL",))))
    assert found["searches_by_skill"].rows == [
        ("sql", 2, 1, "pandas dataframes", 1, 1),
        ("sql", 2, 2, "sql joins", 1, 1),
    ]
    both = tables(history, More(add=("roles",), filters=Filters(skills=("sql",), roles=("engineer",))))
    assert both["credentials_by_role"].rows == [("Engineer", "Data Literacy", 1, 100.0)]


# -- outputs -----------------------------------------------------------------------------------


def test_every_new_answer_reaches_text_csv_and_html(tmp_path):
    found = build_report(
        ListSource(answers_history().statements), VOCAB, RANGE_2011, Options(), More(add=ADDABLE, who_skills=("aws",))
    )
    new = [t for t in found if t.name in NEW_ANSWERS]
    assert [t.name for t in new] == list(NEW_ANSWERS)
    text = "\n".join(render_text.render(new, "range"))
    assert re.search(r"^2011-03\s+Python Expert\s+linkedin\s+-\s+-\s+-\s+100.0\s+3\s+4\s+1.33\s+whole$", text, re.M)
    written = render_csv.write(new, tmp_path)
    assert sorted(p.stem for p in written) == sorted(NEW_ANSWERS)
    assert "2011-03,Python Expert,linkedin,,,,100.0,3,4,1.33,whole" in (tmp_path / "share_cohorts.csv").read_text()
    page = render_html.page(new, "range")
    assert page.count("<svg") == len(NEW_ANSWERS) and "No chart for this answer" not in page
    assert '<td class="n">1.33</td>' in page
