"""`python -m chalicelib identity check|remap`: how many credential recipients map to the learner
directory, and correcting the statements sent under a fallback identity once they map."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .. import console
from ..errors import EXIT_DEAD_LETTERS, ConnectorError, InputError, OutsideFailure

if TYPE_CHECKING:
    from ..connections import Connection
    from ..identity import IdentityResolver
    from ..identity.coverage import Coverage
    from ..identity.directory import LearnerDirectory
    from ..settings import Settings
    from ..xapi.vocabulary import DeploymentVocabulary

PAGE_SIZE = 500  # statements asked per LRS request


class EndlessPages(OutsideFailure):
    """A platform keeps announcing pages it sends empty."""


def register(commands: argparse._SubParsersAction) -> None:
    identity = commands.add_parser(
        "identity", help="learner identity: directory coverage, correcting fallback identities"
    )
    actions = identity.add_subparsers(dest="action", required=True, metavar="action")
    check = actions.add_parser(
        "check",
        help="the share of credential recipients the learner directory maps, per platform and organisation",
        description="Reads the recipients of every configured connection through its API (its backfill pages, "
        "nothing queued) and of the connector's statements in the LRS, and prints per platform and organisation "
        "the share mapped to LEARNER_DIRECTORY, the unmapped ones by email domain and the aliases (other_emails) "
        "that would map the most. Progress on stderr.",
    )
    check.add_argument("--only", choices=("platforms", "lrs"), help="read only the platforms' APIs or only the LRS")
    check.add_argument("--csv", type=Path, metavar="DIR", help="also write one CSV file per table into DIR")
    _page_size(check)
    check.set_defaults(handler=run_check)
    remap = actions.add_parser(
        "remap",
        help="re-send under the mapped identity the statements sent under a fallback one, voiding those",
        description="Finds the connector's statements in the LRS whose actor the learner directory now maps to "
        "another agent (a new person, alias or platform id), sends each again under that agent (its own "
        "deterministic id) and voids the original. A second run finds nothing to do. docs/identity.md",
    )
    remap.add_argument("--dry-run", action="store_true", help="count what would be corrected, send nothing")
    remap.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    _page_size(remap)
    remap.set_defaults(handler=run_remap)


def _page_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--page-size",
        type=_positive,
        default=PAGE_SIZE,
        metavar="N",
        help=f"statements asked per LRS page (default {PAGE_SIZE})",
    )


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text[:40]!r}")
    return int(text)


def run_check(args: argparse.Namespace) -> int:
    from ..identity.coverage import LRS_SOURCE, PLATFORM_SOURCE, Coverage
    from ..report import render_csv, render_text

    settings, resolver, vocab, directory = _identity(args)
    coverage = Coverage(resolver, vocab)
    unreadable = 0
    if args.only != "lrs":
        unreadable = _read_platforms(settings, coverage)
    if args.only != "platforms":
        _read_lrs(settings, coverage, args.page_size)
    sources = {"platforms": (PLATFORM_SOURCE,), "lrs": (LRS_SOURCE,)}.get(args.only, (PLATFORM_SOURCE, LRS_SOURCE))
    tables = coverage.tables(sources, directory)
    for line in render_text.render(
        tables,
        f"Identity coverage (IDENTITY_IFI={settings.identity_ifi}, {len(directory)} people in the learner directory)",
    ):
        print(line)
    if args.csv:
        try:
            for path in render_csv.write(tables, args.csv):
                console.line(f"wrote {path}")
        except OSError as error:
            raise ConnectorError(f"cannot write {error.filename}: {error.strerror}") from None
    return EXIT_DEAD_LETTERS if unreadable else 0


def run_remap(args: argparse.Namespace) -> int:
    from ..identity.remap import RemapCounts, Remapper
    from ..xapi.lrs import LrsClient
    from ..xapi.statements import StatementBuilder

    settings, resolver, vocab, _ = _identity(args)

    def progress(counts: RemapCounts) -> None:
        console.progress(f"identity remap: {counts.read:,} statements read, {counts.found:,} to correct")

    builder = StatementBuilder.from_settings(settings, resolver)
    remapper = Remapper(
        resolver,
        LrsClient.from_settings(settings),
        vocab,
        settings.statement_id_namespace,
        builder.connector_agent,
        args.page_size,
        progress,
    )
    counts = remapper.run(dry_run=args.dry_run)
    console.end_progress()
    for reason, times in sorted(_reasons(counts.refused).items(), key=lambda item: -item[1]):
        console.line(f"refused: {times:,} x {reason}")
    if args.json:
        print(json.dumps({**counts.as_dict(), "dry_run": args.dry_run}))
    else:
        done = " (dry run: nothing sent)" if args.dry_run else ""
        print(
            f"identity remap: {counts.read:,} statement(s) read; found {counts.found:,}, voided {counts.voided:,}, "
            f"re-sent {counts.re_sent:,}, already remapped {counts.already_remapped:,}"
            + (f", refused {len(counts.refused):,}" if counts.refused else "")
            + done
        )
    return EXIT_DEAD_LETTERS if counts.refused else 0


def _reasons(refused: list[str]) -> dict[str, int]:
    from .local_delivery import reason_group

    found: dict[str, int] = {}
    for reason in refused:
        found[reason_group(reason)] = found.get(reason_group(reason), 0) + 1
    return found


def _identity(args: argparse.Namespace) -> tuple[Settings, IdentityResolver, DeploymentVocabulary, LearnerDirectory]:
    from ..identity import IdentityResolver
    from ..identity.sources import read_once
    from ..settings import load_settings
    from ..xapi.vocabulary import DeploymentVocabulary

    settings = load_settings()
    directory = read_once(settings)
    resolver = IdentityResolver(settings.identity_ifi, directory, settings.identity_homepage)
    return settings, resolver, DeploymentVocabulary(settings.xapi_extension_base), directory


def _read_platforms(settings: Settings, coverage: Coverage) -> int:
    """Every configured connection's recipients, from its backfill pages; the pages that could not
    be parsed (named on stderr, counted)."""
    from ..connections import configured_connections
    from ..platforms import platform, unset_settings

    unreadable = 0
    for conn in configured_connections(settings):
        entry = platform(conn.platform)
        if "backfill" not in entry.pull or unset_settings(conn.settings, entry.api_settings):
            console.line(f"{conn.name}: no API settings to read recipients with (its statements in the LRS count)")
            continue
        unreadable += _read_connection(conn, coverage)
    return unreadable


def _read_connection(conn: Connection, coverage: Coverage) -> int:
    from ..events import CredentialEvent
    from ..platforms import adapter_for, platform, puller

    title = platform(conn.platform).title
    adapter = adapter_for(conn.platform, conn.settings)
    seen: set[str] = set()  # credential ids: a credential's several events count once
    empty = unreadable = records = 0
    for page in puller(conn.platform, conn.settings, "backfill").pages("backfill", None):
        empty = empty + 1 if page.no_progress() else 0
        if empty > conn.settings.pull_max_empty_pages:
            raise EndlessPages(
                f"{conn.name}: {empty} empty pages in a row while announcing more (PULL_MAX_EMPTY_PAGES)"
            )
        try:
            events = [e for e in adapter.parse(page.document) if isinstance(e, CredentialEvent)]
        except InputError as error:
            unreadable += 1
            console.line(f"{conn.name}: unreadable page ({error.field}: {error.message})")
            continue
        for event in events:
            if event.credential.id not in seen and not event.minimal:
                seen.add(event.credential.id)
                coverage.add_learner(conn.platform, title, conn.organisation, event.learner)
        records += page.records
        console.progress(f"{conn.name}: {records:,} records read")
    console.end_progress()
    return unreadable


def _read_lrs(settings: Settings, coverage: Coverage, page_size: int) -> None:
    from ..identity.remap import learner_verbs
    from ..xapi.lrs import LrsClient

    lrs = LrsClient.from_settings(settings)
    read = 0
    for verb in learner_verbs(coverage.vocab):
        for statement in lrs.query(verb=verb, limit=page_size):
            coverage.add_statement(statement)
            read += 1
            if read % 1000 == 0:
                console.progress(f"LRS: {read:,} statements read")
    console.end_progress()
    console.line(f"LRS: {read:,} statement(s) read")
