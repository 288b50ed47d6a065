"""import-csv without an LRS: each platform's export layout gives the statement ids of the same
credentials read through the API; mappings; hardened reading; bad rows by line; paging; resume."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from chalicelib.errors import ConnectorError
from chalicelib.platforms import adapter_for, csv_layout
from chalicelib.pull.csvfile import CsvFile, CsvFileError
from chalicelib.pull.csvimport import CsvSource, LayoutRows, Position
from chalicelib.pull.csvmapping import load_mapping
from chalicelib.settings import load_settings
from tests.support.helpers import AS_OF, fixture, make_translator, statement_id
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "bench"))
from credly_badges import EXPORT_HEADER, export_row  # noqa: E402

SETTINGS = load_settings({})


def write(path: Path, header: list[str], rows: list[list[str]], **options) -> Path:
    with path.open("w", newline="", encoding=options.pop("encoding", "utf-8")) as stream:
        writer = csv.writer(stream, **options)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def layout(platform: str) -> LayoutRows:
    return LayoutRows(csv_layout(platform, SETTINGS), adapter_for(platform, SETTINGS))


def source(path: Path, reader, **options) -> CsvSource:
    translator = make_translator()
    return CsvSource(
        CsvFile(path, options.pop("delimiter", ",")),
        reader,
        check=lambda event: translator.statements(event, AS_OF),
        **options,
    )


def imported_ids(csv_source: CsvSource, resume: str | None = None) -> list[str]:
    translator = make_translator()
    events = [e for page in csv_source.pages("backfill", resume) for e in page.document]
    return [s["id"] for s in translator.translate_event(events, AS_OF).statements]


def api_ids(platform: str, document: object) -> list[str]:
    return [s["id"] for s in make_translator().translate(platform, document, AS_OF).statements]


# -- each platform's layout: the API path's statement ids ---------------------------------------


def test_a_credly_export_gives_the_ids_of_the_same_badges_listed_by_the_api(tmp_path):
    page = fixture("credly/badges_page_1.json")
    path = write(tmp_path / "credly.csv", EXPORT_HEADER, [export_row(b) for b in page["data"]])
    assert sorted(imported_ids(source(path, layout("credly")))) == sorted(api_ids("credly", page))


def test_a_canvas_credentials_export_gives_the_ids_of_the_same_assertions_pulled(tmp_path):
    page = fixture("badgr/assertions_changed.json")
    badgeclass = fixture("badgr/badgeclass.json")["result"][0]
    rows = []
    for assertion in page["result"]:
        assertion["badgeclass"] = badgeclass  # as the puller embeds it
        rows.append(
            [
                assertion["recipient"]["plaintextIdentity"],
                assertion["entityId"],
                badgeclass["entityId"],
                badgeclass["name"],
                assertion["issuedOn"],
                assertion["expires"] or "",
                "yes" if assertion["revoked"] else "no",
                assertion["revocationReason"] or "",
                assertion["acceptance"],
                "Ada",
            ]
        )
    header = [
        "Identifier",
        "Assertion ID",
        "Badge Class ID",
        "Badge Class Name",
        "Issue Date",
        "Expiration Date",
        "Revoked",
        "Revocation Reason",
        "Acceptance",
        "First Name",
    ]
    path = write(tmp_path / "badgr.csv", header, rows)
    ids = imported_ids(source(path, layout("badgr")))
    assert sorted(ids) == sorted(api_ids("badgr", page))
    assert statement_id(f"badgr|{page['result'][0]['entityId']}|issued") in ids


def test_a_canvas_credentials_file_without_assertion_ids_is_refused_before_any_row(tmp_path):
    header = ["Badge Class ID", "Identifier", "First Name", "Last Name", "Issue Date", "Expiration Date"]
    path = write(tmp_path / "bulk.csv", header, [["Bc1", "ada@example.com", "Ada", "L", "2026-01-01", ""]])
    with pytest.raises(CsvFileError, match="has no column 'Assertion ID'"):
        source(path, layout("badgr"))


def test_an_accredible_export_gives_the_ids_of_the_same_credentials_searched(tmp_path):
    page = fixture("accredible/credentials_search.json")
    rows = [
        [
            str(c["id"]),
            c["recipient"]["name"],
            c["recipient"]["email"],
            str(c["group"]["id"]),
            c["group"]["course_name"],
            c["issued_on"],
            c["expired_on"],
            c["url"],
            "unused",
        ]
        for c in page["credentials"]
    ]
    header = [
        "Credential ID",
        "Recipient Name",
        "Recipient Email",
        "Group ID",
        "Group Name",
        "Issued On",
        "Expires On",
        "Credential URL",
        "Approved",
    ]
    path = write(tmp_path / "accredible.csv", header, rows)
    assert sorted(imported_ids(source(path, layout("accredible")))) == sorted(api_ids("accredible", page))


# -- reading: hardened, bad rows by line ----------------------------------------------------------


def credly_rows(count: int = 3) -> list[list[str]]:
    return [export_row(b) for b in (fixture("credly/badges_page_1.json")["data"] * count)[:count]]


def test_bom_crlf_quoted_newlines_header_spelling_and_column_order_are_read(tmp_path):
    header = [h.upper().replace(" ", "_") for h in EXPORT_HEADER][::-1] + ["Unknown Column"]
    rows = [row[::-1] + ["x"] for row in credly_rows(3)]
    rows[1][EXPORT_HEADER[::-1].index("Badge Name")] = "Python\r\nExpert"  # a cell spanning lines
    path = write(tmp_path / "bom.csv", header, rows, encoding="utf-8-sig", lineterminator="\r\n")
    imported = source(path, layout("credly"))
    assert len(imported_ids(imported)) > 0
    assert (imported.stats.position.good, imported.stats.position.bad) == (3, 0)


def test_bad_rows_are_named_by_line_and_the_next_rows_are_read(tmp_path):
    rows = credly_rows(6)
    rows[1][EXPORT_HEADER.index("Badge Name")] = "x" * 200_000  # over the csv module's field limit
    rows[3] = rows[3] + ["shifted"]  # one cell more than the header
    rows[4][EXPORT_HEADER.index("Issued to Email")] = "Grace Hopper <grace@example>"
    path = write(tmp_path / "bad.csv", EXPORT_HEADER, rows)
    raw = path.read_bytes().split(b"\n")
    raw[3] = raw[3].replace(b"Python Expert", b"Python \xff Expert")  # line 4: not UTF-8
    path.write_bytes(b"\n".join(raw))
    imported = source(path, layout("credly"))
    list(imported.pages("backfill", None))
    bad = {row.line: row.reason for row in imported.stats.bad_rows}
    assert sorted(bad) == [3, 4, 5, 6]
    assert "field larger than field limit" in bad[3] and "not UTF-8" in bad[4]
    assert "16 cells, the header names 15" in bad[5] and bad[6] == "Issued to Email: not an email address"
    assert (imported.stats.position.rows, imported.stats.position.good) == (6, 2)
    assert "grace" not in json.dumps([r.reason for r in imported.stats.bad_rows])


def test_a_wrong_delimiter_or_a_missing_column_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    from chalicelib.cli import main
    from chalicelib.runtime import services

    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    services.cache_clear()
    semicolons = write(tmp_path / "semi.csv", EXPORT_HEADER, credly_rows(2), delimiter=";")
    assert main(["import-csv", "--platform", "credly", str(semicolons)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pass --delimiter ';'" in err
    assert (
        main(["import-csv", "--platform", "credly", str(semicolons), "--delimiter", ";", "--no-deliver", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["good"] == 2

    header = [h for h in EXPORT_HEADER if h != "Earner Badge ID"]
    short = write(tmp_path / "short.csv", header, [])
    assert main(["import-csv", "--platform", "credly", str(short)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no column 'Earner Badge ID'" in err
    services.cache_clear()


def test_a_row_running_on_over_lines_past_its_size_limit_is_one_bad_row_and_the_next_line_is_read(
    tmp_path, monkeypatch
):
    from chalicelib.pull import csvfile

    monkeypatch.setattr(csvfile, "MAX_RECORD_BYTES", 2_000)
    path = tmp_path / "quotes.csv"  # every line opens a quote, read on its own or inside a quoted cell
    path.write_text(",".join(EXPORT_HEADER) + "\n" + "".join(f'Python "Expert","{n}{"x" * 200}\n' for n in range(40)))
    imported = source(path, layout("credly"))
    list(imported.pages("backfill", None))
    bad = imported.stats.bad_rows
    assert [b.line for b in bad] == list(range(2, 42))  # each line once
    assert "runs on to line 11, not readable there as CSV (the row is longer than 2,000 bytes)" in bad[0].reason
    assert "the file ends inside the quoted cell" in bad[-1].reason


def test_quotes_never_closed_all_over_the_file_refuse_it_rather_than_read_it_again_and_again(tmp_path, monkeypatch):
    from chalicelib.pull import csvfile

    monkeypatch.setattr(csvfile, "MIN_REREAD_BYTES", 1)  # the file's own size is then the most read again
    # Each line opens a quote whether read on its own or inside a quoted cell (the first quote,
    # in the middle of a cell, closes one; the second opens a cell): each runs on to the end.
    path = tmp_path / "quotes.csv"
    path.write_text(",".join(EXPORT_HEADER) + "\n" + "".join(f'Python "Expert","{n}\n' for n in range(40)))
    with pytest.raises(CsvFileError, match=r"line \d+: too many quotes never closed"):
        list(source(path, layout("credly")).pages("backfill", None))


# -- pages and resume ---------------------------------------------------------------------------


def test_pages_hold_at_most_their_rows_and_bytes_and_a_row_too_large_is_bad(tmp_path):
    rows = credly_rows(7)
    rows[5][EXPORT_HEADER.index("Badge Name")] = "y" * 100_000
    path = write(tmp_path / "pages.csv", EXPORT_HEADER, rows)
    imported = source(path, layout("credly"), rows_per_page=2, page_bytes=20_000)
    pages = list(imported.pages("backfill", None))
    assert [p.records for p in pages] == [2, 2, 2] and pages[-1].last
    assert all(len(json.dumps(p.document)) <= 20_000 for p in pages)
    assert [(b.line, b.reason.split(" (")[0]) for b in imported.stats.bad_rows] == [(7, "too large to queue")]


class FailingQueue:
    """Takes `allowed` messages, then fails like an unreachable queue."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.sent: list = []

    def send(self, message) -> None:
        if len(self.sent) >= self.allowed:
            raise ConnectorError("queue unavailable")
        self.sent.append(message)

    def depth(self) -> int:
        return 0


def test_an_interrupted_import_resumes_after_the_last_page_queued_and_a_finished_one_is_not_resent(tmp_path):
    from chalicelib.pull.csvimport import cursor_name
    from chalicelib.pull.runner import PullRunner
    from chalicelib.store.sqlite import SqliteStore

    rows = credly_rows(9)
    for index, row in enumerate(rows):
        row[EXPORT_HEADER.index("Earner Badge ID")] = f"badge-{index}"
    rows[6][EXPORT_HEADER.index("Issue Date")] = "never"  # line 8: bad, after the second page
    path = write(tmp_path / "resume.csv", EXPORT_HEADER, rows)
    store, cursor = SqliteStore(str(tmp_path / "state.sqlite")), cursor_name("credly", path, "credly")

    first = FailingQueue(allowed=2)
    with pytest.raises(ConnectorError):
        PullRunner(store, first).run(
            "credly", "backfill", source(path, layout("credly"), rows_per_page=3), cursor=cursor
        )
    assert Position.decode(store.cursor(cursor)).rows == 6

    second = FailingQueue(allowed=10)
    resumed = source(path, layout("credly"), rows_per_page=3)
    report = PullRunner(store, second).run("credly", "backfill", resumed, cursor=cursor)
    assert report.finished and resumed.stats.resumed_at == 6
    ids = [e["credential"]["id"] for m in [*first.sent, *second.sent] for e in m.body if e["kind"] == "issued"]
    assert ids == [f"badge-{i}" for i in range(9) if i != 6]  # each once, in order
    assert (resumed.stats.position.good, resumed.stats.position.bad) == (8, 1)
    assert [b.line for b in resumed.stats.bad_rows] == [8]
    assert all(m.kind == "event" for m in second.sent)

    again = source(path, layout("credly"), rows_per_page=3)
    third = FailingQueue(allowed=10)
    assert PullRunner(store, third).run("credly", "backfill", again, cursor=cursor).pages == 0
    assert again.stats.already_imported and third.sent == []


def test_an_import_interrupted_after_an_unclosed_quote_resumes_after_the_rows_it_had_read_again(tmp_path):
    from chalicelib.pull.csvimport import cursor_name
    from chalicelib.pull.runner import PullRunner
    from chalicelib.store.sqlite import SqliteStore

    rows = credly_rows(9)
    for index, row in enumerate(rows):
        row[EXPORT_HEADER.index("Earner Badge ID")] = f"badge-{index}"
    path = write(tmp_path / "quote.csv", EXPORT_HEADER, rows)
    lines = path.read_bytes().split(b"\n")
    lines[3] = b'"' + lines[3]  # line 4 (badge-2) opens a quote the file never closes
    path.write_bytes(b"\n".join(lines))
    store, cursor = SqliteStore(str(tmp_path / "state.sqlite")), cursor_name("credly", path, "credly")

    first, interrupted = FailingQueue(allowed=1), source(path, layout("credly"), rows_per_page=3)
    with pytest.raises(ConnectorError):
        PullRunner(store, first).run("credly", "backfill", interrupted, cursor=cursor)
    assert [b.line for b in interrupted.stats.bad_rows] == [4]
    second, resumed = FailingQueue(allowed=10), source(path, layout("credly"), rows_per_page=3)
    assert PullRunner(store, second).run("credly", "backfill", resumed, cursor=cursor).finished

    ids = [e["credential"]["id"] for m in [*first.sent, *second.sent] for e in m.body if e["kind"] == "issued"]
    assert ids == [f"badge-{i}" for i in range(9) if i != 2]  # each once, in order
    position = resumed.stats.position
    assert (position.rows, position.good, position.bad, position.line) == (9, 8, 1, 10)


# -- mappings ------------------------------------------------------------------------------------

LMS_HEADER = ["Certificate No", "Course", "Course Code", "E-mail", "Staff Number", "State", "Completed", "Skills"]
LMS_ROWS = [
    ["C-1", "Fire Safety", "FS1", "ada@example.com", "E-1", "Active", "28/02/2026", "Safety; First aid"],
    ["C-2", "Fire Safety", "FS1", "grace@example.com", "", "withdrawn", "01/03/2026", ""],
    ["C-3", "Fire Safety", "FS1", "alan@example.com", "", "draft", "01/03/2026", ""],
    ["C-4", "Fire Safety", "FS1", "bob@example.com", "", "lost", "01/03/2026", ""],
    ["C-5", "Fire Safety", "FS1", "eve@example.com", "", "Active", "2026-03-01", ""],
]


def mapping_file(tmp_path: Path, **changes) -> Path:
    mapping = {
        "title": "LMS certificate export",
        "platform": "lms",
        "fields": [
            {"field": "credential_id", "column": "Certificate No"},
            {"field": "name", "column": "Course"},
            {"field": "template_iri", "template": "https://lms.example.com/courses/{Course Code}"},
            {"field": "learner_email", "column": "E-mail"},
            {"field": "employee_id", "column": "Staff Number"},
            {
                "field": "status",
                "column": "State",
                "map": {"active": "issued", "withdrawn": "revoked", "draft": "skip"},
            },
            {"field": "issued_at", "column": "Completed", "date_format": "%d/%m/%Y"},
            {"field": "skills", "column": "Skills", "split": ";"},
        ],
        **changes,
    }
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    return path


def test_a_mapping_reads_any_layout_into_canonical_events(tmp_path):
    path = write(tmp_path / "lms.csv", LMS_HEADER, LMS_ROWS)
    imported = source(path, load_mapping(mapping_file(tmp_path)))
    events = [e for page in imported.pages("backfill", None) for e in page.document]
    assert [(e["credential"]["id"], e["kind"]) for e in events] == [
        ("C-1", "issued"),
        ("C-2", "issued"),
        ("C-2", "revoked"),
    ]
    first = events[0]
    assert first["credential"]["template_iri"] == "https://lms.example.com/courses/FS1"
    assert first["credential"]["skills"] == ["Safety", "First aid"]
    assert (first["learner"]["earner_id"], first["occurred_at"][:10]) == ("E-1", "2026-02-28")
    ids = [s["id"] for s in make_translator().translate_event(events, AS_OF).statements]
    assert statement_id("lms|C-1|issued") in ids and statement_id("lms|C-2|revoked") in ids
    assert dict(imported.stats.skipped) == {"import-csv mapping status skip": 1}
    assert [(b.line, b.reason) for b in imported.stats.bad_rows] == [
        (5, "State: a value the mapping's map does not list (3 listed)"),
        (6, "Completed: not a time in the format '%d/%m/%Y'"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": [{"field": "credential_number", "column": "Certificate No"}]}, "unknown field 'credential_number'"),
        ({"platform": None}, "required field(s) not mapped: platform"),
        ({"platform": "LMS Export"}, "platform: lower-case letters"),
        ({"fields": [{"field": "name", "column": "Course", "value": "x"}]}, "exactly one of column, value, template"),
        ({"colums": []}, "colums: extra inputs are not permitted"),
    ],
)
def test_a_bad_mapping_is_refused_at_start_naming_the_problem(tmp_path, change, message):
    path = mapping_file(tmp_path)
    mapping = json.loads(path.read_text())
    if "fields" in change:
        mapping["fields"] = mapping["fields"] + change.pop("fields")
    mapping.update(change)
    path.write_text(json.dumps({k: v for k, v in mapping.items() if v is not None}))
    with pytest.raises(ConnectorError) as raised:
        load_mapping(path)
    assert message in str(raised.value).lower() or message in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1


def test_a_mapping_naming_a_column_the_file_lacks_is_refused_before_any_row(tmp_path):
    path = write(tmp_path / "lms.csv", [h for h in LMS_HEADER if h != "Course Code"], [])
    with pytest.raises(CsvFileError, match="has no column 'Course Code'"):
        source(path, load_mapping(mapping_file(tmp_path)))


def test_a_page_is_weighed_in_the_bytes_the_queue_counts_not_in_characters():
    from chalicelib.platforms.pulling import queued_size

    names = {"name": "漢字の名前" * 100}  # three UTF-8 bytes a character
    assert queued_size(names) == len(json.dumps(names, ensure_ascii=False, separators=(",", ":")).encode())
    assert queued_size(names) > len(json.dumps(names, ensure_ascii=False)) + 900
