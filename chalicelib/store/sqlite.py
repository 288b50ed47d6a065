"""The store on SQLite: the embedded default for local runs and tests."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from ..sqlitedb import SqliteDb
from . import DeadLetter, DeadLetterHead, DiscardedLetter, Expiry, LetterFilter, Run, RunHistory, ShareLink

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_expiry ON deliveries (expires_at);
CREATE TABLE IF NOT EXISTS delivered (endpoint TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (endpoint, id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
    attempts INTEGER NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS discarded_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL,
    discard_reason TEXT NOT NULL, discarded_at TEXT NOT NULL, message TEXT NOT NULL, attempts INTEGER NOT NULL,
    first_at TEXT NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS awards (
    key TEXT PRIMARY KEY, state TEXT NOT NULL, vendor_id TEXT, detail TEXT, reason TEXT,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursor_times (name TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (source TEXT NOT NULL, mode TEXT NOT NULL, slot TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (source, mode, slot));
CREATE TABLE IF NOT EXISTS verified (name TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS expiries (key TEXT PRIMARY KEY, expires_at TEXT NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS share_links (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, target TEXT NOT NULL, created_at TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS expiries_due ON expiries (expires_at);
CREATE TABLE IF NOT EXISTS progress (
    learner TEXT NOT NULL, rule TEXT NOT NULL, criterion TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (learner, rule, criterion));
"""


# Expired de-duplication claims deleted per claim made: more than one, so a backlog (the claims of
# a busy month) shrinks while new ones come.
PRUNED_PER_CLAIM = 2

# Keys per `IN (...)` query: well under SQLite's limit on bound variables (999 before 3.32).
SQL_VARIABLES = 500


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.db = SqliteDb(path, SCHEMA)
        self.db.function("casefold", lambda text: text.casefold())  # lower() folds ASCII only

    def claim_delivery(self, key: str, ttl_seconds: int) -> bool:
        return key in self.claim_deliveries([key], ttl_seconds)

    def delivery_seen(self, key: str) -> bool:
        return key in self.seen_deliveries([key])

    def claim_deliveries(self, keys: list[str], ttl_seconds: int) -> set[str]:
        now = time.time()
        claimed: set[str] = set()
        with self.db.transaction() as conn:  # one transaction for an array's documents
            for key in keys:
                conn.execute("DELETE FROM deliveries WHERE key = ? AND expires_at <= ?", (key, now))
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO deliveries (key, expires_at) VALUES (?, ?)", (key, now + ttl_seconds)
                )
                if cursor.rowcount == 1:
                    claimed.add(key)
            # Expired claims count as absent; each claim also clears a few of them from the table, so
            # that it holds what DEDUPE_TTL_SECONDS keeps and not every delivery ever made.
            conn.execute(
                "DELETE FROM deliveries WHERE rowid IN "
                "(SELECT rowid FROM deliveries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (now, PRUNED_PER_CLAIM * len(keys)),
            )
        return claimed

    def seen_deliveries(self, keys: list[str]) -> set[str]:
        return self._matching("SELECT key FROM deliveries WHERE expires_at > ? AND key IN", (time.time(),), keys)

    def _matching(self, select: str, params: tuple, keys: list[str]) -> set[str]:
        """The first column of `select` ending in `IN`, completed with `keys`, SQL_VARIABLES at a time."""
        found: set[str] = set()
        for start in range(0, len(keys), SQL_VARIABLES):
            chunk = keys[start : start + SQL_VARIABLES]
            rows = self.db.query(f"{select} ({','.join('?' * len(chunk))})", (*params, *chunk))
            found.update(row[0] for row in rows)
        return found

    def release_delivery(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM deliveries WHERE key = ?", (key,))

    def delivered_ids(self, endpoint: str, ids: list[str]) -> set[str]:
        return self._matching("SELECT id FROM delivered WHERE endpoint = ? AND id IN", (endpoint,), ids)

    def record_delivered(self, endpoint: str, ids: list[str]) -> None:
        with self.db.transaction() as conn:  # one transaction a batch
            conn.executemany(
                "INSERT OR IGNORE INTO delivered (endpoint, id) VALUES (?, ?)",
                [(endpoint, statement_id) for statement_id in ids],
            )

    def forget_delivered(self, endpoint: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM delivered WHERE endpoint = ?", (endpoint,))

    def count_delivered(self, endpoint: str) -> int | None:
        return self.db.query("SELECT COUNT(*) FROM delivered WHERE endpoint = ?", (endpoint,))[0][0]

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

    def dead_letter_heads(self, where: LetterFilter) -> list[DeadLetterHead]:
        clauses, params = _letter_where(where)
        limit = " LIMIT ?" if where.limit else ""
        rows = self.db.query(
            f"SELECT id, source, reason, attempts, first_at, last_at FROM dead_letters{clauses} "
            f"ORDER BY first_at, id{limit}",
            (*params, *([where.limit] if where.limit else [])),
        )
        return [DeadLetterHead(*row) for row in rows]

    def discard_dead_letter(self, message_id: str, reason: str) -> DiscardedLetter | None:
        with self.db.transaction() as conn:  # the audit record and the removal, or neither
            row = conn.execute("SELECT * FROM dead_letters WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                return None
            letter = _letter(row)
            record = DiscardedLetter.of(letter, reason, _now_iso())
            conn.execute(
                "INSERT INTO discarded_letters (id, source, reason, discard_reason, discarded_at, message, "
                "attempts, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_discarded_row(record),),
            )
            conn.execute("DELETE FROM dead_letters WHERE id = ?", (message_id,))
        return record

    def discarded_letters(self, limit: int | None = None) -> list[DiscardedLetter]:
        sql = (
            "SELECT id, source, reason, discard_reason, discarded_at, message, attempts, first_at, last_at "
            "FROM discarded_letters ORDER BY discarded_at DESC, seq DESC"
        )
        rows = self.db.query(sql + " LIMIT ?", (limit,)) if limit else self.db.query(sql)
        return [_discarded(*row) for row in rows]

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

    def claim_award(self, key: str) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO awards (key, state, updated_at) VALUES (?, 'claimed', ?) "
                "ON CONFLICT(key) DO UPDATE SET state = 'claimed', reason = NULL, "
                "updated_at = excluded.updated_at WHERE awards.state = 'failed'",
                (key, _now_iso()),
            )
            return cursor.rowcount == 1

    def complete_award(self, key: str, vendor_id: str, detail: dict) -> None:
        self._set_award(key, "awarded", vendor_id=vendor_id, detail=json.dumps(detail))

    def fail_award(self, key: str, reason: str) -> None:
        self._set_award(key, "failed", reason=reason)

    def _set_award(self, key: str, state: str, **fields: str) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self.db.transaction() as conn:
            conn.execute(
                f"UPDATE awards SET state = ?, {names}, updated_at = ? WHERE key = ?",
                (state, *fields.values(), _now_iso(), key),
            )

    def release_award(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM awards WHERE key = ?", (key,))

    def award(self, key: str) -> dict | None:
        rows = self.db.query("SELECT state, vendor_id, detail, reason, updated_at FROM awards WHERE key = ?", (key,))
        if not rows:
            return None
        state, vendor_id, detail, reason, updated_at = rows[0]
        record = {
            "state": state,
            "vendor_id": vendor_id,
            "detail": json.loads(detail) if detail else None,
            "reason": reason,
            "updated_at": updated_at,
        }
        return {k: v for k, v in record.items() if v is not None}

    def add_progress(self, learner: str, rule: str, criterion: str, at: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO progress (learner, rule, criterion, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(learner, rule, criterion) DO UPDATE SET at = max(at, excluded.at)",
                (learner, rule, criterion, at),
            )

    def progress(self, learner: str, rule: str) -> dict[str, str]:
        rows = self.db.query("SELECT criterion, at FROM progress WHERE learner = ? AND rule = ?", (learner, rule))
        return dict(rows)

    def cursor(self, name: str) -> str | None:
        rows = self.db.query("SELECT value FROM cursors WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def set_cursor(self, name: str, value: str | None) -> None:
        with self.db.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM cursors WHERE name = ?", (name,))
                conn.execute("DELETE FROM cursor_times WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO cursors (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )
                conn.execute("INSERT OR REPLACE INTO cursor_times (name, at) VALUES (?, ?)", (name, _now_iso()))

    def cursor_updated_at(self, name: str) -> str | None:
        rows = self.db.query("SELECT at FROM cursor_times WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def record_run(self, run: Run) -> None:
        slots = ("last", "success") if run.succeeded else ("last",)
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO runs (source, mode, slot, record) VALUES (?, ?, ?, ?)",
                [(run.source, run.mode, slot, run.to_json()) for slot in slots],
            )

    def runs(self) -> list[RunHistory]:
        found: dict[tuple[str, str], dict[str, Run]] = {}
        for source, mode, slot, record in self.db.query("SELECT source, mode, slot, record FROM runs"):
            found.setdefault((source, mode), {})[slot] = Run.from_json(record)
        return [RunHistory(slots["last"], slots.get("success")) for _, slots in sorted(found.items())]

    def set_verified(self, name: str, at: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO verified (name, at) VALUES (?, ?)", (name, at))

    def verified(self) -> dict[str, str]:
        return dict(self.db.query("SELECT name, at FROM verified"))

    def remember_expiry(self, key: str, expires_at: str, event: dict) -> None:
        self.update_expiries([Expiry(key, expires_at, event)], [])

    def update_expiries(self, remember: list[Expiry], forget: list[str]) -> None:
        with self.db.transaction() as conn:  # one transaction: a worker batch, not one per credential
            conn.executemany(
                "INSERT INTO expiries (key, expires_at, event) VALUES (?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET expires_at = excluded.expires_at, event = excluded.event",
                [(e.key, e.expires_at, json.dumps(e.event, separators=(",", ":"))) for e in remember],
            )
            conn.executemany("DELETE FROM expiries WHERE key = ?", [(key,) for key in forget])

    def forget_expiry(self, key: str) -> None:
        self.update_expiries([], [key])

    def due_expiries(self, as_of: str, limit: int = 100) -> list[Expiry]:
        rows = self.db.query(
            "SELECT key, expires_at, event FROM expiries WHERE expires_at <= ? ORDER BY expires_at, key LIMIT ?",
            (as_of, limit),
        )
        return [Expiry(key, expires_at, json.loads(event)) for key, expires_at, event in rows]

    def settle_expiry(self, key: str, expires_at: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM expiries WHERE key = ? AND expires_at = ?", (key, expires_at))

    def put_share_link(self, link: ShareLink) -> None:
        self.db.execute(
            "INSERT INTO share_links (id, channel, target, created_at, event) VALUES (?, ?, ?, ?, ?)",
            (link.id, link.channel, link.target, link.created_at, json.dumps(link.event)),
        )

    def share_link(self, link_id: str) -> ShareLink | None:
        rows = self.db.query("SELECT id, channel, target, created_at, event FROM share_links WHERE id = ?", (link_id,))
        if not rows:
            return None
        id_, channel, target, created_at, event = rows[0]
        return ShareLink(id_, channel, target, created_at, json.loads(event))


def _letter_where(where: LetterFilter) -> tuple[str, list]:
    """The WHERE clause of a filter, and its parameters."""
    clauses: list[str] = []
    params: list = []
    if where.sources:
        clauses.append(f"source IN ({','.join('?' * len(where.sources))})")
        params.extend(where.sources)
    if where.reason:
        clauses.append("instr(casefold(reason), ?) > 0")
        params.append(where.reason.casefold())
    for bound, test in ((where.since, "last_at >= ?"), (where.until, "last_at < ?")):
        if bound:
            clauses.append(test)
            params.append(bound)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _discarded_row(record: DiscardedLetter) -> tuple:
    return (
        record.id,
        record.source,
        record.reason,
        record.discard_reason,
        record.discarded_at,
        json.dumps(record.message),
        record.attempts,
        record.first_at,
        record.last_at,
    )


def _letter(row: tuple) -> DeadLetter:
    id_, source, reason, message, attempts, first_at, last_at = row
    return DeadLetter(id_, source, reason, json.loads(message), int(attempts), first_at, last_at)


def _discarded(
    id: str,
    source: str,
    reason: str,
    discard_reason: str,
    discarded_at: str,
    message: str,
    attempts: int,
    first_at: str,
    last_at: str,
) -> DiscardedLetter:
    return DiscardedLetter(
        id, source, reason, discard_reason, discarded_at, json.loads(message), attempts, first_at, last_at
    )
