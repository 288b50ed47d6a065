"""python -m chalicelib translate: stdout is one JSON array; errors are one line naming file and field."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from chalicelib.settings import Settings
from tests.support.helpers import DIRECTORY_CSV, FIXTURES, REPO_ROOT, fixture, statement_id

AS_OF = "2026-11-28T00:00:00Z"
BADGE_ID = "9f1e2d3c-4b5a-4697-8877-665544332211"


def run_cli(*args: str | Path, **settings_given: str) -> subprocess.CompletedProcess[str]:
    # Start from the caller's environment minus any connector setting, so that only what the
    # test sets (the learner directory, and settings_given) applies.
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env["LEARNER_DIRECTORY"] = str(DIRECTORY_CSV)
    env.update(settings_given)
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def translate_cli(source: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("translate", "--source", source, *files, "--as-of", AS_OF)


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def assert_one_line_error(result: subprocess.CompletedProcess[str], path: Path, *names: str) -> str:
    """Non-zero exit, nothing on stdout, one stderr line naming the file and each of `names`."""
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert str(path) in line
    rest = line.replace(str(path), "")  # the tmp path itself may contain any word
    for name in names:
        assert re.search(rf"\b{re.escape(name)}\b", rest), line
    return line


def test_translate_prints_one_json_array():
    files = [
        FIXTURES / "credly" / f"{name}.json"
        for name in ("event_badge_created", "event_badge_accepted", "event_badge_revoked")
    ]

    result = translate_cli("credly", *files)

    assert result.returncode == 0, result.stderr
    statements = json.loads(result.stdout)
    assert isinstance(statements, list)
    assert [s["id"] for s in statements] == [
        statement_id(f"credly|{BADGE_ID}|issued"),
        statement_id(f"credly|{BADGE_ID}|accepted"),
        statement_id(f"credly|{BADGE_ID}|revoked|void"),
        statement_id(f"credly|{BADGE_ID}|revoked"),
    ]
    # The directory from LEARNER_DIRECTORY was used.
    assert statements[0]["context"]["extensions"]["https://credential-connector.dev/xapi/extensions/team"] == "Platform"


def test_a_file_holding_an_array_of_documents(tmp_path):
    documents = [fixture("credly/event_badge_created.json"), fixture("credly/event_badge_accepted.json")]
    path = write_json(tmp_path / "batch.json", documents)

    result = translate_cli("credly", path)

    assert result.returncode == 0, result.stderr
    statements = json.loads(result.stdout)
    assert [s["id"] for s in statements] == [
        statement_id(f"credly|{BADGE_ID}|issued"),
        statement_id(f"credly|{BADGE_ID}|accepted"),
    ]


def test_as_of_decides_expiry():
    path = FIXTURES / "credly" / "event_badge_created.json"

    result = run_cli("translate", "--source", "credly", path, "--as-of", "2028-12-01T00:00:00Z")

    assert result.returncode == 0, result.stderr
    assert [s["id"] for s in json.loads(result.stdout)] == [
        statement_id(f"credly|{BADGE_ID}|issued"),
        statement_id(f"credly|{BADGE_ID}|expired"),
    ]


def test_truncated_json_names_file_line_and_column(tmp_path):
    text = (FIXTURES / "credly" / "event_badge_created.json").read_text(encoding="utf-8")
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")

    result = translate_cli("credly", path)

    assert_one_line_error(result, path, "line", "column")


def test_badge_without_any_learner_identifier_names_recipient_email(tmp_path):
    document = fixture("credly/event_badge_created.json")
    badge = document["data"]["badge"]
    del badge["recipient_email"], badge["user"]["email"], badge["issuer_earner_id"]
    path = write_json(tmp_path / "anonymous.json", document)

    result = translate_cli("credly", path)

    line = assert_one_line_error(result, path)
    assert "recipient_email" in line


def test_unknown_credly_event_type_names_event_type(tmp_path):
    document = fixture("credly/event_badge_created.json")
    document["data"]["event_type"] = "badge.teleported"
    path = write_json(tmp_path / "teleported.json", document)

    result = translate_cli("credly", path)

    line = assert_one_line_error(result, path)
    assert "event_type" in line.replace(str(path), "")


def test_open_badges_document_of_unknown_kind_names_type(tmp_path):
    document = {"@context": "https://w3id.org/openbadges/v2", "type": "Certificate", "id": "https://x.example/c/1"}
    path = write_json(tmp_path / "certificate.json", document)

    result = translate_cli("openbadges", path)

    assert_one_line_error(result, path, "type")


def test_translate_help():
    result = run_cli("translate", "--help")

    assert result.returncode == 0
    assert "--source" in result.stdout
    assert "--as-of" in result.stdout


def test_translate_takes_a_named_connection_whose_statements_carry_it(tmp_path):
    connections = tmp_path / "connections.toml"
    connections.write_text('[connections.credly-academy]\nplatform = "credly"\norganisation = "Academy Ltd"\n')
    event = FIXTURES / "credly" / "event_badge_created.json"

    named = run_cli("translate", "--source", "credly-academy", event, "--as-of", AS_OF, CONNECTIONS=str(connections))
    default = translate_cli("credly", event)

    assert named.returncode == 0, named.stderr
    [statement] = json.loads(named.stdout)
    [default_statement] = json.loads(default.stdout)
    connection = statement["context"]["extensions"]["https://credential-connector.dev/xapi/extensions/connection"]
    assert connection == {"name": "credly-academy", "organisation": "Academy Ltd"}
    assert statement["id"] != default_statement["id"]  # a named connection's ids are its own


def test_translate_refuses_a_connection_the_file_does_not_declare(tmp_path):
    connections = tmp_path / "connections.toml"
    connections.write_text('[connections.credly-academy]\nplatform = "credly"\n')
    event = FIXTURES / "credly" / "event_badge_created.json"

    result = run_cli("translate", "--source", "credly-nope", event, CONNECTIONS=str(connections))

    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.strip().splitlines()
    assert "unknown connection 'credly-nope'" in line and "credly-academy" in line
