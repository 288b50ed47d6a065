"""The larger CLI commands, one module each; `cli.py` keeps the parser and the small ones.

Each module here has `register(commands)`, which adds its sub-parser(s) to the
`python -m chalicelib` command set with a handler taking the parsed arguments and returning the
exit code. Modules are imported only when the parser is built, so a Lambda never loads them.
"""

from __future__ import annotations

import argparse
import importlib

# Module names under chalicelib.commands, in the order their commands appear in --help.
MODULES: tuple[str, ...] = (
    "deadletters",
    "worker",
    "report",
    "import_csv",
    "share_link",
    "status",
    "identity",
    "delivered_log",
)


def register_commands(commands: argparse._SubParsersAction) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
