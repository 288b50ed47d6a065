"""`report` with a skills file (SKILLS_FILE), against the real LRS: `python`, `Python programming`
and `programming` count as one skill, whether their statements were sent with the file (the
canonical extension) or before it (the platform's names only); `--skills-unmapped` lists what the
file does not map yet."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from chalicelib.delivery.translation import Translator
from chalicelib.settings import load_settings
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ROOT = REPO
SINCE, UNTIL = "2013-01-01", "2013-12-31"
SKILLS = (
    "skill,aliases,framework_id\nPython,Python programming; programming,http://data.europa.eu/esco/skill/ccd0a1d9\n"
)
# learner -> (the platform's skill names, sent with the skills file?)
EARNED = {
    "ada": (["python"], True),
    "bob": (["Python programming"], False),
    "cy": (["programming", "Basket weaving"], False),
    "dee": (["Underwater welding"], True),
    "eve": (["basket weaving", "PYTHON"], True),
}


def _event(run: str, number: int, learner: str, skills: list[str]) -> dict:
    day = f"2013-03-{number + 1:02d}T09:00:00Z"
    return {
        "platform": "credly",
        "kind": "issued",
        "occurred_at": day,
        "learner": {"email": f"{learner}.{run}@example.com", "name": learner.title()},
        "credential": {
            "id": f"{run}-{number}",
            "template_iri": f"https://badges.example.com/{run}/classes/{number}",
            "assertion_url": f"https://badges.example.com/{run}/assertions/{number}",
            "name": f"Badge {number}",
            "skills": skills,
            "issued_at": day,
        },
    }


@pytest.fixture(scope="module")
def lrs():
    """An LRS of this module's own: the report counts every statement of its range."""
    from lrs_process import LrsProcess

    with LrsProcess() as process:
        yield process


@pytest.fixture(scope="module")
def skills_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("skills") / "skills.csv"
    path.write_text(SKILLS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stored(lrs, skills_file) -> None:
    """Credentials translated by the connector, some before the skills file existed."""
    run = uuid.uuid4().hex[:8]
    with_file = Translator(load_settings({"SKILLS_FILE": str(skills_file)}))
    without = Translator(load_settings({}))
    statements = []
    for number, (learner, (skills, mapped)) in enumerate(EARNED.items()):
        translator = with_file if mapped else without
        statements += translator.translate_event(_event(run, number, learner, skills)).statements
    answer = requests.post(
        lrs.statements_url, json=statements, headers={"X-Experience-API-Version": "1.0.3"}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def report(lrs, folder: Path, *args: str, **env: str) -> dict[str, list[dict]]:
    environment = {**{k: v for k, v in os.environ.items() if k != "SKILLS_FILE"}, "LRS_ENDPOINT": lrs.endpoint, **env}
    answer = subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", "--since", SINCE, "--until", UNTIL, "--csv", str(folder), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr
    return {path.stem: list(csv.DictReader(path.open(encoding="utf-8"))) for path in folder.glob("*.csv")}


def held_by_everyone(tables: dict[str, list[dict]]) -> dict[str, int]:
    return {row["skill"]: int(row["learners"]) for row in tables["skills_by_team"] if row["team"] == "(all teams)"}


def test_the_aliases_of_a_skill_count_as_one_skill(lrs, stored, skills_file, tmp_path):
    tables = report(lrs, tmp_path, SKILLS_FILE=str(skills_file))
    # Ada (sent with the file), Bob and Cy (sent before it) and Eve: four learners hold Python.
    assert held_by_everyone(tables) == {"Python": 4, "Basket weaving": 1, "basket weaving": 1, "Underwater welding": 1}


def test_without_the_file_each_platform_name_is_a_skill_of_its_own(lrs, stored, tmp_path):
    tables = report(lrs, tmp_path)
    # The statements sent with the file still say "Python" for Ada's and Eve's credentials.
    assert held_by_everyone(tables) == {
        "Python": 2,
        "Python programming": 1,
        "programming": 1,
        "Basket weaving": 1,
        "basket weaving": 1,
        "Underwater welding": 1,
    }


def test_skills_unmapped_lists_the_names_the_file_does_not_map(lrs, stored, skills_file, tmp_path):
    tables = report(lrs, tmp_path, "--skills-unmapped", SKILLS_FILE=str(skills_file))
    assert list(tables) == ["skills_unmapped"]
    assert [(row["skill"], int(row["credentials"])) for row in tables["skills_unmapped"]] == [
        ("Basket weaving", 1),
        ("basket weaving", 1),
        ("Underwater welding", 1),
    ]


def test_skills_unmapped_reads_the_range_only(lrs, stored, skills_file, tmp_path):
    environment = {**os.environ, "LRS_ENDPOINT": lrs.endpoint, "SKILLS_FILE": str(skills_file)}
    outside = subprocess.run(
        [
            sys.executable,
            "-m",
            "chalicelib",
            "report",
            "--since",
            "2014-01-01",
            "--until",
            "2014-12-31",
            "--skills-unmapped",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outside.returncode == 0, outside.stderr
    assert "== Skill names the skills file does not map" in outside.stdout
    assert "(nothing in this range)" in outside.stdout


def test_a_refused_skills_file_stops_the_report_with_exit_2_naming_the_line(lrs, tmp_path):
    bad = tmp_path / "skills.csv"
    bad.write_text(SKILLS + "Coding,programming,\n", encoding="utf-8")
    environment = {**os.environ, "LRS_ENDPOINT": lrs.endpoint, "SKILLS_FILE": str(bad)}
    answer = subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", "--skills-unmapped"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 2
    assert answer.stderr.strip().splitlines()[-1] == (
        f"error: SKILLS_FILE {bad}: line 3: "
        "alias 'programming' of 'Coding' is already an alias of skill 'Python' (line 2)"
    )
