"""The learner directory: the organisation's people, found by email, ids or a hashed recipient.

This module is the index only: parse_directory() turns the CSV's text into a LearnerDirectory.
Where the text comes from (a file, S3, HTTPS) and when it is read again is sources.py's.
"""

from __future__ import annotations

import csv
import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple

from ..errors import SettingsError
from ..events import Learner

if TYPE_CHECKING:
    from ..settings import Settings

DIRECTORY_COLUMNS = ("employee_id", "email", "name", "job_role", "team", "lms_account")
REQUIRED_COLUMNS = ("employee_id", "email")
ALIASES_COLUMN = "other_emails"
ALIAS_SEPARATOR = ";"
# The organisation's own ids: one namespace (an account name may be either).
ORG_ID_COLUMNS = ("employee_id", "lms_account")

# Hashed-recipient lookup tables kept at once (each holds one hash per directory email).
SALT_TABLES = 16


def email_key(value: str) -> str:
    """The one rule by which directory emails compare: trimmed, lower-cased (as Learner.email)."""
    return value.strip().lower()


def platform_id_column(platform: str) -> str:
    """The optional column holding each person's own id on a platform (its user or recipient id)."""
    return f"{platform}_id"


def platform_id_columns() -> dict[str, str]:
    """Column -> registry name, for every platform of the registry (read here, never hard-coded)."""
    from ..platforms import PLATFORMS

    return {platform_id_column(name): name for name in PLATFORMS}


class DirectoryEntry(NamedTuple):
    """One person (a tuple: a directory holds many, and builds them fast and small)."""

    employee_id: str
    email: str
    name: str = ""
    job_role: str = ""
    team: str = ""
    lms_account: str = ""
    other_emails: tuple[str, ...] = ()
    platform_ids: tuple[tuple[str, str], ...] = ()  # (registry name, the person's id there)

    @property
    def emails(self) -> tuple[str, ...]:
        """The primary email first, then the aliases."""
        return (self.email, *self.other_emails) if self.email else self.other_emails

    def platform_id(self, platform: str) -> str:
        return next((value for name, value in self.platform_ids if name == platform), "")


class DirectoryConflict(SettingsError):
    """Two people share an email or an id. The message names the lines and columns, never the
    value (it reaches logs and /status); `value` is there for an operator's own terminal."""

    def __init__(self, origin: str, column: str, line: int, first_column: str, first_line: int, value: str) -> None:
        self.column, self.line, self.first_line, self.value = column, line, first_line, value
        super().__init__(f"LEARNER_DIRECTORY {origin}: line {line} ({column}) repeats the value of line "
                         f"{first_line} ({first_column}): two people cannot share an email or an id")


class LearnerDirectory:
    """Index of the learner directory by email (aliases included), organisation id and platform id."""

    def __init__(self, entries: Iterable[DirectoryEntry] = (), lines: Iterable[int] | None = None,
                 origin: str = "(directory)") -> None:
        self._entries = list(entries)
        line_numbers = list(lines) if lines is not None else range(2, len(self._entries) + 2)
        self._by_email: dict[str, DirectoryEntry] = {}
        self._by_id: dict[str, DirectoryEntry] = {}
        self._by_platform_id: dict[str, dict[str, DirectoryEntry]] = {}
        _Indexer(self, origin, line_numbers).index_all()
        self._by_salted_hash: OrderedDict[str, dict[str, DirectoryEntry]] = OrderedDict()
        self._by_mbox_sha1: dict[str, DirectoryEntry] | None = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LearnerDirectory":
        """LEARNER_DIRECTORY as it is now (one read, wherever it is); empty when it is not set."""
        from .sources import read_once

        return read_once(settings)

    @classmethod
    def from_csv(cls, path: str) -> "LearnerDirectory":
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                return parse_directory(handle.read(), str(path))
        except OSError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {path}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {path}: not UTF-8 text (byte {error.start})") from None

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[DirectoryEntry]:
        return iter(self._entries)

    def headcounts(self) -> dict[str, int]:
        """People per team (entries without a team are in none): the report's team sizes."""
        counts: dict[str, int] = {}
        for entry in self._entries:
            if entry.team:
                counts[entry.team] = counts.get(entry.team, 0) + 1
        return counts

    def find(self, learner: Learner, platform: str | None = None) -> DirectoryEntry | None:
        """The learner's entry by any of their emails, the organisation's id, their id on `platform`
        (the event's platform: another platform's id column is never looked at) or a hashed email."""
        if learner.email:
            entry = self._by_email.get(email_key(learner.email))
            if entry is not None:
                return entry
        if learner.earner_id and learner.earner_id in self._by_id:
            return self._by_id[learner.earner_id]
        if platform and learner.platform_user_id:
            entry = self._by_platform_id.get(platform, {}).get(learner.platform_user_id)
            if entry is not None:
                return entry
        if learner.email_sha256:
            return self._by_hash(learner.email_sha256, learner.email_salt or "")
        return None

    def find_agent(self, agent: object) -> DirectoryEntry | None:
        """The directory entry of an xAPI agent as a LAP sends it: an account named by any id
        (the organisation's, then each platform's), the mbox of any email, or its SHA-1.

        None for anything else: an agent that is not an object, identifiers that are not text
        (an account name that is a list or a number matches no one, and must not raise)."""
        if not isinstance(agent, dict):
            return None
        account = agent.get("account") if isinstance(agent.get("account"), dict) else {}
        name = account.get("name")
        if isinstance(name, str):
            entry = self._by_account_name(name)
            if entry is not None:
                return entry
        mbox = agent.get("mbox")
        if isinstance(mbox, str) and mbox[:7].lower() == "mailto:":
            return self._by_email.get(email_key(mbox[7:]))
        digest = agent.get("mbox_sha1sum")
        if isinstance(digest, str):
            if self._by_mbox_sha1 is None:
                self._by_mbox_sha1 = {hashlib.sha1(f"mailto:{email}".encode()).hexdigest(): entry
                                      for email, entry in self._by_email.items()}
            return self._by_mbox_sha1.get(digest.strip().lower())
        return None

    def _by_account_name(self, name: str) -> DirectoryEntry | None:
        if name in self._by_id:
            return self._by_id[name]
        for table in self._by_platform_id.values():
            if name in table:
                return table[name]
        return None

    def _by_hash(self, digest: str, salt: str) -> DirectoryEntry | None:
        # One table per salt, since OB issuers often use one salt for a whole batch; but only the
        # SALT_TABLES most recently used: per-assertion salts are normal too, and each table holds
        # the whole directory.
        table = self._by_salted_hash.get(salt)
        if table is None:
            table = {sha256_identity(email, salt): entry for email, entry in self._by_email.items()}
            self._by_salted_hash[salt] = table
            while len(self._by_salted_hash) > SALT_TABLES:
                self._by_salted_hash.popitem(last=False)
        else:
            self._by_salted_hash.move_to_end(salt)
        return table.get(digest.strip().lower())


class _Indexer:
    """Fills a directory's tables, refusing a value two people share (DirectoryConflict)."""

    def __init__(self, directory: LearnerDirectory, origin: str, lines: "list[int] | range") -> None:
        self.directory, self.origin, self.lines = directory, origin, lines

    def index_all(self) -> None:
        d = self.directory
        for position, entry in enumerate(d._entries):
            if entry.email:
                self._claim(d._by_email, entry.email, entry, position, "email")
            for alias in entry.other_emails:
                self._claim(d._by_email, alias, entry, position, ALIASES_COLUMN)
            for column in ORG_ID_COLUMNS:
                value = getattr(entry, column)
                if value:
                    self._claim(d._by_id, value, entry, position, column)
            for platform, value in entry.platform_ids:
                self._claim(d._by_platform_id.setdefault(platform, {}), value, entry, position,
                            platform_id_column(platform))

    def _claim(self, table: dict[str, DirectoryEntry], key: str, entry: DirectoryEntry, position: int,
               column: str) -> None:
        holder = table.setdefault(key, entry)
        if holder is not entry:
            first = next(i for i, e in enumerate(self.directory._entries) if e is holder)
            raise DirectoryConflict(self.origin, column, self.lines[position], _column_of(holder, key),
                                    self.lines[first], key)


def _column_of(entry: DirectoryEntry, value: str) -> str:
    if entry.email == value:
        return "email"
    if value in entry.other_emails:
        return ALIASES_COLUMN
    for column in ORG_ID_COLUMNS:
        if getattr(entry, column) == value:
            return column
    return next(platform_id_column(p) for p, v in entry.platform_ids if v == value)


def parse_directory(text: str, origin: str = "(directory)") -> LearnerDirectory:
    """The directory a CSV text describes; SettingsError naming the line for a bad one (missing
    columns, a file cut short, two people sharing an email or an id)."""
    rows = csv.reader(_lines(text.removeprefix("\ufeff")), strict=True)
    try:
        header = [cell.strip() for cell in next(rows, [])]
        layout = _Layout(header, origin)
        entries, lines = layout.read(rows, ends_a_line=text.endswith(("\n", "\r")))
    except csv.Error as error:
        raise SettingsError(f"LEARNER_DIRECTORY {origin}: line {rows.line_num}: {error}") from None
    return LearnerDirectory(entries, lines, origin)


def _lines(text: str) -> Iterator[str]:
    """The text's lines, each with its line break, one at a time (io.StringIO would first copy the
    whole text at four bytes a character)."""
    start, find, size = 0, text.find, len(text)
    while start < size:
        end = find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


class _Layout:
    """Where each column is in the header, and how a row becomes an entry."""

    def __init__(self, header: list[str], origin: str) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise SettingsError(f"LEARNER_DIRECTORY {origin}: missing column(s) {', '.join(missing)}")
        self.origin, self.width = origin, len(header)
        self.at = {c: header.index(c) for c in (*DIRECTORY_COLUMNS, ALIASES_COLUMN) if c in header}
        self.platform_at = [(platform, header.index(column)) for column, platform in platform_id_columns().items()
                            if column in header]
        self.shared: dict[str, str] = {}  # job roles and teams repeat: one string each

    def read(self, rows: "Iterator[list[str]]", ends_a_line: bool) -> tuple[list[DirectoryEntry], list[int]]:
        entries: list[DirectoryEntry] = []
        lines: list[int] = []
        short_line = 0
        for row in rows:
            if not row:
                continue
            short_line = rows.line_num if len(row) < self.width else 0  # type: ignore[attr-defined]
            entries.append(self.entry(row))
            lines.append(rows.line_num)  # type: ignore[attr-defined]
        if short_line and not ends_a_line:
            raise SettingsError(f"LEARNER_DIRECTORY {self.origin}: line {short_line} has fewer columns than the "
                                "header and ends the file without a line break: the file looks cut short")
        return entries, lines

    def entry(self, row: list[str]) -> DirectoryEntry:
        at, width = self.at, len(row)

        def cell(column: str) -> str:
            index = at.get(column, width)
            return row[index].strip() if index < width else ""

        aliases = cell(ALIASES_COLUMN)
        return DirectoryEntry(
            employee_id=cell("employee_id"),
            email=email_key(cell("email")),
            name=cell("name"),
            job_role=self.shared.setdefault(role := cell("job_role"), role),
            team=self.shared.setdefault(team := cell("team"), team),
            lms_account=cell("lms_account"),
            other_emails=tuple(email_key(a) for a in aliases.split(ALIAS_SEPARATOR) if a.strip()) if aliases else (),
            platform_ids=tuple((p, row[i].strip()) for p, i in self.platform_at if i < width and row[i].strip()),
        )


def sha256_identity(identity: str, salt: str = "") -> str:
    """Open Badges hashed identity, without the "sha256$" prefix."""
    return hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()
