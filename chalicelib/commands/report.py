"""`python -m chalicelib report`: credentials held, skills, share funnel, preceding activities and
expiries, read from the LRS, as tables on the terminal, CSV files or one HTML page."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..errors import ConnectorError
from ..report import cli_options
from ..report.ledger import Window
from ..skills import load_skills
from ..timeutil import parse_time

DEFAULT_DAYS = 365
DAYS_MAX = 36_500  # a century: longer windows mean nothing more, and timedelta stops at 999,999,999 days
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
PAGE_SIZE = 1000  # statements asked per LRS request; an LRS answering fewer pages on with `more`


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="report on credentials from the LRS: held, skills, shares, preceding activities, expiries",
        description="Reads the connector's statements (and learners' completed activities) from the LRS page by "
        "page and answers, for a range of time: credentials held per team and job role; skills held and the "
        "teams missing them; the share funnel per month, credential and channel; the activities learners "
        "completed before earning each credential; credentials expiring soon. Tables on stdout, progress on "
        "stderr; --csv and --html write files. Learners' emails appear only with --include-emails.",
    )
    report.add_argument("--since", help="start of the range, ISO 8601 date or time (default: a year before --until)")
    report.add_argument("--until", help="end of the range, excluded; a date means the end of that day (default: now)")
    report.add_argument(
        "--before-days",
        type=_window_days,
        default=30,
        metavar="N",
        help=f"activities completed in the N days before earning count (default: 30, at most {DAYS_MAX})",
    )
    report.add_argument(
        "--expiring-days",
        type=_window_days,
        default=90,
        metavar="N",
        help=f"credentials expiring in the N days after the range (default: 90, at most {DAYS_MAX})",
    )
    report.add_argument(
        "--top", type=_days, default=5, metavar="N", help="activities shown per credential (default: 5)"
    )
    report.add_argument("--csv", type=Path, metavar="DIR", help="write one CSV file per answer into DIR")
    report.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained HTML page with charts")
    report.add_argument(
        "--include-emails", action="store_true", help="show learners' emails next to their names (expiring credentials)"
    )
    report.add_argument(
        "--page-size",
        type=_days,
        default=PAGE_SIZE,
        metavar="N",
        help=f"statements asked per LRS page (default: {PAGE_SIZE}; an LRS answering fewer pages on)",
    )
    cli_options.add_arguments(report)
    report.add_argument(
        "--skills-unmapped",
        action="store_true",
        help="instead of the answers, list the skill names of credentials earned in the range that "
        "SKILLS_FILE does not map, with how many credentials carry each",
    )
    report.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..identity import IdentityResolver, LearnerDirectory
    from ..identity.coverage import Coverage
    from ..report import render_csv, render_html, render_text
    from ..report.answers import Options
    from ..report.collect import build_report
    from ..report.facts import StatementReader
    from ..report.history import LrsHistory
    from ..report.skills_unmapped import unmapped_skills
    from ..settings import load_settings
    from ..xapi.lrs import LrsClient
    from ..xapi.vocabulary import DeploymentVocabulary

    window = window_from(args.since, args.until, datetime.now(UTC))
    settings = load_settings()
    directory = LearnerDirectory.from_settings(settings)
    headcounts = directory.headcounts()
    options = Options(args.before_days, args.expiring_days, args.top, args.include_emails, headcounts=headcounts)
    history = LrsHistory(LrsClient.from_settings(settings), page_size=args.page_size)
    vocab = DeploymentVocabulary(settings.xapi_extension_base)
    skills = load_skills(settings.skills_file) if settings.skills_file else None
    # Without a directory there is nothing to map to: no coverage section rather than 0% everywhere.
    identity = (
        Coverage(IdentityResolver(settings.identity_ifi, directory, settings.identity_homepage), vocab)
        if settings.learner_directory
        else None
    )
    tables = (
        unmapped_skills(history, StatementReader(vocab, skills), window)
        if args.skills_unmapped
        else build_report(history, vocab, window, options, cli_options.more_from(args), skills, identity)
    )
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
    start = parse_time(since, "--since") if since else end - min(timedelta(days=DEFAULT_DAYS), end - EARLIEST)
    if start >= end:
        raise ConnectorError(f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})")
    return Window(start, end)


def describe(window: Window) -> str:
    return (
        f"Range: {_minute(window.since)} to {_minute(window.until)} UTC "
        "(statements' timestamps; the end is excluded and is the moment 'held' and 'expiring' refer to)"
    )


def _minute(moment: datetime) -> str:
    return moment.isoformat(" ", "minutes")[:16]  # strftime's %Y drops the leading zeros of years before 1000


def _end(text: str) -> datetime:
    """A date alone means the whole of that day: the range ends at the next midnight."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_time(text, "--until")
    if day == date.max:
        raise ConnectorError(
            f"--until: the end of {day} is past the last time there is; give a time (e.g. {day}T23:59:59Z)"
        )
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _days(text: str, most: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}") from None
    if value < 1 or (most is not None and value > most):
        bounds = "1 or more" if most is None else f"1 to {most}"
        raise argparse.ArgumentTypeError(f"expected {bounds}, got {_shown(text)}")
    return value


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def _window_days(text: str) -> int:
    return _days(text, DAYS_MAX)
