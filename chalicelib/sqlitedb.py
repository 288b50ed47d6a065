"""One SQLite file shared by the local store and the local outbox: safe across threads and processes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteDb:
    def __init__(self, path: str | Path, schema: str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: chalice local's request threads and the outbox
        # worker thread share it; other processes (the CLI) are serialised by SQLite itself.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple = ()) -> None:
        """One write statement, its own transaction (autocommit): atomic as it is, without the
        BEGIN/COMMIT round trips, each a release and re-take of the GIL."""
        with self._lock:
            self._conn.execute(sql, params)

    def function(self, name: str, call: Callable[[str], str]) -> None:
        """A deterministic SQL function of one text argument, for what SQL cannot say (Unicode case)."""
        with self._lock:
            self._conn.create_function(name, 1, call, deterministic=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def data_version(self) -> int:
        """Changes whenever another connection (of this process or another) commits to the file."""
        with self._lock:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
