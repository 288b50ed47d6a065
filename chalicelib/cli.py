"""Command line: python -m chalicelib <command> ... (see --help)."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, console
from .commands import register_commands
from .commands.local_delivery import LocalDelivery, add_deadline_option, delivered_text, reason_lines
from .connections import known_name as known_account
from .connections import name_argument as account_name
from .errors import EXIT_DEAD_LETTERS, EXIT_OUTSIDE_FAILURE, EXIT_USAGE, ConnectorError, OutsideFailure
from .platforms import names as platform_names
from .platforms import pulling_platforms
from .runs import recorded_command
from .settings import load_settings
from .timeutil import parse_time

if TYPE_CHECKING:
    from .pull.reconcile import ReconcileReport
    from .pull.runner import PullReport
    from .xapi import Statement


EXIT_STATUS = """exit status (every command; docs/operating.md#exit-codes):
  0  done: everything delivered (or queued for the workers)
  1  finished, but this run left dead letters or bad rows (listed, by reason)
  2  usage or configuration error (one line: error: ...)
  3  stopped by an outside failure: the LRS or a platform refused the credentials, stayed
     unreachable past --deadline, or answered endlessly; what was queued stays queued"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except OutsideFailure as error:
        console.line(f"error: {error}")
        return EXIT_OUTSIDE_FAILURE
    except ConnectorError as error:
        console.line(f"error: {error}")
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib",
        description=__doc__,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    translate = commands.add_parser(
        "translate",
        help="print the xAPI statements for platform payloads (one JSON array)",
        description="Translate platform payloads to xAPI statements and print them as one JSON "
        "array. Settings (identity, namespace, revocation policy...) come from the environment.",
    )
    translate.add_argument(
        "--source",
        required=True,
        type=account_name,
        metavar="SOURCE",
        help=f"a platform ({', '.join(platform_names())}) or a named connection (CONNECTIONS)",
    )
    translate.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="JSON file: one document or an array of documents"
    )
    translate.add_argument(
        "--as-of", type=_as_of, default=None, help="judge expiry at this time (ISO 8601; default: now)"
    )
    translate.set_defaults(handler=_translate)

    rules = commands.add_parser("rules", help="award rules: validate a rules file, check it against the LRS history")
    rules_commands = rules.add_subparsers(dest="action", required=True, metavar="action")
    validate = rules_commands.add_parser("validate", help="report every error in a rules file with its rule and field")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.set_defaults(handler=_rules_validate)
    check = rules_commands.add_parser(
        "check",
        help="replay the LRS history through the rules, without awarding: matches per week",
        description="Reads the LRS history for the rules' verbs and prints, per rule and criterion, "
        "how many statements matched each week. A criterion that dropped to zero while others go on "
        "is flagged: the signature of a replaced platform whose activity ids the rules do not know.",
    )
    check.add_argument("--rules", type=Path, help="rules file (default: AWARD_RULES)")
    check.add_argument("--since", type=_as_of, help="start of the history (default: 12 weeks ago)")
    check.add_argument("--recent", type=int, default=2, help="weeks without a match that count as a drop")
    check.set_defaults(handler=_rules_check)

    for mode, text in (
        ("backfill", "read a platform's whole history into the LRS (resumes where it stopped)"),
        ("sync", "read what changed on a platform since the last sync"),
    ):
        pull = commands.add_parser(
            mode,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. Each page is "
            "queued, then its cursor stored; with QUEUE_BACKEND=local the pages are also "
            "translated and delivered here. Progress on stderr, a summary on stdout.",
        )
        pull.add_argument(
            "platform",
            type=account_name,
            metavar="PLATFORM",
            help=f"one of: {', '.join(pulling_platforms(mode))}, or a named connection (CONNECTIONS)",
        )
        if mode == "backfill":
            pull.add_argument("--since", type=_as_of, help="only credentials issued since (ISO 8601)")
        pull.add_argument(
            "--restart",
            action="store_true",
            help="forget where the last run stopped (e.g. after moving to another region) and start over",
        )
        pull.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        add_deadline_option(pull)
        pull.set_defaults(handler=_pull, mode=mode)

    expire = commands.add_parser(
        "expire",
        help="queue the expired statement of every credential whose expiry has passed",
        description="No platform sends a webhook on expiry: the connector remembers future expiries as it "
        "delivers issued credentials. This queues (and, with QUEUE_BACKEND=local, delivers) the expired "
        "statement of each one due by --as-of, once.",
    )
    expire.add_argument("--as-of", type=_as_of, default=None, help="judge expiry at this time (default: now)")
    expire.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_deadline_option(expire)
    expire.set_defaults(handler=_expire)

    recon = commands.add_parser(
        "reconcile",
        help="find what a platform has that the LRS lacks, and send it",
        description="Reads the platform's history (since --since), translates it, looks every statement up "
        "in the LRS and queues the pages holding what is missing. Lists the missing statements on stdout.",
    )
    recon.add_argument(
        "platform",
        type=account_name,
        metavar="PLATFORM",
        help=f"one of: {', '.join(pulling_platforms('backfill'))}, or a named connection (CONNECTIONS)",
    )
    recon.add_argument("--since", type=_as_of, required=True, help="credentials issued since (ISO 8601)")
    recon.add_argument("--dry-run", action="store_true", help="list what is missing, send nothing")
    recon.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_deadline_option(recon)
    recon.set_defaults(handler=_reconcile)

    awards = commands.add_parser("awards", help="the award ledger: show or release a (platform|credential|learner) key")
    award_commands = awards.add_subparsers(dest="action", required=True, metavar="action")
    for action, text in (
        ("show", "print the ledger entry"),
        ("release", "forget a claim left by a crash, after checking the platform"),
    ):
        command = award_commands.add_parser(action, help=text)
        command.add_argument("key", metavar="KEY", help="platform|credential id|employee id")
        command.set_defaults(handler=_awards)
    register_commands(commands)
    return parser


def _as_of(text: str) -> datetime:
    """A time argument; argparse names the option in its message ("argument --since: ...")."""
    try:
        return parse_time(text, "")
    except ConnectorError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _translate(args: argparse.Namespace) -> int:
    from .delivery.translation import Translator

    known_account(args.source)  # a named connection CONNECTIONS declares, or a usage error
    translator = Translator(load_settings())
    as_of = args.as_of or datetime.now(UTC)
    # Events and statements hold no reference cycles: full collections over a large input
    # only cost time (more than half of it for 20,000 badges, see bench/).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    statements: list[dict] = []
    skipped: Counter[str] = Counter()
    for path in args.files:
        for index, document in _documents(path):
            where = f"{path}" if index is None else f"{path}[{index}]"
            try:
                result = translator.translate(args.source, document, as_of)
            except ConnectorError as error:
                raise ConnectorError(f"{where}: {error}") from None
            statements.extend(result.statements)
            skipped.update(s.rule for s in result.skipped)
    _write_array(statements)
    summary = f"{len(statements)} statement(s) from {len(args.files)} file(s)"
    if skipped:
        summary += "; skipped " + ", ".join(f"{rule}: {n}" for rule, n in sorted(skipped.items()))
    print(summary, file=sys.stderr)
    return 0


def _write_array(statements: list[dict]) -> None:
    """One statement at a time: json.dump on a stream skips the C encoder, dumps() holds it all."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    write = sys.stdout.write
    write("[")
    for index, statement in enumerate(statements):
        write("," if index else "")
        write(encode(statement))
    write("]\n")


def _rules_validate(args: argparse.Namespace) -> int:
    from .awards.rules import validate_command

    code, lines = validate_command(args.file)
    stream = sys.stdout if code == 0 else sys.stderr
    for line in lines:
        print(line, file=stream)
    return code


def _rules_check(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from .awards.check import check_history, render
    from .awards.rules import load_rules
    from .xapi.lrs import LrsClient

    settings = load_settings()
    path = args.rules or settings.award_rules
    if not path:
        raise ConnectorError("no rules: pass --rules FILE or set AWARD_RULES")
    ruleset = load_rules(path)
    until = datetime.now(UTC)
    since = args.since or until - timedelta(weeks=12)
    lrs = LrsClient.from_settings(settings)

    def history() -> Iterator[Statement]:
        read = 0
        for verb in ruleset.verbs():
            for statement in lrs.query(verb=verb, since=since):
                read += 1
                if read % 500 == 0:
                    print(f"  read {read} statements...", file=sys.stderr, flush=True)
                yield statement
        print(f"  read {read} statements for {len(ruleset.verbs())} verb(s)", file=sys.stderr)

    report = check_history(ruleset, history(), since, until)
    for line in render(report, args.recent):
        print(line)
    return 0


@recorded_command(lambda args: known_account(args.platform), lambda args: args.mode)
def _pull(args: argparse.Namespace) -> int:
    from .platforms import puller
    from .pull.runner import PullRunner, cursor_name
    from .runtime import services

    connector = services()
    if args.restart:
        connector.store.set_cursor(cursor_name(args.platform, args.mode), None)
    source = puller(args.platform, connector.settings, args.mode)
    delivery = LocalDelivery(connector, deadline=args.deadline)
    args.tally.outcome = delivery.outcome

    def on_page(report: PullReport) -> None:
        args.tally.records = report.records
        _progress(report, delivery.statements())
        delivery.pace()

    with delivery:
        runner = PullRunner(connector.store, delivery.queue)
        report = runner.run(args.platform, args.mode, source, since=getattr(args, "since", None), on_page=on_page)
    console.end_progress()
    outcome = delivery.outcome()
    args.tally.finished = report.finished
    state = "finished" if report.finished else "stopped early: the next run resumes"
    _finish(
        {**report.as_dict(), **outcome},
        args.json,
        outcome,
        f"{args.platform} {args.mode}: {report.records} record(s) in {report.pages} page(s)"
        f"{delivered_text(outcome)}, {report.elapsed():.1f} s, {state}",
    )
    return _exit_code(outcome)


def _finish(summary: dict, as_json: bool, outcome: dict, sentence: str, listing: bool = False) -> None:
    """The summary: one JSON object, or a sentence (on stdout; on stderr when stdout is a `listing`);
    this run's dead letters by reason on stderr."""
    for line in reason_lines(outcome):
        console.line(line)
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
    elif listing:
        console.line(sentence)
    else:
        print(sentence)


def _exit_code(outcome: dict, bad: int = 0) -> int:
    return EXIT_DEAD_LETTERS if bad or outcome.get("dead_letters") else 0


@recorded_command(lambda args: "expiry", lambda args: "expire")
def _expire(args: argparse.Namespace) -> int:
    from .delivery.expiry import sweep
    from .runtime import services

    connector = services()
    as_of = args.as_of or datetime.now(UTC)
    with LocalDelivery(connector, deadline=args.deadline) as delivery:
        args.tally.outcome = delivery.outcome
        report = sweep(connector.store, delivery.queue, as_of)
    outcome = delivery.outcome()
    args.tally.records, args.tally.finished = report.expired, report.finished
    _finish(
        {"as_of": as_of.isoformat(), "expired": report.expired, **outcome},
        args.json,
        outcome,
        f"expire: {report.expired} credential(s) expired as of {as_of.isoformat()}{delivered_text(outcome)}",
    )
    return _exit_code(outcome)


@recorded_command(lambda args: known_account(args.platform), lambda args: "reconcile")
def _reconcile(args: argparse.Namespace) -> int:
    from .delivery.delivered import DeliveredLog
    from .platforms import puller
    from .pull.reconcile import reconcile
    from .runtime import services

    connector = services()
    source = puller(args.platform, connector.settings, "backfill")
    translator, lrs = connector.worker.translator, connector.worker.lrs

    def on_page(report: ReconcileReport) -> None:
        args.tally.records = report.statements
        console.progress(
            f"{args.platform} reconcile: {report.pages} pages, {report.statements:,} statements, "
            f"{len(report.missing):,} missing"
        )

    now = datetime.now(UTC)
    with LocalDelivery(connector, enabled=not args.dry_run, deadline=args.deadline) as delivery:
        args.tally.outcome = delivery.outcome
        queue = None if args.dry_run else delivery.queue
        report = reconcile(
            args.platform,
            source,
            args.since,
            translator,
            lrs,
            queue,
            now,
            on_page,
            distrust=DeliveredLog(connector.store, lrs).forget,
        )
    console.end_progress()
    outcome = delivery.outcome()
    summary = {
        "platform": args.platform,
        "pages": report.pages,
        "statements": report.statements,
        "missing": len(report.missing),
        "pages_sent": report.pages_sent,
        "unreadable_pages": report.unreadable_pages,
        **outcome,
    }
    if not args.json:
        for item in report.missing:
            print(f"{item.statement_id}  {item.verb.rsplit('/', 1)[-1]:<10} {item.credential}")
    for problem in report.unreadable_pages:
        console.line(f"unreadable: {problem}")
    action = (
        "listed (dry run)" if args.dry_run else f"sent again ({report.pages_sent} page(s)){delivered_text(outcome)}"
    )
    _finish(
        {**summary, "missing_statements": [m.__dict__ for m in report.missing]},
        args.json,
        outcome,
        f"{args.platform} reconcile: {len(report.missing)} of {report.statements} statement(s) missing, {action}",
        listing=True,
    )
    return _exit_code(outcome, bad=len(report.unreadable_pages))


def _progress(report: PullReport, statements: int | None) -> None:
    done = f"{report.records:,}" + (f"/{report.total:,}" if report.total else "")
    eta = report.eta()
    parts = [f"{report.platform} {report.mode}: {done} records", f"{report.pages} pages", f"{report.rate():,.0f}/s"]
    if statements is not None:
        parts.insert(1, f"{statements:,} statements")
    if eta is not None:
        parts.append(f"ETA {eta:,.0f} s")
    console.progress(", ".join(parts))


def _awards(args: argparse.Namespace) -> int:
    from .runtime import services

    store = services().store
    record = store.award(args.key)
    if record is None:
        raise ConnectorError(f"no ledger entry for {args.key}")
    if args.action == "release":
        if record["state"] == "awarded":
            raise ConnectorError(f"{args.key} was awarded (vendor id {record.get('vendor_id')}): not released")
        store.release_award(args.key)
        print(f"released {args.key} (was {record['state']})")
        return 0
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0


def _documents(path: Path) -> list[tuple[int | None, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConnectorError(f"{path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConnectorError(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if isinstance(data, list):
        return list(enumerate(data))
    return [(None, data)]
