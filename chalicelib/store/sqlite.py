"""The store on SQLite: the embedded default for local runs and tests."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from ..sqlitedb import SqliteDb
from . import DeadLetter

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
    attempts INTEGER NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.db = SqliteDb(path, SCHEMA)

    def claim_delivery(self, key: str, ttl_seconds: int) -> bool:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM deliveries WHERE key = ? AND expires_at <= ?", (key, now))
            cursor = conn.execute(
                "INSERT OR IGNORE INTO deliveries (key, expires_at) VALUES (?, ?)", (key, now + ttl_seconds)
            )
            return cursor.rowcount == 1

    def release_delivery(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM deliveries WHERE key = ?", (key,))

    def put_dead_letter(self, message_id: str, source: str, reason: str, message: dict) -> DeadLetter:
        now = _now_iso()
        with self.db.transaction() as conn:
            conn.execute(
                """INSERT INTO dead_letters (id, source, reason, message, attempts, first_at, last_at)
                   VALUES (?, ?, ?, ?, 1, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET reason = excluded.reason, message = excluded.message,
                   attempts = attempts + 1, last_at = excluded.last_at""",
                (message_id, source, reason, json.dumps(message), now, now),
            )
        letter = self.dead_letter(message_id)
        assert letter is not None
        return letter

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        sql = "SELECT * FROM dead_letters ORDER BY first_at, id"
        rows = self.db.query(sql + " LIMIT ?", (limit,)) if limit else self.db.query(sql)
        return [_letter(row) for row in rows]

    def dead_letter(self, message_id: str) -> DeadLetter | None:
        rows = self.db.query("SELECT * FROM dead_letters WHERE id = ?", (message_id,))
        return _letter(rows[0]) if rows else None

    def delete_dead_letter(self, message_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM dead_letters WHERE id = ?", (message_id,))

    def count_dead_letters(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM dead_letters")[0][0])

    def increment(self, counters: dict[str, int]) -> None:
        with self.db.transaction() as conn:
            for name, value in counters.items():
                conn.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    (name, value),
                )

    def counters(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.db.query("SELECT name, value FROM counters")}

    def set_flag(self, name: str, value: str | None) -> None:
        with self.db.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM flags WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO flags (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )

    def flags(self) -> dict[str, str]:
        return dict(self.db.query("SELECT name, value FROM flags"))


def _letter(row: tuple) -> DeadLetter:
    id_, source, reason, message, attempts, first_at, last_at = row
    return DeadLetter(id_, source, reason, json.loads(message), int(attempts), first_at, last_at)
