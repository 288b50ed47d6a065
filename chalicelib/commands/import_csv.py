"""python -m chalicelib import-csv: a platform's CSV export (or any CSV, through a mapping) into the LRS.

The plan B where a platform's API is out of reach. The file is read row by row, each row checked
as the worker would, bad rows reported by line and left out; good rows are queued in pages by the
pull runner (resumable: the position is stored per file content) and, with QUEUE_BACKEND=local,
delivered as they are queued. Progress on stderr, a summary on stdout. Docs: docs/csv-import.md.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import console
from ..connections import known_name, name_argument
from ..errors import EXIT_DEAD_LETTERS
from ..platforms import csv_platforms
from ..runs import recorded_command
from .local_delivery import LocalDelivery, add_deadline_option, delivered_text, reason_lines

if TYPE_CHECKING:
    from ..pull.csvimport import BadRow, ImportStats, RowReader
    from ..pull.runner import PullReport
    from ..settings import Settings

PRINTED_BAD_ROWS = 100  # on stderr as they are found; the summary lists up to csvimport.MAX_LISTED_BAD_ROWS


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import-csv",
        help="import a platform's CSV export, or any CSV through a mapping (resumes where it stopped)",
        description="Reads a CSV file row by row into the LRS: a platform's own export (--platform), or any "
        "layout through a JSON mapping of its columns to the connector's fields (--mapping). Bad rows are "
        "reported with their line and left out; the rest is queued (and, with QUEUE_BACKEND=local, "
        "delivered). An interrupted import resumes where it stopped; a file imported whole is not sent "
        "again unless --restart. Exit status 1 when some rows were bad or ended as dead letters, 2 when the "
        "file cannot be read, 3 when the LRS refused the connector or made no progress for --deadline seconds.",
        epilog="Mapping fields: see docs/csv-import.md.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the CSV file (UTF-8, a header line first)")
    layout = parser.add_mutually_exclusive_group(required=True)
    layout.add_argument(
        "--platform",
        type=name_argument,
        metavar="PLATFORM",
        help=f"the platform whose own export FILE is: one of {', '.join(csv_platforms())}, or a "
        "named connection (CONNECTIONS) of one: its rows are that connection's",
    )
    layout.add_argument("--mapping", type=Path, metavar="MAPPING", help="JSON mapping of FILE's columns")
    parser.add_argument(
        "--delimiter", default=",", type=_delimiter, help="cell separator: a character, or tab (default ,)"
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="forget where an earlier import of FILE stopped (or that it finished) and read it from the start",
    )
    parser.add_argument(
        "--no-deliver",
        action="store_true",
        help="queue only, even with QUEUE_BACKEND=local (the outbox's worker delivers later)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_deadline_option(parser)
    parser.set_defaults(handler=run)


def _delimiter(text: str) -> str:
    value = "\t" if text.lower() in ("tab", "\\t") else text
    if len(value) != 1:
        raise argparse.ArgumentTypeError("one character, or tab")
    return value


@recorded_command(lambda args: known_name(args.platform) if args.platform else "mapping", lambda args: "import-csv")
def run(args: argparse.Namespace) -> int:
    from ..pull.csvfile import CsvFile
    from ..pull.csvimport import CsvSource, cursor_name
    from ..pull.runner import PullRunner
    from ..runtime import services

    connector = services()
    reader, label, key = _reader(args, connector.settings)
    args.tally.source = label
    file = CsvFile(args.file, args.delimiter)
    translator, as_of = connector.worker.translator, datetime.now(UTC)
    progress = Progress(label, file.size)
    source = CsvSource(file, reader, check=lambda event: translator.statements(event, as_of), on_bad=progress.bad)
    cursor = cursor_name(label, args.file, key)
    if args.restart:
        connector.store.set_cursor(cursor, None)
    delivery = LocalDelivery(connector, enabled=not args.no_deliver, deadline=args.deadline)
    args.tally.outcome = delivery.outcome

    def on_page(report: PullReport) -> None:
        args.tally.records = source.stats.position.good
        progress.show(source.stats, delivery.statements())
        delivery.pace()

    with delivery:
        report = PullRunner(connector.store, delivery.queue).run(
            label, "backfill", source, on_page=on_page, cursor=cursor
        )
    progress.show(source.stats, delivery.statements())
    console.end_progress()
    summary = _summary(args.file, reader.title, label, source.stats, report, progress.elapsed())
    args.tally.records, args.tally.finished = summary["good"], report.finished
    outcome = delivery.outcome()
    summary.update(outcome)
    for line in reason_lines(outcome):
        console.line(line)
    _print(summary, args.json, delivered_text(outcome))
    # a file imported before with bad rows still has them: the rerun says so by its status too
    return EXIT_DEAD_LETTERS if summary["bad"] or outcome.get("dead_letters") else 0


def _reader(args: argparse.Namespace, settings: Settings) -> tuple[RowReader, str, str]:
    """The row reader, the label of its messages and cursor, and what distinguishes its layout."""
    from ..platforms import adapter_for, csv_layout
    from ..pull.csvimport import LayoutRows
    from ..pull.csvmapping import load_mapping

    if args.platform:
        return (
            LayoutRows(csv_layout(args.platform, settings), adapter_for(args.platform, settings)),
            args.platform,
            args.platform,
        )
    mapping = load_mapping(args.mapping)
    return mapping, mapping.mapping.platform or "mapping", mapping.key


class Progress:
    """One line on stderr, rewritten: rows, rows/s, % of the file's bytes, ETA; bad rows above it."""

    def __init__(self, label: str, size: int) -> None:
        self.label = label
        self.size = size
        self.started = time.monotonic()
        self.printed = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def bad(self, row: BadRow) -> None:
        self.printed += 1
        if self.printed <= PRINTED_BAD_ROWS:
            console.line(f"line {row.line}: {row.reason}")
        elif self.printed == PRINTED_BAD_ROWS + 1:
            console.line("more bad rows: listed in the summary (up to its limit) and counted")

    def show(self, stats: ImportStats, statements: int | None) -> None:
        elapsed = max(self.elapsed(), 1e-6)
        rows = stats.position.rows - stats.resumed_at
        done = stats.read_bytes - stats.start_bytes  # bytes read by this run: its rate gives the ETA
        parts = [
            f"{self.label} import: {stats.position.rows:,} rows ({stats.position.bad:,} bad)",
            f"{rows / elapsed:,.0f} rows/s",
            f"{100 * stats.read_bytes / max(self.size, 1):.0f}% of the file",
        ]
        if statements is not None:
            parts.insert(1, f"{statements:,} statements")
        if done > 0 and stats.read_bytes < self.size:
            parts.append(f"ETA {elapsed * (self.size - stats.read_bytes) / done:,.0f} s")
        console.progress(", ".join(parts))


def _summary(path: Path, title: str, label: str, stats: ImportStats, report: PullReport, seconds: float) -> dict:
    position = stats.position
    return {
        "file": str(path),
        "layout": title,
        "platform": label,
        "lines": position.line,
        "rows": position.rows,
        "good": position.good,
        "bad": position.bad,
        "skipped": dict(stats.skipped),
        "pages": report.pages,
        "resumed_at_row": stats.resumed_at,
        "already_imported": stats.already_imported,
        "finished": report.finished,
        "seconds": round(seconds, 3),
        "bad_rows": [{"line": b.line, "reason": b.reason} for b in stats.bad_rows],
    }


def _print(summary: dict, as_json: bool, sent: str) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    for bad in summary["bad_rows"]:
        print(f"line {bad['line']}: {bad['reason']}")
    counts = f"{summary['rows']:,} rows: {summary['good']:,} good, {summary['bad']:,} bad"
    if summary["skipped"]:
        counts += ", skipped " + ", ".join(f"{rule}: {n:,}" for rule, n in sorted(summary["skipped"].items()))
    head = f"{summary['platform']} import-csv {summary['file']}"
    if summary["already_imported"]:
        print(
            f"{head}: imported before ({counts}): nothing queued, all {summary['good']:,} good rows are "
            "duplicates; --restart sends them again"
        )
        return
    state = "finished" if summary["finished"] else "stopped early: the next run resumes"
    print(f"{head}: {counts}{sent}; {summary['seconds']:.1f} s, {state}")
