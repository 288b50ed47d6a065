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
    mapped: bool = False  # found in the learner directory (else the platform's fallback identity)


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
        self.directory = directory if directory is not None else LearnerDirectory()
        self.homepage = homepage
        # The last lookup: an event is looked up twice in a row (counted as mapped or not, then
        # resolved), and a Learner is immutable, so the second asks for the same object.
        self._last: tuple[Learner, str | None, DirectoryEntry | None] | None = None

    def resolve(self, learner: Learner, platform: str | None = None) -> ResolvedLearner:
        """`platform`: the event's platform, whose id column the directory may look the learner up in."""
        entry = self._find(learner, platform)
        # A mapped learner is named by the directory's primary email, not the alias the platform knows.
        email = (entry.email if entry else None) or learner.email
        name = learner.name or (entry.name if entry else None)
        agent: dict = {"objectType": "Agent"}
        if name:
            agent["name"] = name
        agent.update(self._ifi(learner, entry, email))
        return ResolvedLearner(
            agent=agent,
            job_role=(entry.job_role or None) if entry else None,
            team=(entry.team or None) if entry else None,
            mapped=entry is not None,
        )

    def maps(self, learner: Learner, platform: str | None = None) -> bool:
        return self._find(learner, platform) is not None

    def _find(self, learner: Learner, platform: str | None) -> DirectoryEntry | None:
        last = self._last  # read once: another thread may replace it meanwhile
        if last is not None and last[0] is learner and last[1] == platform:
            return last[2]
        entry = self.directory.find(learner, platform)
        self._last = (learner, platform, entry)
        return entry

    def correction(self, learner: Learner, platform: str | None = None) -> dict | None:
        """The mapped agent of a learner whose fallback identity (no directory) would be another
        one: statements once sent under that fallback are corrected to this agent (identity remap)."""
        if not self.maps(learner, platform):
            return None
        try:
            fallback = IdentityResolver(self.ifi, None, self.homepage).resolve(learner).agent
        except UnidentifiedLearner:
            return None  # without the directory it was never sent: a dead letter, not a statement
        mapped = self.resolve(learner, platform).agent
        return mapped if ifi_of(mapped) != ifi_of(fallback) else None

    def for_agent(self, agent: object) -> ResolvedLearner | None:
        """What a stored statement's actor maps to now: the learner as the directory names it
        (None: no one in the directory)."""
        entry = self.directory.find_agent(agent)
        if entry is None:
            return None
        name = agent.get("name") if isinstance(agent, dict) and isinstance(agent.get("name"), str) else None
        learner = Learner(
            name=name or entry.name or None, email=entry.email or None, earner_id=entry.employee_id or None
        )
        return self.resolve(learner)

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


def ifi_of(agent: dict) -> tuple[str, object]:
    """The agent's one inverse functional identifier, (key, value): what identifies the learner."""
    key = next((k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent), "")
    return key, agent.get(key)


def _unidentified_reason(learner: Learner, wanted: str) -> str:
    if learner.email_sha256:
        return f"hashed recipient matches no learner {wanted} (LEARNER_DIRECTORY)"
    return f"learner not found {wanted}"
