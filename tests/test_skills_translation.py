"""Translation with a skills file (SKILLS_FILE): the platform's skill names stay, the canonical
skills are added in their own extension, ids do not move, no file leaves the statements as they
were, and the real test LRS stores what the connector sends."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.delivery.translation import Translator
from chalicelib.errors import SettingsError
from chalicelib.settings import load_settings
from chalicelib.xapi.vocabulary import DeploymentVocabulary
from tests.support.paths import FIXTURE_DIR

pytestmark = pytest.mark.integration

FIXTURES = FIXTURE_DIR
AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
VOCAB = DeploymentVocabulary(load_settings({}).xapi_extension_base)
ESCO_PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SKILLS = (
    "skill,aliases,framework_id\n"
    f"Python,python programming; programming,{ESCO_PYTHON}\n"
    "Code review,peer review,\n"
    "Data analytics,data; analytics; data analysis,\n"
    "Cloud architecture,architecture,15-1241.00\n"
)
# fixture -> the canonical extension of its statements (what each platform called the skills).
CASES = {
    ("credly", "event_badge_created.json"): [
        {"name": "Python", "framework_id": ESCO_PYTHON, "from": ["Python"]},
        {"name": "Code review", "from": ["Code Review"]},
    ],
    ("credly", "event_badge_accepted.json"): [
        {"name": "Python", "framework_id": ESCO_PYTHON, "from": ["Python"]},
        {"name": "Code review", "from": ["Code Review"]},
    ],
    ("openbadges", "ob2_assertion.json"): [  # two tags and an alignment's targetName: one skill
        {"name": "Data analytics", "from": ["data", "analytics", "Data analysis"]}
    ],
    ("openbadges", "ob3_credential.json"): [  # "cloud" is in no row: left out, kept in the platform's names
        {"name": "Cloud architecture", "framework_id": "15-1241.00", "from": ["architecture"]}
    ],
}


@pytest.fixture
def skills_file(tmp_path) -> str:
    path = tmp_path / "skills.csv"
    path.write_text(SKILLS, encoding="utf-8")
    return str(path)


def translate(source: str, name: str, **env: str) -> list[dict]:
    settings = load_settings({"LEARNER_DIRECTORY": str(FIXTURES / "directory.csv"), **env})
    document = json.loads((FIXTURES / source / name).read_text())
    return Translator(settings).translate(source, document, AS_OF).statements


def without_canonical(statements: list[dict]) -> list[dict]:
    stripped = copy.deepcopy(statements)
    for statement in stripped:
        statement.get("context", {}).get("extensions", {}).pop(VOCAB.ext_skills_canonical, None)
    return stripped


@pytest.mark.parametrize(("source", "name"), sorted(CASES))
def test_the_canonical_skills_are_added_and_nothing_else_changes(skills_file, source, name):
    plain = translate(source, name)
    mapped = translate(source, name, SKILLS_FILE=skills_file)

    assert [s["id"] for s in mapped] == [s["id"] for s in plain]
    assert all(VOCAB.ext_skills_canonical not in s["context"].get("extensions", {}) for s in plain)
    assert without_canonical(mapped) == plain  # the platform's names, and everything else, as before
    for statement in mapped:
        extensions = statement["context"]["extensions"]
        assert extensions[VOCAB.ext_skills_canonical] == CASES[(source, name)]
        assert extensions[VOCAB.ext_skills] == plain[0]["context"]["extensions"][VOCAB.ext_skills]


def test_a_credential_whose_skills_the_file_does_not_know_gets_no_canonical_extension(tmp_path):
    path = tmp_path / "skills.csv"
    path.write_text("skill,aliases,framework_id\nWelding,,\n", encoding="utf-8")
    mapped = translate("credly", "event_badge_created.json", SKILLS_FILE=str(path))
    assert mapped == translate("credly", "event_badge_created.json")


def test_a_skills_file_refused_at_the_start_stops_the_translator(tmp_path):
    path = tmp_path / "skills.csv"
    path.write_text("skill,aliases,framework_id\nPython,coding,\nJava,coding,\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"SKILLS_FILE .*line 3: alias 'coding' of 'Java'"):
        translate("credly", "event_badge_created.json", SKILLS_FILE=str(path))


@pytest.mark.parametrize(("source", "name"), sorted(CASES))
def test_the_lrs_stores_the_canonical_extension(lrs, lrs_session, skills_file, source, name):
    env = {"SKILLS_FILE": skills_file, "STATEMENT_ID_NAMESPACE": str(uuid.uuid4())}
    statements = translate(source, name, **env)
    posted = lrs_session.post(lrs.statements_url, json=statements)
    assert posted.status_code == 200, posted.text
    for statement in statements:
        stored = lrs_session.get(lrs.statements_url, params={"statementId": statement["id"]})
        assert stored.status_code == 200, stored.text
        assert stored.json()["context"]["extensions"][VOCAB.ext_skills_canonical] == CASES[(source, name)]
    replay = lrs_session.post(lrs.statements_url, json=translate(source, name, **env))
    assert replay.status_code in (200, 204), replay.text  # never 409: the same bytes again
