"""`python -m chalicelib worker`: drain the local outbox until stopped (QUEUE_BACKEND=local)."""

from __future__ import annotations

import argparse

from ..errors import SettingsError


def register(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser(
        "worker",
        help="deliver what the local outbox holds, until stopped (QUEUE_BACKEND=local)",
        description="Translates and delivers the local outbox's messages as they arrive, as the SQS worker "
        "does in AWS, until Ctrl-C or SIGTERM; what is in flight is settled first. `chalice local` with "
        "LOCAL_WORKER=true starts one itself (with --parent); run it by hand with LOCAL_WORKER=false.",
    )
    worker.add_argument(
        "--parent", type=int, metavar="PID", help="stop when this process is gone (how chalice local starts its worker)"
    )
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from ..queue.worker_process import serve
    from ..runtime import services

    connector = services()
    if connector.settings.queue_backend != "local":
        raise SettingsError(
            "the worker drains the local outbox: QUEUE_BACKEND=sqs is drained by the SQS worker function"
        )
    serve(connector.drainer().run, args.parent)
    return 0
