"""python -m chalicelib status: whether data flows (chalicelib/status.py; docs/operating.md#status)."""

from __future__ import annotations

import argparse
import json

STATUS_EXIT = (
    "Exit status: 0 healthy; 1 something needs attention (dead letters, a source whose last run "
    "failed, credentials refused); 2 configuration error."
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status",
        help="whether data flows: last runs, cursors, queue, dead letters, credentials, configuration",
        description="Per source and mode: the last run and the last successful one (start, end, outcome, "
        "records, statements, error), the pull's cursor and its age, the next scheduled run; the queue's depth "
        "and oldest message; dead letters by source and reason; when the LRS's and each platform's credentials "
        "last worked; what is not configured. Reads the store and the queue only (GET /status answers the same "
        "JSON).",
        epilog=STATUS_EXIT,
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..runtime import services
    from ..status import exit_code, gather, render

    report = gather(services())
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
    else:
        print("\n".join(render(report)))
    return exit_code(report)
