"""`report --add all --who-*` and the filters against the real LRS: the history of the unit tests
(credentials, shares, guests' views, completed activities and searches of four tools' shapes),
stored in an LRS of this module's own, read back a few statements a page."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from tests.report.test_answers import COHORTS, NEW_ANSWERS, answers_history
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ROOT = REPO
RANGE = ("--since", "2011-01-01", "--until", "2011-12-31")


@pytest.fixture(scope="module")
def lrs():
    from lrs_process import LrsProcess

    with LrsProcess() as process:
        yield process


@pytest.fixture(scope="module")
def history(lrs):
    history = answers_history()
    for start in range(0, len(history.statements), 50):
        answer = requests.post(
            lrs.statements_url,
            json=history.statements[start : start + 50],
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    return history


def report(lrs, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", *RANGE, *args],
        cwd=ROOT,
        env={**os.environ, "LRS_ENDPOINT": lrs.endpoint},
        capture_output=True,
        text=True,
        timeout=300,
    )


def csv_rows(folder: Path, name: str) -> list[list[str]]:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def cells(rows: list[tuple]) -> list[list[str]]:
    return [["" if value is None else str(value) for value in row] for row in rows]


@pytest.fixture(scope="module")
def everything(lrs, history, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("answers")
    answer = report(
        lrs,
        "--add",
        "all",
        "--who-skill",
        "python",
        "--page-size",
        "5",
        "--csv",
        str(folder),
        "--html",
        str(folder / "report.html"),
    )
    assert answer.returncode == 0, answer.stderr
    (folder / "stdout.txt").write_text(answer.stdout, encoding="utf-8")
    return folder


def test_cohorts_searches_and_lift_from_the_lrs(everything):
    assert csv_rows(everything, "share_cohorts") == cells(COHORTS)
    assert csv_rows(everything, "searches_by_skill")[:4] == cells(
        [
            ("aws", 4, 1, "pandas dataframes", 1, 1),
            ("aws", 4, 2, "terraform", 1, 1),
            ("python", 4, 1, "pandas dataframes", 2, 3),
            ("python", 4, 2, "sql joins", 1, 1),
        ]
    )
    lift = [row for row in csv_rows(everything, "activity_lift") if row[0] == "Python Expert"]
    assert [(row[4], row[7]) for row in lift] == [("Exam", ""), ("Mentoring", ""), ("Intro", "1.0"), ("Lab", "1.0")]


def test_who_and_roles_without_emails(everything, history):
    assert [row[0] for row in csv_rows(everything, "who")] == [
        "Ada Lovelace",
        "Ada Lovelace",
        "Bob Kahn",
        "Cy Young",
        "Dee Hock",
    ]
    assert csv_rows(everything, "credentials_by_role")[0] == ["Analyst", "Data Literacy", "1", "100.0"]
    written = [*everything.glob("*.csv"), everything / "report.html", everything / "stdout.txt"]
    assert not [p.name for p in written if "@example.com" in p.read_text(encoding="utf-8")]


class Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.charts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.sections.append(dict(attrs)["id"])
        elif tag == "svg" and self.sections:
            self.charts[self.sections[-1]] = self.charts.get(self.sections[-1], 0) + 1


def test_each_new_answer_has_a_chart_and_a_table_on_the_page_and_in_the_terminal(everything):
    parser = Sections()
    parser.feed((everything / "report.html").read_text(encoding="utf-8"))
    assert all(parser.charts.get(name) == 1 for name in NEW_ANSWERS), parser.charts
    stdout = (everything / "stdout.txt").read_text(encoding="utf-8")
    assert "== Share funnel by month earned (cohort rates)" in stdout and "== Who holds skill python" in stdout


def test_filters_reach_every_answer_through_the_command(lrs, history, tmp_path):
    answer = report(
        lrs,
        "--add",
        "roles,searches",
        "--team",
        "data",
        "--who-credential",
        "data literacy",
        "--include-emails",
        "--csv",
        str(tmp_path),
    )
    assert answer.returncode == 0, answer.stderr
    assert {row[0] for row in csv_rows(tmp_path, "held_by_team_role")} == {"Data"}
    assert csv_rows(tmp_path, "who") == [
        ["Dee Hock", "Data", "Analyst", "Data Literacy", "2011-04-10", "", history.learners["dee"].email]
    ]
    assert csv_rows(tmp_path, "searches_by_skill") == [
        ["python", "1", "1", "sql joins", "1", "1"],
        ["sql", "1", "1", "sql joins", "1", "1"],
    ]
    assert not (tmp_path / "share_cohorts.csv").exists()


def test_an_unknown_answer_is_a_usage_error(lrs):
    answer = report(lrs, "--add", "roles,leaderboard")
    assert answer.returncode == 2 and answer.stdout == ""
    assert "leaderboard" in answer.stderr
