"""`report` given dates and day counts at the edge of the calendar: a usage error naming the
option (exit 2, nothing on stdout), or a report; never a traceback. Against the real LRS."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from chalicelib.events import Kind
from tests.support.paths import REPO
from tests.support.report_history import COMPLETED, History

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

ROOT = REPO
DAYS_MAX = 36_500  # the longest --before-days and --expiring-days (docs/report.md)


@pytest.fixture(scope="module")
def lrs():
    """An LRS of this module's own, holding credentials earned in year 1 and expiring in year 9999."""
    from lrs_process import LrsProcess

    with LrsProcess() as process:
        history = History()
        early = history.learner("early", "Ada Early", "Platform", "Engineer")
        late = history.learner("late", "Lou Late", "Data", "Analyst")
        history.activity(COMPLETED, early, "Abacus Basics", "0001-01-02")
        history.credential(Kind.ISSUED, 1, early, "A", "0001-01-20")
        history.credential(Kind.ISSUED, 2, late, "B", "9999-12-01", "9999-12-31")
        answer = requests.post(
            process.statements_url, json=history.statements, headers={"X-Experience-API-Version": "1.0.3"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        yield process


def report(lrs, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LRS_ENDPOINT": lrs.endpoint}
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_last_day_there_is_cannot_end_a_range(lrs):
    answer = report(lrs, "--until", "9999-12-31")
    assert answer.returncode == 2 and answer.stdout == ""
    assert answer.stderr.splitlines() == [
        "error: --until: the end of 9999-12-31 is past the last time there is; give a time (e.g. 9999-12-31T23:59:59Z)"
    ]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--expiring-days", "99999999999", f"expected 1 to {DAYS_MAX}, got '99999999999'"),
        ("--expiring-days", str(DAYS_MAX + 1), f"expected 1 to {DAYS_MAX}, got '{DAYS_MAX + 1}'"),
        ("--before-days", "1000000000", f"expected 1 to {DAYS_MAX}, got '1000000000'"),  # past what timedelta holds
        ("--before-days", "9" * 5000, "expected a whole number, got '" + "9" * 40 + "'..."),  # past what int() converts
        ("--expiring-days", "0", f"expected 1 to {DAYS_MAX}, got '0'"),
    ],
)
def test_day_counts_out_of_bounds_are_usage_errors(lrs, option, value, message):
    answer = report(lrs, option, value)
    assert answer.returncode == 2 and answer.stdout == ""
    *usage, error = answer.stderr.splitlines()
    assert usage[0].startswith("usage: python -m chalicelib report") and "Traceback" not in answer.stderr
    assert error == f"python -m chalicelib report: error: argument {option}: {message}"


def test_the_longest_window_before_earning_in_year_one(lrs):
    answer = report(lrs, "--since", "0001-01-01", "--until", "0001-12-31", "--before-days", str(DAYS_MAX))
    assert answer.returncode == 0, answer.stderr
    assert "Abacus Basics" in answer.stdout  # completed 18 days before the credential of year 1


def test_the_longest_expiry_window_after_the_last_year(lrs):
    answer = report(lrs, "--since", "9999-01-01", "--until", "9999-12-29", "--expiring-days", str(DAYS_MAX))
    assert answer.returncode == 0, answer.stderr
    assert "Lou Late" in answer.stdout and "9999-12-31" in answer.stdout  # expires a day after the range


def test_a_default_start_before_year_one_starts_at_year_one(lrs):
    answer = report(lrs, "--until", "0001-03-01")
    assert answer.returncode == 0, answer.stderr
    assert "Range: 0001-01-01 00:00 to 0001-03-02 00:00 UTC" in answer.stdout
