"""`deadletters list|replay|discard|discarded` with filters and dry runs, through chalicelib.cli.main,
on a store holding dead letters of several sources, reasons and dates; replays reach the real LRS."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

from tests.support.connector import fixture_json
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import make_badges  # noqa: E402

# id: (source, reason, last time); the Credly ones are pages of one badge, the LRS takes them all
LETTERS = {
    "credly-old": ("credly", "LRS timed out (HTTP 504)", "2026-11-01T10:00:00+00:00"),
    "credly-mid": ("credly", "unknown learner E-1", "2026-11-15T10:00:00+00:00"),
    "credly-new": ("credly", "LRS TIMED OUT after 5 tries", "2026-12-01T10:00:00+00:00"),
    "openbadges": ("openbadges", "LRS timed out (HTTP 504)", "2026-12-01T12:00:00+00:00"),
}


@pytest.fixture
def letters(connector, monkeypatch) -> dict[str, dict]:
    """The dead letters' messages by id, written at their dates."""
    from chalicelib.queue import QueueMessage
    from chalicelib.store import sqlite

    badges = make_badges(3, seed=23, start=datetime(2026, 3, 2, tzinfo=UTC), spread_days=30, expiry_days=(3650,))
    messages = {}
    for (letter_id, (source, reason, when)), badge in zip(LETTERS.items(), [*badges, None], strict=True):
        body = {"data": [badge]} if badge else fixture_json("openbadges/ob2_assertion.json")
        message = QueueMessage(id=letter_id, source=source, body=body).model_dump(mode="json")
        with monkeypatch.context() as clock:
            clock.setattr(sqlite, "_now_iso", lambda when=when: when)
            connector.services.store.put_dead_letter(letter_id, source, reason, message)
        messages[letter_id] = message
    return messages


def run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    from chalicelib.cli import main

    code = main(["deadletters", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def listed(capsys, *filters: str) -> list[str]:
    code, out, err = run(capsys, "list", *filters)
    assert code == 0 and err[-1] == f"{len(out)} dead letter(s)", err
    return [line.split()[0] for line in out]


def statement_ids(connector, message: dict) -> set[str]:
    from chalicelib.delivery.translation import Translator

    if message["source"] == "credly":
        return {connector.statement_id(f"credly|{message['body']['data'][0]['id']}|issued")}
    result = Translator(connector.services.settings).translate("openbadges", message["body"], datetime.now(UTC))
    return {statement["id"] for statement in result.statements}


def in_lrs(lrs, lrs_session, ids: set[str]) -> set[str]:
    return {i for i in ids if lrs_session.get(lrs.statements_url, params={"statementId": i}).status_code == 200}


def test_list_filters_by_source_reason_last_time_and_limit(connector, letters, capsys):
    assert listed(capsys) == list(LETTERS)
    assert listed(capsys, "--source", "credly") == ["credly-old", "credly-mid", "credly-new"]
    assert listed(capsys, "--source", "openbadges", "--source", "accredible") == ["openbadges"]
    assert listed(capsys, "--reason", "Timed Out") == ["credly-old", "credly-new", "openbadges"]
    assert listed(capsys, "--since", "2026-11-15", "--until", "2026-12-01T11:00:00Z") == ["credly-mid", "credly-new"]
    assert listed(capsys, "--since", "2026-12-01T11:00:00+01:00") == ["credly-new", "openbadges"]  # 10:00 UTC
    assert listed(capsys, "--reason", "timed out", "--limit", "2") == ["credly-old", "credly-new"]
    code, out, err = run(capsys, "list", "--source", "credly", "--reason", "unknown", "--json")
    assert code == 0 and [json.loads(line)["message"] for line in out] == [letters["credly-mid"]]
    code, _, err = run(capsys, "list", "--since", "last week")
    assert code == 2 and err[-1].startswith("error: --since: not an ISO 8601 date-time")


def test_dry_runs_list_what_they_would_take_and_change_nothing(connector, letters, lrs, lrs_session, capsys):
    code, out, err = run(capsys, "replay", "--reason", "timed out", "--dry-run")
    assert code == 0 and [line.split()[0] for line in out] == ["credly-old", "credly-new", "openbadges"]
    assert err[-1] == "dry run: 3 dead letter(s) would be replayed; nothing changed"
    code, out, err = run(capsys, "discard", "--all", "--dry-run", "--because", "tidying up")
    assert code == 0 and len(out) == 4 and err[-1] == "dry run: 4 dead letter(s) would be discarded; nothing changed"
    assert listed(capsys) == list(LETTERS)
    assert connector.services.store.discarded_letters() == []
    sent = set().union(*(statement_ids(connector, m) for m in letters.values()))
    assert in_lrs(lrs, lrs_session, sent) == set()


def test_discard_removes_the_letters_and_keeps_an_audit_record_of_each(connector, letters, capsys):
    code, out, _ = run(
        capsys, "discard", "--source", "credly", "--reason", "unknown learner", "--because", "E-1 left the company"
    )
    assert code == 0 and [line.split()[0] for line in out[:-1]] == ["credly-mid"]
    assert out[-1] == "discarded 1 dead letter(s); their records: deadletters discarded"
    assert listed(capsys) == ["credly-old", "credly-new", "openbadges"]

    code, out, err = run(capsys, "discarded")
    [line] = out
    assert code == 0 and err[-1] == "1 discarded dead letter(s)"
    assert "credly-mid" in line and "because: E-1 left the company  (was: unknown learner E-1)" in line
    code, out, _ = run(capsys, "discarded", "--json")
    record = json.loads(out[0])
    assert (record["id"], record["source"], record["reason"], record["discard_reason"]) == (
        "credly-mid",
        "credly",
        "unknown learner E-1",
        "E-1 left the company",
    )
    assert record["message"] == letters["credly-mid"] and record["last_at"] == LETTERS["credly-mid"][2]


def test_discard_refuses_unknown_ids_and_unselected_or_unexplained_discards(connector, letters, capsys):
    code, _, err = run(capsys, "discard", "--id", "credly-old", "--id", "nope", "--because", "x")
    assert code == 2 and err[-1] == "error: no dead letter with id nope"
    code, _, err = run(capsys, "discard", "--because", "x")
    assert code == 2 and err[-1].startswith("error: which dead letters?")
    code, _, err = run(capsys, "discard", "--id", "credly-old", "--source", "credly", "--because", "x")
    assert code == 2 and err[-1].startswith("error: --id picks letters itself")
    code, _, err = run(capsys, "discard", "--all", "--because", "  ")
    assert code == 2 and err[-1].startswith("error: --because")
    with pytest.raises(SystemExit) as usage:
        run(capsys, "discard", "--all")  # no --because: argparse's usage error
    assert usage.value.code == 2
    assert listed(capsys) == list(LETTERS) and connector.services.store.discarded_letters() == []


def test_a_bulk_replay_of_a_filter_delivers_only_the_letters_it_selects(connector, letters, lrs, lrs_session, capsys):
    code, out, err = run(capsys, "replay", "--source", "credly", "--reason", "timed out")
    assert code == 0, err
    assert out[-1] == "replayed 2: 2 delivered, 0 still failing"
    assert [line.split()[1] for line in err if line.startswith("[")] == ["credly-old:", "credly-new:"]
    chosen = statement_ids(connector, letters["credly-old"]) | statement_ids(connector, letters["credly-new"])
    others = statement_ids(connector, letters["credly-mid"]) | statement_ids(connector, letters["openbadges"])
    assert in_lrs(lrs, lrs_session, chosen) == chosen
    assert in_lrs(lrs, lrs_session, others) == set()
    assert listed(capsys) == ["credly-mid", "openbadges"]
    code, out, _ = run(capsys, "replay", "--all", "--limit", "1")
    assert code == 0 and out[-1] == "replayed 1: 1 delivered, 0 still failing"
    assert in_lrs(lrs, lrs_session, others) == statement_ids(connector, letters["credly-mid"])
    assert listed(capsys) == ["openbadges"]


def test_restore_puts_a_discarded_letter_back_to_be_replayed(connector, letters, lrs, lrs_session, capsys):
    run(capsys, "discard", "--id", "credly-mid", "--id", "openbadges", "--because", "thought E-1 had left")
    assert listed(capsys) == ["credly-old", "credly-new"]

    code, out, _ = run(capsys, "restore", "--id", "credly-mid")

    assert code == 0 and out[-1] == "restored 1 dead letter(s); deadletters replay --id ID sends them again"
    assert out[0].split()[0] == "credly-mid"
    letter = connector.services.store.dead_letter("credly-mid")
    assert (letter.source, letter.reason, letter.message) == ("credly", "unknown learner E-1", letters["credly-mid"])
    assert sorted(listed(capsys)) == ["credly-mid", "credly-new", "credly-old"]  # openbadges stays discarded
    assert [r.id for r in connector.services.store.discarded_letters()] == ["openbadges", "credly-mid"]  # audit kept

    code, out, _ = run(capsys, "replay", "--id", "credly-mid")
    assert code == 0 and out[-1] == "replayed 1: 1 delivered, 0 still failing"
    ids = statement_ids(connector, letters["credly-mid"])
    assert in_lrs(lrs, lrs_session, ids) == ids


def test_restore_refuses_unknown_ids_and_keeps_a_letter_dead_again_as_it_is(connector, letters, capsys):
    run(capsys, "discard", "--id", "credly-mid", "--because", "x")

    code, _, err = run(capsys, "restore", "--id", "credly-mid", "--id", "nope")
    assert code == 2 and err[-1] == "error: no discarded dead letter with id nope"
    assert connector.services.store.dead_letter("credly-mid") is None  # nothing restored

    store = connector.services.store
    again = store.put_dead_letter("credly-mid", "credly", "dead again", letters["credly-mid"])
    code, out, err = run(capsys, "restore", "--id", "credly-mid")
    assert code == 0 and out[-1].startswith("restored 0 dead letter(s)")
    assert err[-1] == "credly-mid: a dead letter already; kept as it is"
    assert store.dead_letter("credly-mid") == again
