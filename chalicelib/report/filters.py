"""--team, --role, --credential, --skill and --organisation: the credentials every answer is about.

A filter keeps the credentials whose team, job role, credential (name or badge class IRI), skill
or organisation (the label or name of the connection it came through, or its platform) is one of
the values given (case does not matter); several filters must all hold. With
--skill, a credential also keeps only the given skills, so the skill answers show those alone.
The share steps are then counted for the kept credentials only (see linked.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .ledger import Credential, Ledger
from .linked import LinkedSteps


def folded(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(value.strip().casefold() for value in values)


@dataclass(frozen=True)
class Filters:
    teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.teams or self.roles or self.credentials or self.skills or self.organisations)

    def keeps(self, credential: Credential, name: str) -> bool:
        tests = (
            (self.teams, (credential.team,)),
            (self.roles, (credential.job_role,)),
            (self.credentials, (name, credential.badge)),
            (self.skills, credential.skills),
            (self.organisations, credential.organisations),
        )
        return all(not wanted or folded(wanted) & folded(found) for wanted, found in tests)

    def trimmed(self, credential: Credential) -> Credential:
        if not self.skills:
            return credential
        wanted = folded(self.skills)
        return dataclasses.replace(credential, skills=tuple(s for s in credential.skills if s.casefold() in wanted))

    def restrict(self, ledger: Ledger, steps: LinkedSteps | None) -> Ledger:
        """The ledger of the kept credentials (the same ledger when no filter is given). A
        credential is kept or left whole, with all its earnings, as its latest earning says."""
        if not self.active:
            return ledger
        kept = {
            key: {number: self.trimmed(c) for number, c in earnings.items()}
            for key, earnings in ledger.earnings.items()
            if earnings and self.keeps(latest(earnings), ledger.name(latest(earnings).badge))
        }
        current = {key: latest(earnings) for key, earnings in kept.items()}
        return dataclasses.replace(
            ledger, earnings=kept, steps=steps.ledger_steps(current) if steps is not None else ledger.steps
        )


def latest(earnings: Mapping[str, Credential]) -> Credential:
    return max(earnings.values(), key=lambda c: c.rank)
