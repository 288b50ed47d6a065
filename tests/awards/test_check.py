"""`rules check` against the real LRS: a platform switch shows as a drop, until the alias is added."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ROOT = REPO
PASSED = "http://adlnet.gov/expapi/verbs/passed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def statement(verb: str, activity: str, at: datetime, learner: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:learner{learner}@example.com"},
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": activity},
        "result": {"score": {"scaled": 0.9}, "success": True, "completion": True},
        "timestamp": at.isoformat(),
    }


@pytest.fixture(scope="module")
def history(lrs):
    """Eight weeks: the exam moves from the old LMS to the new LXP after week five."""
    import requests

    run = uuid.uuid4().hex[:8]
    old_exam = f"https://lms.example.com/{run}/final-exam"
    new_exam = f"https://lxp.example.com/{run}/py301-exam"
    course = f"https://lxp.example.com/{run}/python-course"
    now = datetime.now(UTC)
    statements = []
    for weeks_ago in range(8, 0, -1):
        at = now - timedelta(weeks=weeks_ago) + timedelta(days=1)
        exam = old_exam if weeks_ago > 3 else new_exam
        for learner in range(3):
            statements.append(statement(PASSED, exam, at, learner))
            statements.append(statement(COMPLETED, course, at, learner))
    answer = requests.post(lrs.statements_url, json=statements, headers={"X-Experience-API-Version": "1.0.3"})
    assert answer.status_code == 200, answer.text
    return {"old": old_exam, "new": new_exam, "course": course}


def rules_file(tmp_path: Path, exam_ids: list[str], course: str) -> Path:
    ids = ", ".join(f'"{i}"' for i in exam_ids)
    path = tmp_path / "rules.toml"
    path.write_text(f"""
[aliases]
final-exam = [{ids}]

[[rules]]
id = "python-expert"
name = "Python Expert"
credential = {{ platform = "credly", id = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b" }}
[[rules.statements]]
key = "exam"
verb = "passed"
activity = "alias:final-exam"
min_score = 0.8

[[rules]]
id = "python-course"
name = "Python course"
credential = {{ platform = "credly", id = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1c" }}
[[rules.statements]]
key = "course"
verb = "completed"
activity = "{course}"
""")
    return path


def rules_check(lrs, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LRS_ENDPOINT": lrs.endpoint}
    since = (datetime.now(UTC) - timedelta(weeks=9)).isoformat()
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", "rules", "check", "--rules", str(path), "--since", since],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_rule_without_the_new_activity_id_shows_the_drop(lrs, history, tmp_path):
    result = rules_check(lrs, rules_file(tmp_path, [history["old"]], history["course"]))
    assert result.returncode == 0, result.stderr
    exam_line = next(line for line in result.stdout.splitlines() if line.startswith("python-expert / exam"))
    course_line = next(line for line in result.stdout.splitlines() if line.startswith("python-course / course"))
    assert "DROPPED" in exam_line and "DROPPED" not in course_line
    assert exam_line.split()[-1] != "0"  # it matched before the switch
    assert "read" in result.stderr  # progress is shown


def test_with_the_alias_covering_both_ids_nothing_drops(lrs, history, tmp_path):
    result = rules_check(lrs, rules_file(tmp_path, [history["old"], history["new"]], history["course"]))
    assert result.returncode == 0, result.stderr
    assert "DROPPED" not in result.stdout
    exam_line = next(line for line in result.stdout.splitlines() if line.startswith("python-expert / exam"))
    assert "24" in exam_line.split()  # 8 weeks x 3 learners
