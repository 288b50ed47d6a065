"""Credentials per job role and job roles per credential, among the credentials held at the end of the range."""

from __future__ import annotations

from collections import defaultdict

from .answers import Cell, Table
from .ledger import Ledger
from .rates import percent

ROLE, CREDENTIAL = 0, 1


def _holders(ledger: Ledger) -> dict[tuple[str, str], set[str]]:
    """(job role, credential name) -> learners holding it at the end of the range, whenever earned."""
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for credential in ledger.held():
        holders[(credential.job_role, ledger.name(credential.badge))].add(credential.learner)
    return holders


def _rows(ledger: Ledger, first: int) -> list[tuple[Cell, ...]]:
    """(first, second, holders, percent of the first's learners), grouped by `first`, most held first."""
    pairs = {(pair[first], pair[1 - first]): learners for pair, learners in _holders(ledger).items()}
    whole: dict[str, set[str]] = defaultdict(set)
    for (group, _), learners in pairs.items():
        whole[group] |= learners
    ordered = sorted(pairs.items(), key=lambda item: (item[0][0], -len(item[1]), item[0][1]))
    return [
        (group, other, len(learners), percent(len(learners), len(whole[group]))) for (group, other), learners in ordered
    ]


def credentials_by_role(ledger: Ledger) -> Table:
    return Table(
        "credentials_by_role",
        "Credentials held per job role",
        "Learners of each job role holding each credential at the end of the range (whenever earned); "
        "pct_of_role: of the role's learners holding any credential then.",
        ("job_role", "credential", "holders", "pct_of_role"),
        _rows(ledger, ROLE),
    )


def roles_by_credential(ledger: Ledger) -> Table:
    return Table(
        "roles_by_credential",
        "Job roles holding each credential",
        "Learners holding each credential at the end of the range (whenever earned), per job role; "
        "pct_of_holders: of everyone holding the credential.",
        ("credential", "job_role", "holders", "pct_of_holders"),
        _rows(ledger, CREDENTIAL),
    )
