"""import-csv into the real LRS: a 10,000-row Credly export with broken rows delivers the rest and
names the broken lines; importing it again adds nothing; a badge imported from CSV and later
pulled through the API is one statement."""

from __future__ import annotations

import csv
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.integration

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import EXPORT_HEADER, export_row, make_badges  # noqa: E402

ROWS = 10_000
# (0-based badge index, column, broken value, what the reason must say)
BROKEN = [
    (17, "Earner Badge ID", "", "Earner Badge ID: missing"),
    (4_321, "Issue Date", "31/12/2026", "Issue Date: not an ISO 8601 date-time"),
    (9_998, "Issued to Email", "ada at example", "Issued to Email: not an email address"),
]


def write_export(path: Path, badges: list[dict], broken=()) -> list[int]:
    """The export of `badges` with the `broken` cells; the lines of the broken rows."""
    faults = {index: (EXPORT_HEADER.index(column), value) for index, column, value, _ in broken}
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(EXPORT_HEADER)
        for index, badge in enumerate(badges):
            row = export_row(badge)
            if index in faults:
                column, value = faults[index]
                row[column] = value
            writer.writerow(row)
    return [index + 2 for index, *_ in broken]  # line 1 is the header


def api_statement_ids(connector, badges: list[dict]) -> set[str]:
    """What the API path (a list page of the same badges, through the Credly adapter) would send."""
    from chalicelib.delivery.translation import Translator

    translation = Translator(connector.services.settings).translate("credly", {"data": badges})
    return {statement["id"] for statement in translation.statements}


def stored_since(lrs_session, lrs, since: str) -> list[str]:
    """Every statement id the LRS stored since `since`, following `more`."""
    ids: list[str] = []
    url, params = lrs.statements_url, {"since": since, "limit": 1000}
    while url:
        page = lrs_session.get(url, params=params).json()
        ids.extend(statement["id"] for statement in page["statements"])
        more = page.get("more")
        url, params = (lrs.statements_url.split("/xAPI/")[0] + more if more else None), None
    return ids


def import_csv(capsys, *args: str) -> tuple[int, dict, str]:
    from chalicelib.cli import main

    code = main(["import-csv", *args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1]), captured.err


@pytest.fixture
def badges() -> list[dict]:
    states = ["pending", "accepted", "pending", "rejected"]
    made = make_badges(
        ROWS,
        seed=11,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        spread_days=300,
        expiry_days=(3650,),
        vary_templates=True,
    )
    for index, badge in enumerate(made):
        badge["state"] = states[index % len(states)]
    return made


def test_a_credly_export_with_broken_rows_delivers_the_rest_once(connector, badges, tmp_path, lrs, lrs_session, capsys):
    path = tmp_path / "badges.csv"
    broken_lines = write_export(path, badges, BROKEN)
    good = [b for index, b in enumerate(badges) if index not in {i for i, *_ in BROKEN}]
    expected = api_statement_ids(connector, good)
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()

    started = time.monotonic()
    code, summary, err = import_csv(capsys, "--platform", "credly", str(path))
    seconds = time.monotonic() - started
    assert code == 1  # some rows were bad; the others went
    assert (summary["rows"], summary["good"], summary["bad"]) == (ROWS, ROWS - 3, 3)
    assert [b["line"] for b in summary["bad_rows"]] == broken_lines
    for (_, _, _, reason), listed in zip(BROKEN, summary["bad_rows"], strict=True):
        assert reason in listed["reason"]
    assert all(f"line {line}:" in err for line in broken_lines)
    assert "example" not in err and "example" not in json.dumps(summary)  # no address is echoed
    assert summary["delivered"] == len(expected) and summary["dead_letters"] == 0
    stored = stored_since(lrs_session, lrs, since)
    assert len(stored) == len(set(stored)) == len(expected)
    assert set(stored) == expected  # the ids the API path gives the same badges
    print(f"\n{ROWS:,} rows -> {len(expected):,} statements in {seconds:.1f} s", file=sys.__stderr__)

    code, again, _ = import_csv(capsys, "--platform", "credly", str(path))
    assert (code, again["already_imported"], again["pages"], again["good"]) == (1, True, 0, ROWS - 3)  # bad rows still
    assert len(stored_since(lrs_session, lrs, since)) == len(expected)

    code, forced, _ = import_csv(capsys, "--platform", "credly", str(path), "--restart")
    assert (forced["already_imported"], forced["good"], forced["dead_letters"]) == (False, ROWS - 3, 0)
    assert forced["delivered"] + forced["already_stored"] == len(expected)  # re-posted: the LRS keeps one
    assert len(stored_since(lrs_session, lrs, since)) == len(expected)


def test_a_badge_imported_from_csv_and_then_pulled_is_one_statement(
    connector, badges, tmp_path, lrs, lrs_session, capsys
):
    badge = badges[1]  # accepted: issued + accepted
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()  # the LRS is the session's
    write_export(tmp_path / "one.csv", [badge])
    code, summary, _ = import_csv(capsys, "--platform", "credly", str(tmp_path / "one.csv"))
    assert (code, summary["delivered"]) == (0, 2)

    connector.restart()
    connector.credly.add_badge(badge)
    assert connector.services.store.cursor("pull:credly:backfill") is None
    from chalicelib.cli import main

    assert main(["backfill", "credly", "--json"]) == 0
    capsys.readouterr()
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    issued = str(uuid.uuid5(namespace, f"credly|{badge['id']}|issued"))
    assert issued in api_statement_ids(connector, [badge])
    earned = lrs_session.get(
        lrs.statements_url,
        params={
            "verb": "http://specification.openbadges.org/xapi/verbs/earned",
            "since": since,
            "agent": json.dumps({"mbox": f"mailto:{badge['recipient_email'].lower()}"}),
        },
    ).json()["statements"]
    assert [s["id"] for s in earned] == [issued]  # one statement, whichever path came first
    counters = connector.services.store.counters()
    assert counters.get("already_stored", 0) >= 1  # the pull's differing copy: the LRS kept the first
