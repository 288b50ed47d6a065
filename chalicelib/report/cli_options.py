"""The report command's options for the answers beyond the five and for the filters (extra.py)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .extra import More

ADDABLE = ("roles", "cohorts", "lift", "searches")  # here, so that the command starts without importing the answers


def add_arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="ANSWERS",
        type=_answers,
        help=f"add answers to the five, comma-separated: {', '.join(ADDABLE)}, or all",
    )
    report.add_argument(
        "--who-skill",
        action="append",
        default=[],
        metavar="NAME",
        help="add the people holding this skill (repeatable)",
    )
    report.add_argument(
        "--who-credential",
        action="append",
        default=[],
        metavar="NAME",
        help="add the people holding this credential, by name or badge class IRI (repeatable)",
    )
    for option, what in (
        ("--team", "team"),
        ("--role", "job role"),
        ("--credential", "credential (name or IRI)"),
        ("--skill", "skill"),
        ("--organisation", "organisation (a connection's label or name, or a platform)"),
    ):
        report.add_argument(
            option,
            action="append",
            default=[],
            metavar="NAME",
            help=f"every answer only about credentials of this {what} (repeatable: any of them)",
        )


def _answers(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in (*ADDABLE, "all")]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected some of {', '.join(ADDABLE)} or all, got {text[:40]!r}")
    return ADDABLE if "all" in names else names


def more_from(args: argparse.Namespace) -> More:  # extra is imported with the answers, when the command runs
    from .extra import More
    from .filters import Filters

    added = tuple(dict.fromkeys(name for names in args.add for name in names))
    filters = Filters(
        tuple(args.team), tuple(args.role), tuple(args.credential), tuple(args.skill), tuple(args.organisation)
    )
    return More(added, tuple(args.who_skill), tuple(args.who_credential), filters)
