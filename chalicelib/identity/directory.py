"""The learner directory: the organisation's people, found by email, ids or a hashed recipient."""

from __future__ import annotations

import csv
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import SettingsError
from ..events import Learner

if TYPE_CHECKING:
    from ..settings import Settings

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
