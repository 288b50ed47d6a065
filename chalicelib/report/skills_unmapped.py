"""`report --skills-unmapped`: the skill names the skills file (SKILLS_FILE) does not map yet.

So the file can grow: each name of a credential earned in the range that neither the file nor
the statement's own canonical extension maps, with how many credentials carry it. Only earned
statements are read; a credential revoked since still counts (its name was seen).
"""

from __future__ import annotations

from collections import defaultdict

from ..events import Kind
from ..xapi import vocabulary as v
from . import facts
from .answers import Cell, Table
from .collect import Source
from .facts import StatementReader
from .ledger import Window

EARNED = v.VERBS[Kind.ISSUED][0]


def unmapped_skills(source: Source, reader: StatementReader, window: Window) -> list[Table]:
    carriers: dict[str, set[str]] = defaultdict(set)  # name -> credential keys
    for statement in source.statements((EARNED,)):
        at = facts.statement_time(statement)
        if at is None or at not in window:
            continue
        for name in reader.skill_names(statement).unmapped:
            carriers[name].add(facts.credential_key(statement))
    rows: list[tuple[Cell, ...]] = [(name, len(keys)) for name, keys in carriers.items()]
    rows.sort(key=lambda row: (-int(row[1] or 0), str(row[0]).casefold(), str(row[0])))
    return [
        Table(
            "skills_unmapped",
            "Skill names the skills file does not map",
            "Skill names of credentials earned in the range that SKILLS_FILE maps to no skill, "
            "most carried first: add them as skills or aliases.",
            ("skill", "credentials"),
            rows,
        )
    ]
