"""`python -m chalicelib report`: credentials held, skills, share funnel, preceding activities and
expiries, read from the LRS, as tables on the terminal, CSV files or one HTML page."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..errors import ConnectorError
from ..report.ledger import Window
from ..timeutil import parse_time

DEFAULT_DAYS = 365


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="report on credentials from the LRS: held, skills, shares, preceding activities, expiries",
        description="Reads the connector's statements (and learners' completed activities) from the LRS page by "
        "page and answers, for a range of time: credentials held per team and job role; skills held and the "
        "teams missing them; the share funnel per month, credential and channel; the activities learners "
        "completed before earning each credential; credentials expiring soon. Tables on stdout, progress on "
        "stderr; --csv and --html write files. Learners' emails appear only with --include-emails.")
    report.add_argument("--since", help="start of the range, ISO 8601 date or time (default: a year before --until)")
    report.add_argument("--until", help="end of the range, excluded; a date means the end of that day (default: now)")
    report.add_argument("--before-days", type=_days, default=30, metavar="N",
                        help="activities completed in the N days before earning count (default: 30)")
    report.add_argument("--expiring-days", type=_days, default=90, metavar="N",
                        help="credentials expiring in the N days after the range (default: 90)")
    report.add_argument("--top", type=_days, default=5, metavar="N", help="activities shown per credential (default: 5)")
    report.add_argument("--csv", type=Path, metavar="DIR", help="write one CSV file per answer into DIR")
    report.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained HTML page with charts")
    report.add_argument("--include-emails", action="store_true",
                        help="show learners' emails next to their names (expiring credentials)")
    report.add_argument("--page-size", type=_days, metavar="N", help="statements per LRS page (default: the LRS's)")
    report.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..report import render_csv, render_html, render_text
    from ..report.answers import Options
    from ..report.collect import build_report
    from ..report.history import LrsHistory
    from ..settings import load_settings
    from ..xapi.lrs import LrsClient
    from ..xapi.vocabulary import DeploymentVocabulary

    window = window_from(args.since, args.until, datetime.now(timezone.utc))
    settings = load_settings()
    options = Options(args.before_days, args.expiring_days, args.top, args.include_emails)
    history = LrsHistory(LrsClient.from_settings(settings), page_size=args.page_size)
    tables = build_report(history, DeploymentVocabulary(settings.xapi_extension_base), window, options)
    history.finish()
    heading = describe(window)
    for line in render_text.render(tables, heading):
        print(line)
    try:
        if args.csv:
            for path in render_csv.write(tables, args.csv):
                print(f"wrote {path}", file=sys.stderr)
        if args.html:
            args.html.parent.mkdir(parents=True, exist_ok=True)
            args.html.write_text(render_html.page(tables, heading), encoding="utf-8")
            print(f"wrote {args.html}", file=sys.stderr)
    except OSError as error:
        raise ConnectorError(f"cannot write the report: {error.filename}: {error.strerror}") from None
    return 0


def window_from(since: str | None, until: str | None, now: datetime) -> Window:
    end = _end(until) if until else now
    start = parse_time(since, "--since") if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ConnectorError(f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})")
    return Window(start, end)


def describe(window: Window) -> str:
    return (f"Range: {window.since:%Y-%m-%d %H:%M} to {window.until:%Y-%m-%d %H:%M} UTC "
            "(statements' timestamps; the end is excluded and is the moment 'held' and 'expiring' refer to)")


def _end(text: str) -> datetime:
    """A date alone means the whole of that day: the range ends at the next midnight."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_time(text, "--until")
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value
