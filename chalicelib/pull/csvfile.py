"""Reading a CSV file one record at a time, knowing where each record starts and ends.

Hardened for exports as users hand them over: a UTF-8 byte order mark, CRLF line ends, quoted
cells spanning lines, cells over the csv module's field limit (131,072 characters: kept, as on
the LAP report path, so that one cell can never hold the file), lines that are not UTF-8 or
longer than MAX_LINE_BYTES, a quote never closed. A record the csv module or the decoder refuses
is reported with the line it starts on, and reading goes on at the line after that one: every
line of the file ends up in a record, good or bad, and a quote opened by mistake costs its own
row, not the rows it would have swallowed. After each record the byte offset of the next one is
known, so a reader can stop anywhere and a later one start there (resume).

Only regular files are read: a pipe can be read neither twice (the content digest, the header)
nor from an offset (resume), and a device may never end.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import ConnectorError

BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 4 * 1024 * 1024  # a line longer than this is refused unread (a file without line ends)
# A row spanning lines fails once it is longer than this: quotes opened and never closed would
# otherwise make one row of the rest of the file, however large, in memory.
MAX_RECORD_BYTES = 4 * 1024 * 1024
# Bytes that may be read again after records failing across lines, before the file is refused:
# a file whose every line opens a quote would be read again from each line to the field limit.
MIN_REREAD_BYTES = 64 * 1024 * 1024
_NOT_NAME = re.compile(r"[\s_\-]+")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


class CsvFileError(ConnectorError):
    """The file cannot be imported at all (no header, not CSV, an unreadable file): one line."""


def header_key(name: str) -> str:
    """A header name as it is matched: case, spaces, underscores and hyphens ignored."""
    return _NOT_NAME.sub("", name).lower()


def open_regular(path: Path) -> io.BufferedReader:
    """`path` open for reading when it is a regular file; CsvFileError (one line) otherwise.

    Opened without blocking, then looked at: opening a pipe nobody writes to waits forever."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise CsvFileError(f"{path}: {error.strerror}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "another kind of file")
            raise CsvFileError(f"{path}: not a regular file ({kind}): save it to a file and import that")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


@dataclass(frozen=True)
class Record:
    line: int  # the line the record starts on (the header is line 1)
    cells: list[str]  # none: a blank line
    end: int  # byte offset where the next record starts
    end_line: int  # the last line of the record


@dataclass(frozen=True)
class BadRecord:
    line: int
    reason: str
    end: int
    end_line: int


class _BadLine(Exception):
    """Raised by the line source through the csv reader: the record fails on this line."""


class _Lines:
    """The file's lines as text for csv.reader, counting lines and bytes as they are handed over."""

    def __init__(self, stream: BinaryIO, offset: int, line: int) -> None:
        self.stream = stream
        self.offset = offset  # bytes handed over so far
        self.line = line  # lines handed over so far
        self.first = line + 1  # the line the current record starts on
        self.start = offset  # where it starts
        self.first_end = -1  # where that line ends (-1: not read yet)
        self.ended = False  # the end of the file was reached during the current record

    def __iter__(self) -> _Lines:
        return self

    def next_record(self) -> int:
        """Called before each record is read: the line it starts on."""
        self.first, self.start, self.first_end, self.ended = self.line + 1, self.offset, -1, False
        return self.first

    def rewind(self) -> int:
        """Read on from the second line of the current record; the bytes read again."""
        again = self.offset - self.first_end
        self.stream.seek(self.first_end)
        self.offset, self.line = self.first_end, self.first
        return again

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            self.ended = True
            raise StopIteration
        if self.offset == 0 and raw.startswith(BOM):
            raw, self.offset = raw[len(BOM) :], len(BOM)
        self.offset += len(raw)
        self.line += 1
        too_long = len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n")
        if too_long:
            self._skip_rest()
        if self.first_end < 0:
            self.first_end = self.offset
        if too_long:
            raise _BadLine(f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
        if self.offset - self.start > MAX_RECORD_BYTES and self.line > self.first:
            raise _BadLine(f"the row is longer than {MAX_RECORD_BYTES:,} bytes")
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


def _failure(lines: _Lines, cells: list[str] | None, error: Exception | None) -> str | None:
    """Why the record just read is not one (None: it is)."""
    if error is not None:
        if lines.line == lines.first:
            return f"not readable as CSV: {error}"
        return (
            f"a quoted cell opened on this line runs on to line {lines.line}, not readable there as CSV "
            f"({error}): a quote not closed?"
        )
    if lines.ended and cells is not None:  # the csv module closes a quoted cell left open at the end
        return "a quote opened on this line is never closed (the file ends inside the quoted cell)"
    return None


class CsvFile:
    """One file: its header, and its records from a byte offset on."""

    def __init__(self, path: Path, delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = delimiter
        with open_regular(path) as stream:
            self.size = os.fstat(stream.fileno()).st_size
            self.header, self.body_offset, self.body_line = self._header(stream)

    def _header(self, stream: BinaryIO) -> tuple[list[str], int, int]:
        """The header's cells, the offset after it and its last line (a quoted name may span lines)."""
        lines = _Lines(stream, 0, 0)
        header, error = None, None
        try:
            header = next(csv.reader(lines, delimiter=self.delimiter), None)
        except (csv.Error, _BadLine) as raised:
            error = raised
        problem = _failure(lines, header, error)
        if problem:
            raise CsvFileError(f"{self.path}: the header (line 1): {problem}")
        if not header or not any(cell.strip() for cell in header):
            raise CsvFileError(f"{self.path}: no header line (the first line names the columns)")
        return [cell.strip() for cell in header], lines.offset, lines.line

    def records(self, offset: int | None = None, line: int = 1) -> Iterator[Record | BadRecord]:
        """The records after the header, or from `offset` (a Record.end) where `line` ended.

        Blank lines come as records without cells, so that every line is accounted for. A record
        failing across lines is named by its first line, and the lines after it read again."""
        start = self.body_offset if offset is None else offset
        if not self.body_offset <= start <= self.size:
            raise CsvFileError(f"{self.path}: the stored position {start} is not in the file (changed since?)")
        reread = max(self.size, MIN_REREAD_BYTES)  # what may be read again, at most
        with open_regular(self.path) as stream:
            stream.seek(start)
            lines = _Lines(stream, start, line if offset is not None else self.body_line)
            reader = csv.reader(lines, delimiter=self.delimiter)
            while True:
                first = lines.next_record()
                cells, error = None, None
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except (csv.Error, _BadLine) as raised:
                    error = raised
                problem = _failure(lines, cells, error)
                if problem is None:
                    yield Record(first, cells or [], lines.offset, lines.line)
                    continue
                if lines.line > first:
                    reread -= lines.rewind()
                    if reread < 0:
                        raise CsvFileError(self._unclosed_quotes(first))
                yield BadRecord(first, problem, lines.offset, first)

    def _unclosed_quotes(self, line: int) -> str:
        limit = max(self.size, MIN_REREAD_BYTES) // (1024 * 1024)
        return (
            f"{self.path}: line {line}: too many quotes never closed ({limit} MiB read again after them): "
            "a quote inside a cell must be doubled, in a cell that is quoted; fix the file's quoting"
        )
