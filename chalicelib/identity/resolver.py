"""The IFI strategy: a canonical learner becomes an xAPI Agent with exactly one identifier.

The account IFI is what lets a LAP join credential data to the rest of a learner's data, so it
is looked up in the organisation's own directory rather than guessed from an email.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from ..errors import SettingsError, UnidentifiedLearner
from ..events import Learner
from .directory import DirectoryEntry, LearnerDirectory


@dataclass(frozen=True)
class ResolvedLearner:
    agent: dict
    job_role: str | None = None
    team: str | None = None


class IdentityResolver:
    """Turns a canonical learner into an xAPI Agent with exactly one IFI."""

    def __init__(
        self,
        ifi: Literal["mbox", "mbox_sha1sum", "account"],
        directory: LearnerDirectory | None = None,
        homepage: str | None = None,
    ) -> None:
        if ifi == "account" and not homepage:
            raise SettingsError("IDENTITY_IFI=account needs IDENTITY_HOMEPAGE")
        self.ifi = ifi
        self.directory = directory or LearnerDirectory()
        self.homepage = homepage

    def resolve(self, learner: Learner, platform: str | None = None) -> ResolvedLearner:
        """`platform`: the event's platform, whose id column the directory may look the learner up in."""
        entry = self.directory.find(learner, platform)
        email = learner.email or (entry.email if entry else None)
        name = learner.name or (entry.name if entry else None)
        agent: dict = {"objectType": "Agent"}
        if name:
            agent["name"] = name
        agent.update(self._ifi(learner, entry, email))
        return ResolvedLearner(
            agent=agent,
            job_role=(entry.job_role or None) if entry else None,
            team=(entry.team or None) if entry else None,
        )

    def _ifi(self, learner: Learner, entry: DirectoryEntry | None, email: str | None) -> dict:
        if self.ifi == "account":
            account_name = entry.employee_id if entry else learner.earner_id
            if not account_name:
                raise UnidentifiedLearner(_unidentified_reason(learner, "in the learner directory"))
            return {"account": {"homePage": self.homepage, "name": account_name}}
        if not email:
            raise UnidentifiedLearner(_unidentified_reason(learner, "with an email"))
        mbox = f"mailto:{email}"
        if self.ifi == "mbox_sha1sum":
            return {"mbox_sha1sum": hashlib.sha1(mbox.encode("utf-8")).hexdigest()}
        return {"mbox": mbox}


def _unidentified_reason(learner: Learner, wanted: str) -> str:
    if learner.email_sha256:
        return f"hashed recipient matches no learner {wanted} (LEARNER_DIRECTORY)"
    return f"learner not found {wanted}"
