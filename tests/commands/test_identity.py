"""identity check and identity remap against the real test LRS (one of its own per test: the check
reads every statement of the LRS) and the fake Credly API serving tests/fixtures/identity."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from collections.abc import Iterator

import pytest

from chalicelib.cli import main
from lrs_process import LrsProcess
from tests.support.connector import FIXTURES, fixture_json

IDENTITY = FIXTURES / "identity"
ALAN_OLD, ALAN_NEW = "mailto:alan.turing@gmail.com", "mailto:alan.turing@example.com"


def badge(recipient: dict) -> dict:
    found = copy.deepcopy(fixture_json("credly/event_badge_created.json")["data"]["badge"])
    first, last = recipient["name"]
    found.update(
        id=recipient["id"],
        state=recipient["state"],
        recipient_email=recipient["email"],
        issued_to=f"{first} {last}",
        issued_to_first_name=first,
        issued_to_last_name=last,
        issuer_earner_id=None,
        badge_url=f"https://www.credly.com/badges/{recipient['id']}",
    )
    found["user"].update(email=recipient["email"], first_name=first, last_name=last, id="u-" + recipient["id"][-4:])
    return found


@pytest.fixture
def world(connector, tmp_path, monkeypatch) -> Iterator:
    """The connector on an LRS of its own, the identity fixtures' directory and badges, backfilled."""

    directory = tmp_path / "directory.csv"
    shutil.copy(IDENTITY / "directory.csv", directory)
    with LrsProcess() as lrs:
        monkeypatch.setenv("LRS_ENDPOINT", lrs.endpoint)
        monkeypatch.setenv("LEARNER_DIRECTORY", str(directory))
        connector.restart()
        for recipient in json.loads((IDENTITY / "recipients.json").read_text()):
            connector.credly.add_badge(badge(recipient))
        connector.pull("credly")
        connector.drain()
        connector.directory = directory
        connector.lrs = connector.services.worker.lrs
        yield connector


def statements_of(connector, mbox: str) -> list[dict]:
    return list(connector.lrs.query(agent={"mbox": mbox}))


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out if code in (0, 1) else captured.err


def table(out: str, title: str) -> list[list[str]]:
    """The rows of a table of the text output (after its note, headline, header and rule), split on runs of spaces."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line == f"== {title}")
    rule = next(i for i in range(start, len(lines)) if lines[i].startswith("---"))
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_check_gives_the_exact_coverage_domains_and_alias_suggestions(world, capsys, tmp_path):
    code, out = run(capsys, "identity", "check", "--csv", str(tmp_path / "csv"))
    assert code == 0, out
    # 6 recipients, Ada and Grace mapped; in the LRS the same 6 (accepted badges add a statement each).
    assert table(out, "Recipients mapped to the learner directory") == [
        ["platform", "Credly", "Credly", "6", "2", "4", "33.3", "-"],
        ["lrs", "Credly", "Credly", "6", "2", "4", "33.3", "0"],
    ]
    assert table(out, "Unmapped recipients by email domain") == [
        ["platform", "Credly", "Credly", "contractor.io", "2", "2"],
        ["platform", "Credly", "Credly", "gmail.com", "2", "3"],
        ["lrs", "Credly", "Credly", "contractor.io", "2", "2"],
        ["lrs", "Credly", "Credly", "gmail.com", "2", "5"],
    ]
    assert table(out, "Aliases that would map the most") == [
        ["alan.turing@gmail.com", "E-3", "Alan", "Turing", "local", "part", "4", "2"],
        ["kjohnson@contractor.io", "E-4", "Katherine", "Johnson", "name", "1", "1"],
    ]
    with (tmp_path / "csv" / "identity_coverage.csv").open() as handle:
        assert list(csv.reader(handle))[1:] == [
            ["platform", "Credly", "Credly", "6", "2", "4", "33.3", ""],
            ["lrs", "Credly", "Credly", "6", "2", "4", "33.3", "0"],
        ]


def test_check_logs_no_email(world, capsys):
    main(["identity", "check"])
    err = capsys.readouterr().err
    assert "@" not in err and "LRS: " in err


def add_alias(connector, employee_id: str, alias: str) -> None:
    rows = list(csv.DictReader(connector.directory.open()))
    for row in rows:
        row["other_emails"] = alias if row["employee_id"] == employee_id else ""
    with connector.directory.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].keys()])
        writer.writeheader()
        writer.writerows(rows)


def test_remap_voids_and_resends_each_affected_statement_once(world, capsys):
    before = statements_of(world, ALAN_OLD)
    assert len(before) == 4
    add_alias(world, "E-3", "alan.turing@gmail.com")

    code, out = run(capsys, "identity", "remap", "--json")
    assert code == 0
    counts = json.loads(out)
    assert {k: counts[k] for k in ("found", "voided", "re_sent", "already_remapped", "refused")} == {
        "found": 4,
        "voided": 4,
        "re_sent": 4,
        "already_remapped": 0,
        "refused": 0,
    }

    assert statements_of(world, ALAN_OLD) == []
    after = statements_of(world, ALAN_NEW)
    assert sorted(s["context"]["statement"]["id"] for s in after) == sorted(s["id"] for s in before)
    assert {s["id"] for s in after}.isdisjoint(s["id"] for s in before)
    assert all(
        s["context"]["extensions"][world.services.worker.translator.builder.vocab.ext_team] == "Research" for s in after
    )
    for original in before:
        assert world.lrs.statement(original["id"]) is None
        voided = world.lrs.statement(original["id"], voided=True)
        assert voided is not None and voided["actor"]["mbox"] == ALAN_OLD

    code, out = run(capsys, "identity", "remap", "--json")
    again = json.loads(out)
    assert (code, again["found"], again["voided"], again["re_sent"]) == (0, 0, 0, 0)
    assert sorted(s["id"] for s in statements_of(world, ALAN_NEW)) == sorted(s["id"] for s in after)


def test_a_dry_run_counts_and_sends_nothing(world, capsys):
    add_alias(world, "E-3", "alan.turing@gmail.com")
    code, out = run(capsys, "identity", "remap", "--dry-run")
    assert code == 0 and "found 4, voided 0, re-sent 0" in out and "dry run" in out
    assert len(statements_of(world, ALAN_OLD)) == 4


def test_after_a_remap_a_revocation_voids_the_remapped_earned_statement(world, capsys, monkeypatch):
    from chalicelib.runtime import services

    add_alias(world, "E-3", "alan.turing@gmail.com")
    assert main(["identity", "remap"]) == 0
    earned = [s for s in statements_of(world, ALAN_NEW) if s["verb"]["display"]["en"] == "earned"]
    assert len(earned) == 2
    # The workers see the directory with the alias from now on (a new process reads it afresh).
    services.cache_clear()
    world.services = services()
    revoked_id = "11111111-0000-4000-8000-000000000004"
    for found in world.credly.badges:
        if found["id"] == revoked_id:
            found.update(
                state="revoked", revocation_reason="issued in error", state_updated_at="2026-12-01T10:00:00.000Z"
            )
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    world.services.store.set_cursor("credly:backfill", None)
    world.pull("credly")  # every badge again: a re-delivery of each earned statement, and the revocation
    world.drain()

    target = next(
        s
        for s in earned
        if s["object"]["id"] and s["context"]["statement"]["id"] == world.statement_id(f"credly|{revoked_id}|issued")
    )
    assert world.lrs.statement(target["id"]) is None
    assert world.lrs.statement(target["id"], voided=True) is not None
    standing = [s for s in statements_of(world, ALAN_NEW) if s["verb"]["display"]["en"] == "earned"]
    assert [s["id"] for s in standing] == [s["id"] for s in earned if s["id"] != target["id"]]
    assert statements_of(world, ALAN_OLD) == []  # the re-delivered earned statements did not come back
