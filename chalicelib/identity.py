"""Learner identity: the directory, the IFI strategy and hashed-recipient matching.

The account IFI is what lets a LAP join credential data to the rest of a learner's data, so it
is looked up in the organisation's own directory rather than guessed from an email.
"""

from __future__ import annotations

import csv
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

from .errors import SettingsError, UnidentifiedLearner
from .events import Learner

if TYPE_CHECKING:
    from .settings import Settings

DIRECTORY_COLUMNS = ("employee_id", "email", "name", "job_role", "team", "lms_account")


# Hashed-recipient lookup tables kept at once (each holds one hash per directory entry).
SALT_TABLES = 16

@dataclass(frozen=True)
class DirectoryEntry:
    employee_id: str
    email: str
    name: str = ""
    job_role: str = ""
    team: str = ""
    lms_account: str = ""


class LearnerDirectory:
    """Index of the learner directory CSV by email, employee id and LMS account."""

    def __init__(self, entries: Iterable[DirectoryEntry] = ()) -> None:
        self._entries = list(entries)
        self._by_email = {e.email: e for e in self._entries if e.email}
        self._by_id: dict[str, DirectoryEntry] = {}
        for entry in self._entries:
            for key in (entry.employee_id, entry.lms_account):
                if key:
                    self._by_id.setdefault(key, entry)
        self._by_salted_hash: OrderedDict[str, dict[str, DirectoryEntry]] = OrderedDict()
        self._by_mbox_sha1: dict[str, DirectoryEntry] | None = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LearnerDirectory":
        """LEARNER_DIRECTORY's entries; empty when it is not set."""
        return cls.from_csv(settings.learner_directory) if settings.learner_directory else cls()

    @classmethod
    def from_csv(cls, path: str | Path) -> "LearnerDirectory":
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                missing = {"employee_id", "email"} - set(reader.fieldnames or ())
                if missing:
                    raise SettingsError(
                        f"LEARNER_DIRECTORY {path}: missing column(s) {', '.join(sorted(missing))}"
                    )
                return cls(_entry(row) for row in reader)
        except OSError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {path}: {error.strerror}") from None

    def __len__(self) -> int:
        return len(self._entries)

    def headcounts(self) -> dict[str, int]:
        """People per team (entries without a team are in none): the report's team sizes."""
        counts: dict[str, int] = {}
        for entry in self._entries:
            if entry.team:
                counts[entry.team] = counts.get(entry.team, 0) + 1
        return counts

    def find(self, learner: Learner) -> DirectoryEntry | None:
        if learner.email and learner.email in self._by_email:
            return self._by_email[learner.email]
        if learner.earner_id and learner.earner_id in self._by_id:
            return self._by_id[learner.earner_id]
        if learner.email_sha256:
            return self._by_hash(learner.email_sha256, learner.email_salt or "")
        return None

    def find_agent(self, agent: object) -> DirectoryEntry | None:
        """The directory entry of an xAPI agent as a LAP sends it (account, mbox or its SHA-1).

        None for anything else: an agent that is not an object, identifiers that are not text
        (an account name that is a list or a number matches no one, and must not raise)."""
        if not isinstance(agent, dict):
            return None
        account = agent.get("account") if isinstance(agent.get("account"), dict) else {}
        name = account.get("name")
        if isinstance(name, str) and name in self._by_id:
            return self._by_id[name]
        mbox = agent.get("mbox")
        if isinstance(mbox, str) and mbox.lower().startswith("mailto:"):
            return self._by_email.get(mbox[7:].strip().lower())
        digest = agent.get("mbox_sha1sum")
        if isinstance(digest, str):
            if self._by_mbox_sha1 is None:
                self._by_mbox_sha1 = {
                    hashlib.sha1(f"mailto:{e.email}".encode()).hexdigest(): e for e in self._entries if e.email
                }
            return self._by_mbox_sha1.get(digest.lower())
        return None

    def _by_hash(self, digest: str, salt: str) -> DirectoryEntry | None:
        # One table per salt, since OB issuers often use one salt for a whole batch; but only the
        # SALT_TABLES most recently used: per-assertion salts are normal too, and each table holds
        # the whole directory.
        table = self._by_salted_hash.get(salt)
        if table is None:
            table = {sha256_identity(e.email, salt): e for e in self._entries if e.email}
            self._by_salted_hash[salt] = table
            while len(self._by_salted_hash) > SALT_TABLES:
                self._by_salted_hash.popitem(last=False)
        else:
            self._by_salted_hash.move_to_end(salt)
        return table.get(digest.lower())


def _entry(row: dict[str, str]) -> DirectoryEntry:
    values = {col: (row.get(col) or "").strip() for col in DIRECTORY_COLUMNS}
    values["email"] = values["email"].lower()
    return DirectoryEntry(**values)


def sha256_identity(identity: str, salt: str = "") -> str:
    """Open Badges hashed identity, without the "sha256$" prefix."""
    return hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


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

    def resolve(self, learner: Learner) -> ResolvedLearner:
        entry = self.directory.find(learner)
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
