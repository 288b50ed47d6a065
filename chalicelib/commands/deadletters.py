"""`python -m chalicelib deadletters list|replay|discard|discarded|restore`: what could not be delivered.

The letters to list, replay or discard are picked by id, or by filters (source, a part of the
reason, the letter's last time) that the store applies in its query, reading no message. A replay
or discard with --dry-run lists what it would take and changes nothing. A discard keeps an audit
record of each letter (the whole letter and why it went: `discarded`); `restore` puts a discarded
letter back among the dead letters. Docs: docs/operating.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from .. import console
from ..errors import EXIT_DEAD_LETTERS, ConnectorError, OutsideFailure
from ..timeutil import parse_time

if TYPE_CHECKING:
    from ..store import DeadLetter, DeadLetterHead, DeadLetterStore, DiscardedLetter, LetterFilter

FILTERS = ("source", "reason", "since", "until")


def register(commands: argparse._SubParsersAction) -> None:
    dead = commands.add_parser(
        "deadletters",
        help="list, replay or discard dead letters",
        description="Dead letters: what could not be delivered, with the reason.",
    )
    actions = dead.add_subparsers(dest="action", required=True, metavar="action")
    listing = actions.add_parser("list", help="list dead letters (id, source, attempts, last time, reason)")
    _add_filters(listing)
    listing.add_argument("--json", action="store_true", help="print JSON lines with the full messages")
    listing.set_defaults(handler=list_letters)

    replaying = actions.add_parser(
        "replay",
        help="send dead letters through the worker again",
        description="Replays in order; stops (exit 3) at the first letter the LRS or a "
        "platform cannot take now, keeping it and the rest. Exit 1 when some are "
        "dead-lettered again.",
    )
    _add_selection(replaying, "replayed")
    replaying.set_defaults(handler=replay_letters)

    discarding = actions.add_parser(
        "discard",
        help="remove dead letters, keeping an audit record of each",
        description="Removes the dead letters selected; each one's record (the "
        "letter, its message and --because) stays: `deadletters discarded`.",
    )
    _add_selection(discarding, "discarded")
    discarding.add_argument("--because", required=True, metavar="TEXT", help="why they go (kept in each record)")
    discarding.set_defaults(handler=discard_letters)

    audit = actions.add_parser("discarded", help="the records of discarded dead letters, latest first")
    audit.add_argument("--limit", type=_count, metavar="N", help="the latest N only")
    audit.add_argument("--json", action="store_true", help="print JSON lines with the full messages")
    audit.set_defaults(handler=list_discarded)

    restoring = actions.add_parser(
        "restore",
        help="put discarded dead letters back (a discard undone), to replay them",
        description="Each --id's latest discard record becomes a dead letter again: its source, "
        "reason and message as they were, its attempts counted afresh. The records stay.",
    )
    restoring.add_argument(
        "--id", action="append", required=True, metavar="ID", help="a discarded letter's id (repeatable)"
    )
    restoring.set_defaults(handler=restore_letters)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", action="append", metavar="SOURCE", help="of this source (repeatable: any of them)")
    parser.add_argument("--reason", metavar="TEXT", help="whose reason contains TEXT, in any case")
    parser.add_argument("--since", metavar="TIME", help="last failed at or after TIME (ISO 8601, UTC if no offset)")
    parser.add_argument("--until", metavar="TIME", help="last failed before TIME")
    parser.add_argument("--limit", type=_count, metavar="N", help="the first N (oldest first)")


def _add_selection(parser: argparse.ArgumentParser, done: str) -> None:
    parser.add_argument("--id", action="append", metavar="ID", help="a dead letter id (repeatable)")
    parser.add_argument("--all", action="store_true", help="every dead letter (or every one the filters select)")
    _add_filters(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help=f"list the dead letters that would be {done}; change nothing"
    )


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number above 0, got {text!r}")
    return int(text)


def letter_filter(args: argparse.Namespace) -> LetterFilter:
    from ..store import LetterFilter

    return LetterFilter(
        sources=tuple(args.source or ()),
        reason=args.reason or "",
        since=_stored_time(args.since, "--since"),
        until=_stored_time(args.until, "--until"),
        limit=args.limit,
    )


def _stored_time(text: str | None, option: str) -> str | None:
    """As the store writes a letter's times (UTC, seconds), so that they compare as text."""
    return parse_time(text, option).isoformat(timespec="seconds") if text else None


def selected(store: DeadLetterStore, args: argparse.Namespace) -> list[DeadLetterHead]:
    """The letters named by --id (all must exist), or those --all and the filters select."""
    filtered = any(getattr(args, name) for name in FILTERS)
    if args.id:
        if args.all or filtered or args.limit:
            raise ConnectorError("--id picks letters itself: give it without --all, filters or --limit")
        return [_head(store, letter_id) for letter_id in dict.fromkeys(args.id)]
    if not (args.all or filtered):
        raise ConnectorError(f"which dead letters? --id ID, --all, or filters: {', '.join('--' + f for f in FILTERS)}")
    return store.dead_letter_heads(letter_filter(args))


def _head(store: DeadLetterStore, letter_id: str) -> DeadLetterHead:
    letter = store.dead_letter(letter_id)
    if letter is None:
        raise ConnectorError(f"no dead letter with id {letter_id}")
    return head_of(letter)


def head_of(letter: DeadLetter) -> DeadLetterHead:
    from ..store import DeadLetterHead

    return DeadLetterHead(letter.id, letter.source, letter.reason, letter.attempts, letter.first_at, letter.last_at)


def line(head: DeadLetterHead) -> str:
    return f"{head.id}  {head.source:<10} attempts={head.attempts}  last={head.last_at}  {head.reason}"


def list_letters(args: argparse.Namespace) -> int:
    from ..runtime import services

    store = services().store
    heads = store.dead_letter_heads(letter_filter(args))
    for head in heads:
        if not args.json:
            print(line(head))
        elif (letter := store.dead_letter(head.id)) is not None:  # one message in memory at a time
            print(json.dumps(letter.__dict__, ensure_ascii=False))
    print(f"{len(heads)} dead letter(s)", file=sys.stderr)
    return 0


def _dry_run(heads: list[DeadLetterHead], verb: str) -> int:
    for head in heads:
        print(line(head))
    console.line(f"dry run: {len(heads)} dead letter(s) would be {verb}; nothing changed")
    return 0


def replay_letters(args: argparse.Namespace) -> int:
    from ..deadletters import RETRY_LATER, replay
    from ..runtime import services

    connector = services()
    heads = selected(connector.store, args)
    if args.dry_run:
        return _dry_run(heads, "replayed")
    outcomes = []
    for index, head in enumerate(heads, 1):
        letter = connector.store.dead_letter(head.id)
        if letter is None:  # replayed or discarded meanwhile
            continue
        outcome = replay(connector, [letter])[0]
        console.line(f"[{index}/{len(heads)}] {outcome.letter_id}: {outcome.result}")
        if outcome.result.startswith(RETRY_LATER):
            # the LRS or a platform is down or refuses us: the next letters would fail alike
            raise OutsideFailure(
                f"replay stopped at dead letter {index} of {len(heads)}: "
                f"{outcome.result[len(RETRY_LATER) :]}; it and the rest are kept"
            )
        outcomes.append(outcome)
    delivered = sum(o.result == "delivered" for o in outcomes)
    print(f"replayed {len(outcomes)}: {delivered} delivered, {len(outcomes) - delivered} still failing")
    return 0 if delivered == len(outcomes) else EXIT_DEAD_LETTERS


def discard_letters(args: argparse.Namespace) -> int:
    from ..deadletters import discard
    from ..runtime import services

    because = args.because.strip()
    if not because:
        raise ConnectorError("--because: say why they go (it is kept in each record)")
    store = services().store
    heads = selected(store, args)
    if args.dry_run:
        return _dry_run(heads, "discarded")
    gone = [head for head in heads if discard(store, head.id, because) is not None]
    for head in gone:
        print(line(head))
    print(f"discarded {len(gone)} dead letter(s); their records: deadletters discarded")
    return 0


def list_discarded(args: argparse.Namespace) -> int:
    from ..runtime import services

    records = services().store.discarded_letters(args.limit)
    for record in records:
        if args.json:
            print(json.dumps(record.__dict__, ensure_ascii=False))
        else:
            print(
                f"{record.discarded_at}  {record.id}  {record.source:<10} because: {record.discard_reason}  "
                f"(was: {record.reason})"
            )
    print(f"{len(records)} discarded dead letter(s)", file=sys.stderr)
    return 0


def restore_letters(args: argparse.Namespace) -> int:
    from ..deadletters import restore
    from ..runtime import services

    store = services().store
    latest: dict[str, DiscardedLetter] = {}
    for record in store.discarded_letters():  # latest first
        latest.setdefault(record.id, record)
    wanted = list(dict.fromkeys(args.id))
    unknown = [letter_id for letter_id in wanted if letter_id not in latest]
    if unknown:  # nothing restored: the command line is wrong
        raise ConnectorError(f"no discarded dead letter with id {', '.join(unknown)}")
    restored = 0
    for letter_id in wanted:
        if store.dead_letter(letter_id) is not None:  # dead-lettered again since: one letter per id
            console.line(f"{letter_id}: a dead letter already; kept as it is")
            continue
        letter = restore(store, latest[letter_id])
        print(line(head_of(letter)))
        restored += 1
    print(f"restored {restored} dead letter(s); deadletters replay --id ID sends them again")
    return 0
