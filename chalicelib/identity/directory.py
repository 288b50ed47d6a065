"""The learner directory: the organisation's people, found by email, ids or a hashed recipient.

This module is the index only: parse_directory() turns the CSV's text into a LearnerDirectory.
Where the text comes from (a file, S3, HTTPS) and when it is read again is sources.py's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from array import array
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import compress, count, islice, repeat
from operator import and_, or_, sub
from typing import TYPE_CHECKING, NamedTuple

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
# Entries built from their rows and kept, per directory: a batch looks the same people up again.
ENTRY_CACHE = 4096
EMAILS, ORG_IDS = "@emails", "@ids"  # key namespaces besides each platform's (no registry name has an @)


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
        super().__init__(
            f"LEARNER_DIRECTORY {origin}: line {line} ({column}) repeats the value of line "
            f"{first_line} ({first_column}): two people cannot share an email or an id"
        )


Claims = Callable[[DirectoryEntry], Sequence[tuple[str, str]]]  # an entry's (column, key) pairs in one namespace
EntryOf = Callable[[int], DirectoryEntry]


class _Keys:
    """One namespace's keys (emails, the organisation's ids, one platform's ids, one salt's hashes)
    at 8 bytes a key: sorted numbers, each a key's `hash()` in the high bits and its row in the
    low bits (see key_mask). A dict from key strings holds an object per key, about 550,000 for
    100,000 people (60 MB and more); these hold none. The string hash differs between processes,
    which does not matter to a table living in one; two keys may share the high bits, so a row
    answers only once its own key compared equal (`claims`)."""

    def __init__(self, packed: array[float], row_bits: int, claims: Claims, rank: int = 0) -> None:
        self.packed = array("d", sorted(packed))
        self.low, self.mask, self.claims, self.rank = (1 << row_bits) - 1, key_mask(row_bits), claims, rank

    def rows(self, key: str) -> Iterator[int]:
        packed, low = self.packed, self.low
        wanted = hash(key) & self.mask
        at = bisect_left(packed, wanted)
        while at < len(packed) and int(packed[at]) & ~low == wanted:
            yield int(packed[at]) & low
            at += 1

    def find(self, key: str, entry_of: EntryOf) -> DirectoryEntry | None:
        for row in self.rows(key):
            entry = entry_of(row)
            if any(value == key for _, value in self.claims(entry)):
                return entry
        return None

    def conflicts(self, entry_of: EntryOf) -> Iterator[_Conflict]:
        """Each key two rows or more share: its first row and the next."""
        for rows in self._close_rows():
            holders: dict[str, list[int]] = {}
            for row in sorted(rows):
                for _, key in self.claims(entry_of(row)):
                    if row not in holders.setdefault(key, [row]):
                        holders[key].append(row)
            yield from (
                _Conflict(self, key, found[0], found[1], entry_of) for key, found in holders.items() if len(found) > 1
            )

    def _close_rows(self) -> Iterator[set[int]]:
        """The rows of each group of keys sharing their high bits, when two rows or more (keys
        are sorted: such keys are neighbours less than a row span apart, found at C speed)."""
        packed, low = self.packed, self.low
        groups: dict[int, set[int]] = {}
        neighbours = map(sub, islice(packed, 1, None), packed)
        for at in compress(count(), map(float(low + 1).__gt__, neighbours)):
            first, second = int(packed[at]), int(packed[at + 1])
            if first & ~low == second & ~low:
                groups.setdefault(first & ~low, set()).update((first & low, second & low))
        return (rows for rows in groups.values() if len(rows) > 1)


def key_mask(row_bits: int) -> int:
    """The bits of a key's hash that _Keys keeps: below 2**52, so that the number with the row in
    the low bits is a float exactly (floats sort several times faster than integers past 2**30)."""
    return (1 << 52) - (1 << row_bits)


class _Conflict(NamedTuple):
    keys: _Keys
    key: str
    first: int
    later: int
    entry_of: EntryOf

    @property
    def order(self) -> tuple[int, int, int]:
        """Where a reading in file order meets it: its later row, then what that row claims first
        (its emails, its ids, each platform's id, each in column order)."""
        later_keys = [key for _, key in self.keys.claims(self.entry_of(self.later))]
        return self.later, self.keys.rank, later_keys.index(self.key)

    def column(self, row: int) -> str:
        return next(column for column, key in self.keys.claims(self.entry_of(row)) if key == self.key)


def _email_claims(entry: DirectoryEntry) -> Sequence[tuple[str, str]]:
    return ([("email", entry.email)] if entry.email else []) + [(ALIASES_COLUMN, a) for a in entry.other_emails]


def _id_claims(entry: DirectoryEntry) -> Sequence[tuple[str, str]]:
    return [(column, value) for column in ORG_ID_COLUMNS if (value := getattr(entry, column))]


def _platform_claims(platform: str) -> Claims:
    column = platform_id_column(platform)
    return lambda entry: [(column, value)] if (value := entry.platform_id(platform)) else []


class LearnerDirectory:
    """Index of the learner directory by email (aliases included), organisation id and platform id.

    It keeps the CSV's text, where each row starts in it and a _Keys per namespace; an entry is
    built from its row when a lookup finds it (the ENTRY_CACHE last ones are kept)."""

    def __init__(self, entries: Iterable[DirectoryEntry] = (), origin: str = "(directory)") -> None:
        self._adopt(_Rows.parse(_entries_csv(entries), origin))

    @classmethod
    def _of(cls, rows: _Rows) -> LearnerDirectory:
        directory = cls.__new__(cls)
        directory._adopt(rows)
        return directory

    def _adopt(self, rows: _Rows) -> None:
        self._rows, self._keys = rows, rows.keys
        self._entry: EntryOf = lru_cache(maxsize=ENTRY_CACHE)(rows.entry)
        self._by_salted_hash: OrderedDict[str, _Keys] = OrderedDict()
        self._by_mbox_sha1: _Keys | None = None
        self._emails: tuple[str, array[int]] | None = None
        self._headcounts: dict[str, int] | None = None
        self._building = threading.Lock()  # one hashed-email table built at a time

    @classmethod
    def from_settings(cls, settings: Settings) -> LearnerDirectory:
        """LEARNER_DIRECTORY as it is now (one read, wherever it is); empty when it is not set."""
        from .sources import read_once

        return read_once(settings)

    @classmethod
    def from_csv(cls, path: str) -> LearnerDirectory:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                return parse_directory(handle.read(), str(path))
        except OSError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {path}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {path}: not UTF-8 text (byte {error.start})") from None

    def __len__(self) -> int:
        return len(self._rows.offsets)

    def __iter__(self) -> Iterator[DirectoryEntry]:
        return self._rows.entries()

    def headcounts(self) -> dict[str, int]:
        """People per team (entries without a team are in none): the report's team sizes."""
        if self._headcounts is None:
            teams = (team for team in map(str.strip, self._rows.cells("team")) if team)
            self._headcounts = dict(Counter(teams))
        return dict(self._headcounts)

    def find(self, learner: Learner, platform: str | None = None) -> DirectoryEntry | None:
        """The learner's entry by any of their emails, the organisation's id, their id on `platform`
        (the event's platform: another platform's id column is never looked at) or a hashed email."""
        keys = [
            (EMAILS, email_key(learner.email or "")),
            (ORG_IDS, learner.earner_id or ""),
            (platform or "", (learner.platform_user_id or "") if platform else ""),
        ]
        entry = next((found for namespace, key in keys if key and (found := self._find(namespace, key))), None)
        if entry is None and learner.email_sha256:
            return self._by_hash(learner.email_sha256, learner.email_salt or "")
        return entry

    def find_agent(self, agent: object) -> DirectoryEntry | None:
        """The directory entry of an xAPI agent as a LAP sends it: an account named by any id
        (the organisation's, then each platform's), the mbox of any email, or its SHA-1.

        None for anything else: an agent that is not an object, identifiers that are not text
        (an account name that is a list or a number matches no one, and must not raise)."""
        if not isinstance(agent, dict):
            return None
        account = agent.get("account")
        name = account.get("name") if isinstance(account, dict) else None
        if isinstance(name, str):
            entry = next(
                (found for namespace in self._keys if namespace != EMAILS and (found := self._find(namespace, name))),
                None,
            )
            if entry is not None:
                return entry
        mbox = agent.get("mbox")
        if isinstance(mbox, str) and mbox[:7].lower() == "mailto:":
            return self._find(EMAILS, email_key(mbox[7:]))
        digest = agent.get("mbox_sha1sum")
        if isinstance(digest, str):
            with self._building:
                if self._by_mbox_sha1 is None:
                    self._by_mbox_sha1 = self._hashed(_mbox_sha1)
            return self._by_mbox_sha1.find(digest.strip().lower(), self._entry)
        return None

    def _find(self, namespace: str, key: str) -> DirectoryEntry | None:
        keys = self._keys.get(namespace)
        return keys.find(key, self._entry) if keys is not None else None

    def _by_hash(self, digest: str, salt: str) -> DirectoryEntry | None:
        # One table per salt, since OB issuers often use one salt for a whole batch; but only the
        # SALT_TABLES most recently used: per-assertion salts are normal too, and each table holds
        # the whole directory.
        with self._building:
            table = self._by_salted_hash.get(salt)
            if table is None:
                table = self._hashed(lambda email: sha256_identity(email, salt))
                self._by_salted_hash[salt] = table
                while len(self._by_salted_hash) > SALT_TABLES:
                    self._by_salted_hash.popitem(last=False)
            else:
                self._by_salted_hash.move_to_end(salt)
        return table.find(digest.strip().lower(), self._entry)

    def _hashed(self, digest: Callable[[str], str]) -> _Keys:
        """Every email's digest, in one pass over the rows (the digests themselves are not kept)."""
        if self._emails is None:
            self._emails = self._rows.emails()
        emails, rows = self._emails
        digests = map(digest, emails.split("\n") if rows else ())
        hashes = map(and_, map(hash, digests), repeat(key_mask(self._rows.row_bits)))
        return _Keys(
            array("d", map(or_, hashes, rows)),
            self._rows.row_bits,
            lambda entry: [("", digest(email)) for email in entry.emails],
        )


def parse_directory(text: str, origin: str = "(directory)") -> LearnerDirectory:
    """The directory a CSV text describes; SettingsError naming the line for a bad one (missing
    columns, a file cut short, two people sharing an email or an id)."""
    return LearnerDirectory._of(_Rows.parse(text, origin))


class _Rows:
    """The CSV's text and where each person's row starts in it: entries are read back from there."""

    def __init__(self, text: str, layout: _Layout, offsets: array[int], row_bits: int) -> None:
        self.text, self.layout, self.offsets, self.row_bits = text, layout, offsets, row_bits
        self.keys: dict[str, _Keys] = {}

    @classmethod
    def parse(cls, text: str, origin: str) -> _Rows:
        ends = [1 if text.startswith("\ufeff") else 0]  # where the line read last ends
        rows = csv.reader(_lines(text, ends[0], ends), strict=True)
        # Rows are numbered in the keys' low bits: enough bits for every line of the text.
        row_bits = (text.count("\n") + 1).bit_length()
        try:
            layout = _Layout([cell.strip() for cell in next(rows, [])], origin)
            offsets, packed = layout.read(rows, ends, row_bits, ends_a_line=text.endswith(("\n", "\r")))
        except csv.Error as error:
            raise SettingsError(f"LEARNER_DIRECTORY {origin}: line {rows.line_num}: {error}") from None
        parsed = cls(text, layout, offsets, row_bits)
        claims = {EMAILS: _email_claims, ORG_IDS: _id_claims}
        parsed.keys = {
            namespace: _Keys(keys, row_bits, claims.get(namespace) or _platform_claims(namespace), rank)
            for rank, (namespace, keys) in enumerate(packed.items())
        }
        parsed.refuse_shared_keys()
        return parsed

    def refuse_shared_keys(self) -> None:
        conflicts = [conflict for keys in self.keys.values() for conflict in keys.conflicts(self.entry)]
        if conflicts:
            found = min(conflicts, key=lambda conflict: conflict.order)
            raise DirectoryConflict(
                self.layout.origin,
                found.column(found.later),
                self.line(found.later),
                found.column(found.first),
                self.line(found.first),
                found.key,
            )

    def row(self, position: int) -> list[str]:
        ends = [0]
        return next(csv.reader(_lines(self.text, self.offsets[position], ends), strict=True))

    def entry(self, position: int) -> DirectoryEntry:
        return self.layout.entry(self.row(position))

    def entries(self) -> Iterator[DirectoryEntry]:
        return map(self.layout.entry, self.every_row())

    def emails(self) -> tuple[str, array[int]]:
        """Every email of every row, one a line (a line break inside one is a space: no address
        has one), and the row of each: a tenth of the memory of as many strings, and hashed
        again for each new salt much faster than the rows are read."""
        rows, emails = array("i"), []
        for position, row in enumerate(self.every_row()):
            found = [email.replace("\n", " ") for email in self.layout.emails(row) if email]
            emails += found
            rows.extend([position] * len(found))
        return "\n".join(emails), rows

    def cells(self, column: str) -> Iterator[str]:
        """The column's cell in each row ("" where the row is short or the column missing)."""
        index = self.layout.at.get(column, -1)
        return (row[index] if 0 <= index < len(row) else "" for row in self.every_row())

    def every_row(self) -> Iterator[list[str]]:
        rows = csv.reader(_lines(self.text, self.offsets[0], [0]), strict=True) if self.offsets else iter(())
        return filter(None, rows)

    def line(self, position: int) -> int:
        """The row's line number as csv.reader counts it (its last line, quoted line breaks counted)."""
        offset, ends = self.offsets[position], [0]
        rows = csv.reader(_lines(self.text, offset, ends), strict=True)
        next(rows)
        return self.text.count("\n", 0, offset) + rows.line_num


def _lines(text: str, start: int, ends: list[int]) -> Iterator[str]:
    """The text's lines from `start`, each with its line break, one at a time (io.StringIO would
    first copy the whole text at four bytes a character); ends[0] is where the last one ended."""
    find, size = text.find, len(text)
    while start < size:
        end = find("\n", start)
        end = size if end < 0 else end + 1
        ends[0] = end
        yield text[start:end]
        start = end


def _entries_csv(entries: Iterable[DirectoryEntry]) -> str:
    """Entries as the CSV text that describes them (a directory keeps its people as text)."""
    people = list(entries)
    platforms = list(dict.fromkeys(name for entry in people for name, _ in entry.platform_ids))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*DIRECTORY_COLUMNS, ALIASES_COLUMN, *map(platform_id_column, platforms)])
    writer.writerows(
        [*entry[:6], ALIAS_SEPARATOR.join(entry.other_emails), *map(entry.platform_id, platforms)] for entry in people
    )
    return out.getvalue()


class _Layout:
    """Where each column is in the header, and how a row becomes an entry."""

    def __init__(self, header: list[str], origin: str) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise SettingsError(f"LEARNER_DIRECTORY {origin}: missing column(s) {', '.join(missing)}")
        self.origin, self.width = origin, len(header)
        self.at = {c: header.index(c) for c in (*DIRECTORY_COLUMNS, ALIASES_COLUMN) if c in header}
        self.platform_at = [
            (platform, header.index(column)) for column, platform in platform_id_columns().items() if column in header
        ]
        self.shared: dict[str, str] = {}  # job roles and teams repeat: one string each

    def read(
        self, rows: Iterator[list[str]], ends: list[int], row_bits: int, ends_a_line: bool
    ) -> tuple[array[int], dict[str, array[float]]]:
        """Each row's offset in the text, and each namespace's keys as _Keys packs them (one loop
        with everything in locals: it runs for every row of a large file)."""
        high, width, at, offsets = key_mask(row_bits), self.width, self.at, array("q")
        emails, ids = array("d"), array("d")
        packed = {EMAILS: emails, ORG_IDS: ids, **{platform: array("d") for platform, _ in self.platform_at}}
        platforms = [(packed[platform], index) for platform, index in self.platform_at]
        email_at, aliases_at, id_at = at["email"], at.get(ALIASES_COLUMN), at["employee_id"]
        lms_at = at.get("lms_account")
        start, short_line = ends[0], 0
        for row in rows:
            if not row:
                start = ends[0]
                continue
            short_line = rows.line_num if len(row) < width else 0  # type: ignore[attr-defined]
            if short_line:
                row += [""] * (width - len(row))
            n = len(offsets)
            offsets.append(start)
            start = ends[0]
            email = row[email_at].strip().lower()
            if email:
                emails.append(hash(email) & high | n)
            for alias in row[aliases_at].split(ALIAS_SEPARATOR) if aliases_at is not None and row[aliases_at] else ():
                alias = alias.strip().lower()
                if alias and alias != email:
                    emails.append(hash(alias) & high | n)
            employee_id = row[id_at].strip()
            if employee_id:
                ids.append(hash(employee_id) & high | n)
            lms = row[lms_at].strip() if lms_at is not None else ""
            if lms and lms != employee_id:
                ids.append(hash(lms) & high | n)
            for keys, index in platforms:
                value = row[index].strip()
                if value:
                    keys.append(hash(value) & high | n)
        if short_line and not ends_a_line:
            raise SettingsError(
                f"LEARNER_DIRECTORY {self.origin}: line {short_line} has fewer columns than the "
                "header and ends the file without a line break: the file looks cut short"
            )
        return offsets, packed

    def entry(self, row: list[str]) -> DirectoryEntry:
        at, width = self.at, len(row)

        def cell(column: str) -> str:
            index = at.get(column, width)
            return row[index].strip() if index < width else ""

        email, *aliases = self.emails(row)
        return DirectoryEntry(
            employee_id=cell("employee_id"),
            email=email,
            name=cell("name"),
            job_role=self.shared.setdefault(role := cell("job_role"), role),
            team=self.shared.setdefault(team := cell("team"), team),
            lms_account=cell("lms_account"),
            other_emails=tuple(aliases),
            platform_ids=tuple((p, row[i].strip()) for p, i in self.platform_at if i < width and row[i].strip()),
        )

    def emails(self, row: list[str]) -> list[str]:
        """The row's email (maybe empty), then its aliases."""
        email_at, aliases_at, width = self.at["email"], self.at.get(ALIASES_COLUMN, len(row)), len(row)
        aliases = row[aliases_at] if aliases_at < width else ""
        return [
            email_key(row[email_at]) if email_at < width else "",
            *(email_key(a) for a in aliases.split(ALIAS_SEPARATOR) if a.strip()),
        ]


def _mbox_sha1(email: str) -> str:
    return hashlib.sha1(f"mailto:{email}".encode()).hexdigest()


def sha256_identity(identity: str, salt: str = "") -> str:
    """Open Badges hashed identity, without the "sha256$" prefix."""
    return hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()
