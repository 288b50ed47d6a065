"""import-csv against files as they go wrong, run as users run it (`python -m chalicelib import-csv`):
every physical line of the file is imported, named as a bad row, or the run fails with one line
(exit 2); an unclosed quote costs one row, named where it opened; control characters in
identifiers and URLs that are no IRIs are bad rows, never dead letters; pipes, devices, a
duplicated header and mapping files that are no mapping are refused with one line."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.commands.test_import_csv import stored_since, write_export
from tests.support.connector import connector, fixture_json  # noqa: F401  (fixtures)
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import EXPORT_HEADER, make_badges  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

ROOT = REPO
SECONDS = 60  # a run that has not ended by then hangs (a pipe, a device read forever)


class Run:
    """One `import-csv` process: its exit code, its summary (--json) and its standard error."""

    def __init__(self, tmp_path: Path, *args: str, lrs=None, namespace: str | None = None, **options) -> None:
        self.state = tmp_path / "state.sqlite"
        env = {
            **os.environ,
            "STATE_PATH": str(self.state),
            "QUEUE_BACKEND": "local",
            "STATEMENT_ID_NAMESPACE": namespace or str(uuid.uuid4()),
            "HTTP_BACKOFF_BASE": "0.01",
            "HTTP_BACKOFF_CAP": "0.05",
        }
        if lrs is not None:
            env["LRS_ENDPOINT"] = lrs.endpoint
        deliver = [] if lrs is not None else ["--no-deliver"]
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib", "import-csv", *args, *deliver, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SECONDS,
            **options,
        )
        self.code = done.returncode
        out = done.stdout.strip().splitlines()
        self.summary = json.loads(out[-1]) if out else None
        self.err = done.stderr

    def error_line(self) -> str:
        """The refusal: exactly one line on stderr, nothing on stdout."""
        lines = self.err.strip().splitlines()
        assert self.summary is None and len(lines) == 1, self.err[-2000:]
        return lines[0]

    def queued(self) -> int:
        if not self.state.exists():
            return 0
        with sqlite3.connect(self.state) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] if "outbox" in tables else 0


def badges(count: int) -> list[dict]:
    return make_badges(
        count,
        seed=29,
        start=datetime(2026, 2, 1, tzinfo=UTC),
        spread_days=200,
        expiry_days=(3650,),
        state="pending",
    )  # one statement each: issued


def issued_id(namespace: str, badge: dict) -> str:
    return str(uuid.uuid5(uuid.UUID(namespace), f"credly|{badge['id']}|issued"))


def physical_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def since_now() -> str:
    return (datetime.now(UTC) - timedelta(seconds=1)).isoformat()


# -- line accounting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (5, "a quoted cell opened on this line runs on to line"),  # stopped by the csv field limit
        (1_996, "a quote opened on this line is never closed"),  # the file ends inside the quote
    ],
)
def test_an_unclosed_quote_is_one_bad_row_named_where_it_opened_and_the_rest_is_delivered_once(
    tmp_path, lrs, lrs_session, line, reason
):
    made = badges(2_000)
    path = tmp_path / "badges.csv"
    write_export(path, made)
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = b'"' + lines[line - 1]
    path.write_bytes(b"\n".join(lines))
    namespace, since = str(uuid.uuid4()), since_now()

    run = Run(tmp_path, "--platform", "credly", str(path), lrs=lrs, namespace=namespace)

    summary = run.summary
    assert run.code == 1
    assert (summary["lines"], summary["rows"], summary["good"], summary["bad"]) == (2_001, 2_000, 1_999, 1)
    assert [b["line"] for b in summary["bad_rows"]] == [line] and reason in summary["bad_rows"][0]["reason"]
    assert f"line {line}: " in run.err
    assert (summary["delivered"], summary["already_stored"], summary["dead_letters"]) == (1_999, 0, 0)
    stored = set(stored_since(lrs_session, lrs, since))
    expected = {issued_id(namespace, b) for index, b in enumerate(made) if index != line - 2}
    assert expected <= stored and issued_id(namespace, made[line - 2]) not in stored


def test_every_line_is_a_row_a_bad_row_or_blank(tmp_path):
    path = tmp_path / "badges.csv"
    write_export(path, badges(20))
    lines = path.read_bytes().split(b"\n")
    name = EXPORT_HEADER.index("Badge Name")
    assert name == 0
    lines[3] = b'"Data\nLiteracy"' + lines[3][lines[3].index(b",") :]  # line 4: a cell spanning two lines
    lines[9] = b'"Data\n\xff Literacy"' + lines[9][lines[9].index(b",") :]  # line 11: spans into a non-UTF-8 line
    lines.insert(15, b"")  # a blank line
    path.write_bytes(b"\n".join(lines))
    total = physical_lines(path)
    assert total == 1 + 20 + 2 + 1

    summary = Run(tmp_path, "--platform", "credly", str(path)).summary

    assert summary["lines"] == total
    assert [(b["line"], b["reason"][:40]) for b in summary["bad_rows"]] == [
        (11, "a quoted cell opened on this line runs o"),
        (12, "not readable as CSV: not UTF-8 (byte 1 o"),
    ]
    # the header, 19 good rows (one of them two lines long), 2 bad lines, 1 blank line
    assert (summary["rows"], summary["good"], summary["bad"]) == (21, 19, 2)


def test_lines_are_counted_from_the_end_of_a_header_spanning_lines(tmp_path):
    path = tmp_path / "badges.csv"
    write_export(path, badges(3))
    lines = path.read_text().split("\n")
    lines[0] = lines[0].replace("Badge Template ID", '"Badge\nTemplate ID"')  # the header: lines 1 and 2
    lines[2] = lines[2].replace("@Example.com", " at Example.com")  # line 4
    path.write_text("\n".join(lines))
    summary = Run(tmp_path, "--platform", "credly", str(path)).summary
    assert summary["lines"] == physical_lines(path) == 5
    assert [(b["line"], b["reason"].split(":")[0]) for b in summary["bad_rows"]] == [(4, "Issued to Email")]


# -- identifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Issued to Email", "ada\x00@example.com", "Issued to Email: holds a control character (U+0000)"),
        ("Earner Badge ID", "badge\x01one", "Earner Badge ID: holds a control character (U+0001)"),
        ("Badge URL", "https://www.credly.com/badges/\x7f", "Badge URL: holds a control character (U+007F)"),
        ("Badge URL", "not a url at all", "Badge URL: not an absolute IRI (a scheme, no spaces)"),
    ],
)
def test_an_identifier_with_a_control_character_or_a_url_that_is_no_iri_is_a_bad_row_not_a_dead_letter(
    tmp_path, lrs, lrs_session, column, value, reason
):
    made = badges(5)
    path = tmp_path / "badges.csv"
    broken = write_export(path, made, [(2, column, value, reason)])
    namespace, since = str(uuid.uuid4()), since_now()

    run = Run(tmp_path, "--platform", "credly", str(path), lrs=lrs, namespace=namespace)

    summary = run.summary
    assert run.code == 1
    assert [(b["line"], b["reason"]) for b in summary["bad_rows"]] == [(broken[0], reason)]
    assert (summary["rows"], summary["good"], summary["bad"]) == (5, 4, 1)
    assert (summary["delivered"], summary["dead_letters"]) == (4, 0)
    stored = set(stored_since(lrs_session, lrs, since))
    assert {issued_id(namespace, b) for index, b in enumerate(made) if index != 2} <= stored
    assert issued_id(namespace, made[2]) not in stored


def test_a_mapped_identifier_with_a_control_character_or_a_url_that_is_no_iri_is_a_bad_row(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "platform": "lms",
                "fields": [
                    {"field": "credential_id", "column": "Certificate No"},
                    {"field": "name", "value": "Fire Safety"},
                    {"field": "template_iri", "value": "https://lms.example.com/courses/fs1"},
                    {"field": "learner_email", "column": "E-mail"},
                    {"field": "url", "column": "Link"},
                ],
            }
        )
    )
    path = tmp_path / "certificates.csv"
    with path.open("w", newline="") as stream:
        csv.writer(stream).writerows(
            [
                ["Certificate No", "E-mail", "Link"],
                ["C-1", "ada@example.com", "https://lms.example.com/c/1"],
                ["C-\x002", "grace@example.com", "https://lms.example.com/c/2"],
                ["C-3", "alan@example.com", "see the LMS"],
            ]
        )
    run = Run(tmp_path, "--mapping", str(mapping), str(path))
    assert run.code == 1
    assert [(b["line"], b["reason"]) for b in run.summary["bad_rows"]] == [
        (3, "Certificate No: holds a control character (U+0000)"),
        (4, "Link: not an absolute IRI (a scheme, no spaces)"),
    ]
    assert (run.summary["lines"], run.summary["rows"], run.summary["good"]) == (4, 3, 1)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("recipient",), {"type": "email", "hashed": False, "identity": "ada\x00@example.com"}, "recipient.identity"),
        (("id",), "https://badges.example.org/assertions/\x00", "id"),
        (("badge", "id"), "https://badges.example.org/badgeclasses/\x1b", "badge.id"),
    ],
)
def test_the_ingest_route_answers_400_naming_an_identifier_with_a_control_character(connector, path, value, field):
    document = fixture_json("openbadges/ob2_assertion.json")
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    auth = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    answer = connector.post("/ingest/openbadges", document, auth)
    assert answer.status_code == 400, answer.body
    assert json.loads(answer.body)["field"] == field
    assert connector.services.queue.depth() == 0


def test_the_validator_refuses_an_extension_at_id_that_is_no_iri():
    from chalicelib.errors import InvalidStatement
    from chalicelib.xapi.validate import validate_statement
    from tests.support.helpers import AS_OF, make_translator

    statement = make_translator().translate("credly", fixture_json("credly/badges_page_1.json"), AS_OF).statements[0]
    validate_statement(statement)
    assertion = "http://specification.openbadges.org/xapi/extensions/badgeassertion"
    statement["result"]["extensions"][assertion]["@id"] = "not a url at all"
    with pytest.raises(InvalidStatement, match=r"badgeassertion'\]\.@id: must be an absolute IRI"):
        validate_statement(statement)


# -- files that are no CSV file -------------------------------------------------------------------


def test_a_fifo_a_pipe_or_a_device_is_refused_with_one_line(tmp_path):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    run = Run(tmp_path, "--platform", "credly", str(fifo))
    assert (run.code, run.error_line()) == (
        2,
        f"error: {fifo}: not a regular file (a pipe): save it to a file and import that",
    )

    run = Run(tmp_path, "--platform", "credly", "/dev/zero")
    assert (run.code, run.error_line()) == (
        2,
        "error: /dev/zero: not a regular file (a device): save it to a file and import that",
    )

    source = tmp_path / "badges.csv"
    write_export(source, badges(3))
    read, write = os.pipe()  # as `import-csv <(cat badges.csv)` hands it over
    writer = threading.Thread(target=lambda: (os.write(write, source.read_bytes()), os.close(write)))
    writer.start()
    try:
        run = Run(tmp_path, "--platform", "credly", f"/dev/fd/{read}", pass_fds=(read,))
    finally:
        os.close(read)
        writer.join()
    assert (run.code, run.error_line()) == (
        2,
        f"error: /dev/fd/{read}: not a regular file (a pipe): save it to a file and import that",
    )
    assert run.queued() == 0


def test_a_header_naming_a_column_twice_is_refused_naming_it_and_both_columns(tmp_path):
    path = tmp_path / "badges.csv"
    write_export(path, badges(3))
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",issued to email"] + [line + ",someone.else@example.com" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    run = Run(tmp_path, "--platform", "credly", str(path))
    column = EXPORT_HEADER.index("Issued to Email") + 1
    assert (run.code, run.error_line()) == (
        2,
        f"error: {path}: the header names 'issued to email' twice "
        f"(columns {column} and {len(EXPORT_HEADER) + 1}): rename or "
        "remove one",
    )
    assert run.queued() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "not a JSON mapping: nested too deep"),
        ('{"a":' * 5_000 + "1" + "}" * 5_000, "not a JSON mapping: nested too deep"),
        ('{"title": "' + "x" * 2_000_000 + '"}', "not a JSON mapping: larger than 1 MiB"),
        (
            '[{"field": "name", "column": "Badge Name"}]',
            "not a JSON mapping: an object is expected, the file holds an array",
        ),
        (None, "not a regular file (a pipe): save it to a file and import that"),
    ],
)
def test_a_mapping_file_that_is_no_mapping_is_refused_with_one_line(tmp_path, content, message):
    mapping = tmp_path / "mapping.json"
    if content is None:
        os.mkfifo(mapping)
    else:
        mapping.write_text(content)
    path = tmp_path / "badges.csv"
    write_export(path, badges(1))
    run = Run(tmp_path, "--mapping", str(mapping), str(path))
    assert (run.code, run.error_line()) == (2, f"error: {mapping}: {message}")
    assert "Traceback" not in run.err
