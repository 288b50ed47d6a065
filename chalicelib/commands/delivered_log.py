"""`python -m chalicelib delivered-log show|forget`: the delivered-statement log of an LRS endpoint
(delivery/delivered.py, docs/statements.md#the-delivered-statement-log)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ..settings import Settings
    from ..store import DeliveredStatements


def register(commands: argparse._SubParsersAction) -> None:
    log = commands.add_parser("delivered-log", help="the delivered-statement log: show it, forget it for an LRS")
    actions = log.add_subparsers(dest="action", required=True, metavar="action")
    show = actions.add_parser(
        "show",
        help="the endpoint the log is kept for, how many ids it holds, whether DELIVERY_LOG is on",
        description="Prints the LRS endpoint key the log is kept under (LRS_ENDPOINT normalised, without a user "
        "or password), how many statement ids are recorded for it (SQLite; DynamoDB would have to scan the "
        "table: not counted) and whether DELIVERY_LOG is on.",
    )
    forget = actions.add_parser(
        "forget",
        help="forget the ids recorded for an LRS: the next deliveries POST them again",
        description="Forgets every statement id the log holds for the endpoint (e.g. after the LRS was restored "
        "from a backup): the statements are sent again when next delivered, and recorded as the LRS "
        "acknowledges them. SQLite deletes the endpoint's rows; DynamoDB deletes the endpoint's log item, whose "
        "records then expire by the table's TTL.",
    )
    for action in (show, forget):
        action.add_argument(
            "--endpoint", type=_endpoint, metavar="URL", help="the LRS's xAPI endpoint (default: LRS_ENDPOINT)"
        )
        action.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    show.set_defaults(handler=run_show)
    forget.set_defaults(handler=run_forget)


def _endpoint(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc.rpartition("@")[2]:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL like https://lrs.example/xAPI/, got {text[:80]!r}")
    return text


def run_show(args: argparse.Namespace) -> int:
    settings, store, endpoint = _target(args)
    recorded = store.count_delivered(endpoint)
    if args.json:
        print(json.dumps({"endpoint": endpoint, "recorded": recorded, "delivery_log": settings.delivery_log_on}))
        return 0
    default = "" if settings.delivery_log is not None else f" (the default with STATE_BACKEND={settings.state_backend})"
    print(f"endpoint      {endpoint}")
    print(f"recorded      {_recorded(recorded)}")
    print(f"DELIVERY_LOG  {'on' if settings.delivery_log_on else 'off'}{default}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    _, store, endpoint = _target(args)
    recorded = store.count_delivered(endpoint)
    store.forget_delivered(endpoint)
    if args.json:
        print(json.dumps({"endpoint": endpoint, "forgotten": recorded}))
    elif recorded == 0:
        print(f"delivered-log: nothing recorded for {endpoint}")
    else:
        forgotten = (
            _recorded(recorded)
            if recorded is not None
            else f"the log ({_recorded(recorded)}; its records expire by the table's TTL)"
        )
        print(f"delivered-log: forgot {forgotten} for {endpoint}: the next deliveries send those statements again")
    return 0


def _target(args: argparse.Namespace) -> tuple[Settings, DeliveredStatements, str]:
    """The settings, the store's log and the endpoint key of --endpoint (default: LRS_ENDPOINT)."""
    from ..delivery.delivered import endpoint_key
    from ..runtime import services

    connector = services()
    return connector.settings, connector.store, endpoint_key(args.endpoint or connector.settings.lrs_endpoint)


def _recorded(count: int | None) -> str:
    return "not counted: DynamoDB would scan the table" if count is None else f"{count:,} statement id(s)"
