"""Reading a CSV file one record at a time, knowing where each record starts and ends.

Hardened for exports as users hand them over: a UTF-8 byte order mark, CRLF line ends, quoted
cells spanning lines, cells over the csv module's field limit (131,072 characters: kept, as on
the LAP report path, so that one cell can never hold the file), lines that are not UTF-8 or
longer than MAX_LINE_BYTES. A record the csv module or the decoder refuses is reported with its
line and reading goes on at the next line. After each record the byte offset of the next one is
known, so a reader can stop anywhere and a later one start there (resume).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import ConnectorError

BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 4 * 1024 * 1024  # a line longer than this is refused unread (a file without line ends)
_NOT_NAME = re.compile(r"[\s_\-]+")


class CsvFileError(ConnectorError):
    """The file cannot be imported at all (no header, not CSV, an unreadable file): one line."""


def header_key(name: str) -> str:
    """A header name as it is matched: case, spaces, underscores and hyphens ignored."""
    return _NOT_NAME.sub("", name).lower()


@dataclass(frozen=True)
class Record:
    line: int  # the line the record starts on (the header is line 1)
    cells: list[str]
    end: int  # byte offset where the next record starts
    end_line: int  # the last line of the record


@dataclass(frozen=True)
class BadRecord:
    line: int
    reason: str
    end: int
    end_line: int


class _BadLine(Exception):
    """Raised by the line source through the csv reader: the line is skipped, the next one read."""


class _Lines:
    """The file's lines as text for csv.reader, counting lines and bytes as they are handed over."""

    def __init__(self, stream: BinaryIO, offset: int, line: int) -> None:
        self.stream = stream
        self.offset = offset  # bytes handed over so far
        self.line = line  # lines handed over so far

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise StopIteration
        if self.offset == 0 and raw.startswith(BOM):
            raw, self.offset = raw[len(BOM):], len(BOM)
        self.offset += len(raw)
        self.line += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            self._skip_rest()
            raise _BadLine(f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _BadLine(f"not UTF-8 (byte {error.start + 1} of the line)") from None

    def _skip_rest(self) -> None:
        while True:
            rest = self.stream.readline(MAX_LINE_BYTES)
            self.offset += len(rest)
            if not rest or rest.endswith(b"\n"):
                return


class CsvFile:
    """One file: its header, and its records from a byte offset on."""

    def __init__(self, path: Path, delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = delimiter
        try:
            self.size = path.stat().st_size
        except OSError as error:
            raise CsvFileError(f"{path}: {error.strerror}") from None
        self.header, self.body_offset = self._header()

    def _header(self) -> tuple[list[str], int]:
        with self._open() as stream:
            lines = _Lines(stream, 0, 0)
            reader = csv.reader(lines, delimiter=self.delimiter)
            try:
                header = next(reader, None)
            except (csv.Error, _BadLine) as error:
                raise CsvFileError(f"{self.path}: the header (line 1) is not readable as CSV: {error}") from None
            if not header or not any(cell.strip() for cell in header):
                raise CsvFileError(f"{self.path}: no header line (the first line names the columns)")
            return [cell.strip() for cell in header], lines.offset

    def _open(self) -> BinaryIO:
        try:
            return self.path.open("rb")
        except OSError as error:
            raise CsvFileError(f"{self.path}: {error.strerror}") from None

    def records(self, offset: int | None = None, line: int = 1) -> Iterator[Record | BadRecord]:
        """The records after the header, or from `offset` (a Record.end) where `line` ended."""
        start = self.body_offset if offset is None else offset
        if not self.body_offset <= start <= self.size:
            raise CsvFileError(f"{self.path}: the stored position {start} is not in the file (changed since?)")
        with self._open() as stream:
            stream.seek(start)
            lines = _Lines(stream, start, line if offset is not None else 1)
            reader = csv.reader(lines, delimiter=self.delimiter)
            while True:
                first = lines.line + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except (csv.Error, _BadLine) as error:
                    yield BadRecord(first, f"not readable as CSV: {error}", lines.offset, lines.line)
                    continue
                if cells:  # a blank line is no record
                    yield Record(first, cells, lines.offset, lines.line)
