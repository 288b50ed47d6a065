"""import-csv: a CSV file as a source of pages for the pull runner.

Where a platform's API is out of reach, its own CSV export (or any CSV, through a mapping) is
read row by row: each row becomes canonical events (RowReader: a platform's export layout read
by its adapter, or a mapping) and is checked as far as the worker would check it (its
statements are built and validated); a row that fails is reported with its line and reason and
left out, so it never sinks the page it would have joined. Good rows are queued in pages of at
most ROWS_PER_PAGE rows and PAGE_BYTES bytes of events (messages of kind "event"). Each page's
resume point is the byte offset after its last row: the runner stores it once the page is
queued, under a cursor named after the file's content, so an interrupted import resumes there;
a finished one leaves a "done" mark, and importing the same file again queues nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ..errors import ConnectorError, InputError
from ..events import CredentialEvent, Skipped
from ..platforms import ExportLayout, SourceAdapter
from ..platforms.common import redacted
from ..platforms.pulling import PAGE_BYTES, Mode, Page, queued_size
from .csvfile import BadRecord, CsvFile, CsvFileError, Record, header_key, open_regular

ROWS_PER_PAGE = 500
MAX_LISTED_BAD_ROWS = 1000  # kept for the summary; beyond, bad rows are counted only (memory stays flat)
DELIMITER_HINTS = (";", "\t", "|")


class RowReader(Protocol):
    """How rows of one layout become canonical events."""

    title: str  # what the file is, for messages

    def columns(self) -> dict[str, tuple[str, ...]]:
        """Each column the reader uses -> the header spellings it accepts (the first is its name)."""

    def required(self) -> set[str]:
        """The columns a file's header must have."""

    def events(self, cells: dict[str, str]) -> list[CredentialEvent | Skipped]:
        """The row's events (cells: non-empty, stripped, by column name); InputError names the field."""

    def column(self, field: str) -> str | None:
        """The column an InputError's field comes from, when it names one."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str  # never an email address: reasons reach the terminal, the summary and logs


@dataclass
class Position:
    """Where an import stands: stored as the cursor once the rows before `offset` are queued."""

    offset: int | None = None  # None: the first row
    line: int = 1  # the last line read: every line up to it is a row (good, bad, skipped) or blank
    rows: int = 0
    good: int = 0
    bad: int = 0
    done: bool = False

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str | None) -> Position:
        if text is None:
            return cls()
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return cls()  # starting over is always safe: statement ids are deterministic


@dataclass
class ImportStats:
    position: Position = field(default_factory=Position)
    skipped: Counter[str] = field(default_factory=Counter)
    bad_rows: list[BadRow] = field(default_factory=list)  # the first MAX_LISTED_BAD_ROWS
    read_bytes: int = 0  # how far the file is read (progress)
    start_bytes: int = 0  # where this run started reading
    resumed_at: int = 0  # rows already done when this run started
    already_imported: bool = False  # the file was imported whole before: nothing queued


def cursor_name(label: str, path: Path, reader_key: str) -> str:
    """Per file content (a renamed copy resumes, an edited file starts afresh) and layout."""
    with open_regular(path) as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return f"import-csv:{label}:{hashlib.sha256(reader_key.encode()).hexdigest()[:8]}:{digest}"


class Columns:
    """Which cell of a record holds each column a reader uses, resolved against the header."""

    def __init__(self, file: CsvFile, reader: RowReader) -> None:
        read = {header_key(spelling) for spellings in reader.columns().values() for spelling in spellings}
        found: dict[str, int] = {}
        for index, name in enumerate(file.header):
            key = header_key(name)
            if key in found and key in read:  # which of the two holds the data is anybody's guess
                raise CsvFileError(
                    f"{file.path}: the header names {redacted(name, 80)!r} twice (columns "
                    f"{found[key] + 1} and {index + 1}): rename or remove one"
                )
            found.setdefault(key, index)
        self.width = len(file.header)
        self.index: dict[str, int] = {}
        for name, spellings in reader.columns().items():
            spelled = next((k for k in map(header_key, spellings) if k in found), None)
            if spelled is not None:
                self.index[name] = found[spelled]
        self.headers = {name: " ".join(file.header[i].split()) for name, i in self.index.items()}  # reasons: one line
        missing = [name for name in reader.columns() if name in reader.required() and name not in self.index]
        if missing:
            raise CsvFileError(_missing_columns(file, reader.title, missing))

    def cells(self, record: list[str]) -> dict[str, str]:
        width = len(record)
        return {name: cell for name, i in self.index.items() if i < width and (cell := record[i].strip())}

    def overflow(self, record: list[str]) -> bool:
        """More non-empty cells than the header names: a comma in an unquoted cell shifts the row."""
        return len(record) > self.width and any(cell.strip() for cell in record[self.width :])


def _missing_columns(file: CsvFile, title: str, missing: list[str]) -> str:
    names = ", ".join(repr(m) for m in missing)
    message = f"{file.path}: not a {title}: the header has no column {names}"
    if len(file.header) == 1:
        hint = next((d for d in DELIMITER_HINTS if d in file.header[0]), None)
        if hint:
            shown = "tab" if hint == "\t" else repr(hint)
            return f"{message} (the file looks {shown}-separated: pass --delimiter {shown})"
    found = redacted(", ".join(file.header), 200)  # the header of a file without one is a row
    return f"{message} (found: {found})"


class CsvSource:
    """A CSV file as pages of canonical events (the pulling.Puller contract)."""

    def __init__(
        self,
        file: CsvFile,
        reader: RowReader,
        check: Callable[[CredentialEvent], object],
        on_bad: Callable[[BadRow], None] | None = None,
        rows_per_page: int = ROWS_PER_PAGE,
        page_bytes: int = PAGE_BYTES,
    ) -> None:
        self.file = file
        self.reader = reader
        self.columns = Columns(file, reader)  # checked now: a wrong file fails before any row is read
        self.check = check  # raises what the worker would raise for the event (identity, statement)
        self.on_bad = on_bad
        self.rows_per_page = rows_per_page
        self.page_bytes = page_bytes
        self.stats = ImportStats()

    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        position = Position.decode(resume)
        self.stats.position, self.stats.resumed_at = position, position.rows
        self.stats.start_bytes = self.stats.read_bytes = position.offset or 0
        if position.done:
            self.stats.already_imported, self.stats.read_bytes = True, self.file.size
            return
        chunk: list[dict] = []
        rows = size = 0
        after = position  # where the chunk's last row ends
        for record in self.file.records(position.offset, position.line):
            self.stats.read_bytes = record.end
            row = self._row(record, position)
            if row is None:
                continue
            events, weight = row
            if chunk and (rows >= self.rows_per_page or size + weight > self.page_bytes):
                yield Page(document=chunk, records=rows, resume=after.encode(), kind="event")
                chunk, rows, size = [], 0, 0
            chunk.extend(events)
            rows, size = rows + 1, size + weight
            after = Position(record.end, record.end_line, position.rows, position.good, position.bad)
        done = Position(self.file.size, position.line, position.rows, position.good, position.bad, done=True)
        self.stats.position = done
        yield Page(document=chunk, records=rows, resume=done.encode(), last=True, kind="event")

    def _row(self, record: Record | BadRecord, position: Position) -> tuple[list[dict], int] | None:
        """The row's events as queued, and their size; None (counted) for a bad or wholly skipped row,
        or a blank line."""
        position.line = record.end_line
        if isinstance(record, Record) and not record.cells:
            return None
        position.rows += 1
        if isinstance(record, BadRecord):
            self._bad(record.line, record.reason, position)
            return None
        if self.columns.overflow(record.cells):
            self._bad(
                record.line,
                f"{len(record.cells)} cells, the header names {self.columns.width}: "
                "a delimiter inside an unquoted cell?",
                position,
            )
            return None
        try:
            items = self.reader.events(self.columns.cells(record.cells))
            events = [item for item in items if isinstance(item, CredentialEvent)]
            for event in events:
                self.check(event)
        except InputError as error:
            self._bad(record.line, self._reason(error), position)
            return None
        except ConnectorError as error:
            self._bad(record.line, str(error), position)
            return None
        self.stats.skipped.update(item.rule for item in items if isinstance(item, Skipped))
        if not events:
            return None
        queued = [event.model_dump(mode="json", exclude_none=True) for event in events]
        weight = sum(queued_size(e) + 1 for e in queued)
        if weight > self.page_bytes:
            self._bad(
                record.line, f"too large to queue ({weight:,} bytes of events; at most {self.page_bytes:,})", position
            )
            return None
        position.good += 1
        return queued, weight

    def _reason(self, error: InputError) -> str:
        column = self.reader.column(error.field)
        if column is None:
            return str(error)
        return f"{self.columns.headers.get(column, column)}: {error.message}"

    def _bad(self, line: int, reason: str, position: Position) -> None:
        position.bad += 1
        bad = BadRow(line, redacted(reason))
        if len(self.stats.bad_rows) < MAX_LISTED_BAD_ROWS:
            self.stats.bad_rows.append(bad)
        if self.on_bad:
            self.on_bad(bad)


class LayoutRows:
    """A platform's own export layout: each row becomes the document its adapter parses, so the
    ids and the meaning of every field come from the one adapter."""

    def __init__(self, layout: ExportLayout, adapter: SourceAdapter) -> None:
        self.title = layout.title
        self.layout = layout
        self.adapter = adapter
        self._columns = {column.field: column.name for column in layout.columns}

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {column.name: (column.name, *column.aliases) for column in self.layout.columns}

    def required(self) -> set[str]:
        return {column.name for column in self.layout.columns if column.required}

    def events(self, cells: dict[str, str]) -> list[CredentialEvent | Skipped]:
        return self.adapter.parse(self.layout.document(cells))

    def column(self, field: str) -> str | None:
        return self._columns.get(field)
