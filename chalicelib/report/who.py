"""Who holds a skill or a credential at the end of the range: one row per credential held."""

from __future__ import annotations

from .answers import Cell, Table
from .filters import folded
from .ledger import Credential, Ledger


def who(ledger: Ledger, skills: tuple[str, ...], credentials: tuple[str, ...], include_emails: bool) -> Table:
    wanted_skills, wanted_credentials = folded(skills), folded(credentials)

    def matches(credential: Credential) -> bool:
        names = folded((ledger.name(credential.badge), credential.badge))
        return bool(wanted_skills & folded(credential.skills) or wanted_credentials & names)

    found = sorted(
        (c for c in ledger.held() if matches(c)), key=lambda c: (c.label.casefold(), ledger.name(c.badge), c.earned_at)
    )
    columns: tuple[str, ...] = ("learner", "team", "job_role", "credential", "earned", "expires")
    rows: list[tuple[Cell, ...]] = []
    for credential in found:
        row: tuple[Cell, ...] = (
            credential.label,
            credential.team,
            credential.job_role,
            ledger.name(credential.badge),
            credential.earned_at.date().isoformat(),
            credential.expires_at.date().isoformat() if credential.expires_at else None,
        )
        rows.append((*row, credential.email or "") if include_emails else row)
    if include_emails:
        columns = (*columns, "email")
    asked = ", ".join([*(f"skill {s}" for s in skills), *(f"credential {c}" for c in credentials)])
    return Table(
        "who",
        f"Who holds {asked}",
        "People holding, at the end of the range (whenever earned), a credential of the skill or the "
        "credential asked for: one row per such credential.",
        columns,
        rows,
    )
