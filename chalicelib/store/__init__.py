"""The connector's state: delivery de-duplication, dead letters, counters and status flags.

A protocol with a SQLite implementation (local and embedded default) and, in AWS, DynamoDB.
It is the union of role protocols (DeliveryLog, DeliveredStatements, DeadLetterStore, CountersAndFlags,
AwardLedger, RunLog, ExpiryStore, ShareLinkStore): a module takes the role it uses, only the wiring all of it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True)
class Expiry:
    key: str  # the credential: platform|credential id
    expires_at: str  # UTC ISO 8601 of fixed width (timeutil.xapi_timestamp): compares as text
    event: dict  # the canonical issued event, to build the expired statement from


@dataclass(frozen=True)
class ShareLink:
    id: str  # the random link id its token carries (share/tokens.py)
    channel: str  # linkedin, facebook, x, email, copy
    target: str  # the credential's public page: where a click is redirected
    created_at: str  # UTC ISO 8601: the shared statement's time
    event: dict  # the canonical shared event (earner, credential): views are built from it


@dataclass(frozen=True)
class DeadLetter:
    id: str  # the queue message id: one dead letter per message, however many problems
    source: str
    reason: str
    message: dict  # the queue message as enqueued: replay sends it through the normal path
    attempts: int
    first_at: str
    last_at: str


@dataclass(frozen=True)
class DeadLetterHead:
    """A dead letter without its message: what listing and selecting read (a message may be 1 MB)."""

    id: str
    source: str
    reason: str
    attempts: int
    first_at: str
    last_at: str


@dataclass(frozen=True)
class LetterFilter:
    """Which dead letters: every field given must match; the empty filter matches them all."""

    sources: tuple[str, ...] = ()
    reason: str = ""  # a part of the reason, in any case
    since: str | None = None  # last_at at or after (UTC ISO 8601 of the stored width: compares as text)
    until: str | None = None  # last_at before
    limit: int | None = None  # the first ones by (first_at, id)

    def reason_matches(self, reason: str) -> bool:
        return self.reason.casefold() in reason.casefold()


@dataclass(frozen=True)
class DiscardedLetter:
    """The audit record of a dead letter an operator discarded: all of it, and why it went."""

    id: str
    source: str
    reason: str  # the dead letter's own
    discard_reason: str
    discarded_at: str
    message: dict
    attempts: int
    first_at: str
    last_at: str

    @classmethod
    def of(cls, letter: DeadLetter, discard_reason: str, discarded_at: str) -> DiscardedLetter:
        return cls(
            letter.id,
            letter.source,
            letter.reason,
            discard_reason,
            discarded_at,
            letter.message,
            letter.attempts,
            letter.first_at,
            letter.last_at,
        )


@dataclass(frozen=True)
class Run:
    """One run of a pull, import, reconcile or expiry sweep, as `status` shows it."""

    source: str  # the platform (or a CSV import's label, or "expiry")
    mode: str  # backfill, sync, scheduled-sync, import-csv, reconcile, expire, scheduled-expire
    started_at: str  # UTC ISO 8601, seconds
    ended_at: str
    outcome: str  # finished, stopped early (the next run resumes), failed
    exit_code: int  # what the command exited with (a scheduled run: what it would have)
    records: int = 0
    statements: int | None = None  # delivered or already stored; None: queued for the workers
    dead_letters: int | None = None  # of this run; None: not delivering here
    error: str | None = None  # one line, no emails or secrets

    @property
    def succeeded(self) -> bool:
        return self.outcome != "failed"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Run:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class RunHistory:
    last: Run
    last_success: Run | None


class DeliveryLog(Protocol):
    """Delivery de-duplication: which deliveries (webhook, pull record, share view) were seen lately."""

    def claim_delivery(self, key: str, ttl_seconds: int) -> bool:
        """True when `key` was not seen within its TTL (and is now claimed)."""

    def delivery_seen(self, key: str) -> bool:
        """True when `key` is claimed and its claim has not expired (a read: claims nothing)."""

    def claim_deliveries(self, keys: list[str], ttl_seconds: int) -> set[str]:
        """claim_delivery for each of `keys` (an array's documents): the keys claimed now."""

    def seen_deliveries(self, keys: list[str]) -> set[str]:
        """delivery_seen for each of `keys`: the keys seen."""

    def release_delivery(self, key: str) -> None:
        """Forget a claim, e.g. when enqueueing after the claim failed."""


class DeliveredStatements(Protocol):
    """The statement ids an LRS acknowledged (stored, or already stored), per LRS endpoint: what
    the worker need not send again (delivery/delivered.py, docs/statements.md)."""

    def delivered_ids(self, endpoint: str, ids: list[str]) -> set[str]:
        """The ids of `ids` recorded for `endpoint` (since it was last forgotten)."""

    def record_delivered(self, endpoint: str, ids: list[str]) -> None:
        """Remember that the LRS at `endpoint` acknowledged these ids."""

    def forget_delivered(self, endpoint: str) -> None:
        """Forget every id recorded for `endpoint` (the LRS lost what it held)."""

    def count_delivered(self, endpoint: str) -> int | None:
        """How many ids are recorded for `endpoint`; None when only reading them all would tell
        (DynamoDB, once the endpoint has a log: a Scan of the table)."""


class DeadLetterStore(Protocol):
    """Dead letters, what operators select and discard of them, and the audit of the discarded ones."""

    def put_dead_letter(self, message_id: str, source: str, reason: str, message: dict) -> DeadLetter:
        """Record (or update, counting attempts) the dead letter of a queue message."""

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]: ...

    def dead_letter(self, message_id: str) -> DeadLetter | None: ...

    def delete_dead_letter(self, message_id: str) -> None: ...

    def count_dead_letters(self) -> int: ...

    def dead_letter_heads(self, where: LetterFilter) -> list[DeadLetterHead]:
        """The letters `where` selects, ordered as dead_letters, filtered by the backend's query."""

    def discard_dead_letter(self, message_id: str, reason: str) -> DiscardedLetter | None:
        """Remove a dead letter, its audit record written first; None when there is no such letter."""

    def discarded_letters(self, limit: int | None = None) -> list[DiscardedLetter]:
        """The audit records of discarded letters, the latest first."""


class CountersAndFlags(Protocol):
    """What /health and status show of the workers: counters, problem flags, when credentials last worked."""

    def increment(self, counters: dict[str, int]) -> None:
        """Add to named counters (delivered, already_stored, skipped, ...)."""

    def counters(self) -> dict[str, int]: ...

    def set_flag(self, name: str, value: str | None) -> None:
        """Operator-visible status (e.g. an LRS or vendor auth failure); None clears it."""

    def flags(self) -> dict[str, str]: ...

    def set_verified(self, name: str, at: str) -> None:
        """When a call with the credentials of `name` (a flag's name: lrs, <platform>_auth) last succeeded."""

    def verified(self) -> dict[str, str]: ...


class AwardLedger(Protocol):
    """The reverse path: the award ledger and rule progress."""

    def claim_award(self, key: str) -> bool:
        """Claim (learner, credential) before calling a platform: True for exactly one caller.

        A key whose earlier attempt was marked failed can be claimed again."""

    def complete_award(self, key: str, vendor_id: str, detail: dict) -> None: ...

    def fail_award(self, key: str, reason: str) -> None: ...

    def release_award(self, key: str) -> None:
        """Forget a claim (after a crash between claim and call was checked on the platform)."""

    def award(self, key: str) -> dict | None:
        """{"state": claimed|awarded|failed, "vendor_id", "detail", "reason", "updated_at"} or None."""

    def add_progress(self, learner: str, rule: str, criterion: str, at: str) -> None:
        """Record that a learner met a rule's criterion at time `at` (ISO); the latest time wins."""

    def progress(self, learner: str, rule: str) -> dict[str, str]: ...


class RunLog(Protocol):
    """Where pulls stopped (cursors) and the runs of pulls, imports, sweeps and directory refreshes."""

    def cursor(self, name: str) -> str | None:
        """Where a pull stopped (a page link, a watermark); None before its first run."""

    def set_cursor(self, name: str, value: str | None) -> None:
        """Record progress only after what came before it is queued; None forgets it."""

    def cursor_updated_at(self, name: str) -> str | None:
        """When the cursor was last set (UTC ISO 8601); None when it is not set."""

    def record_run(self, run: Run) -> None:
        """Keep `run` as the last of its (source, mode), and as the last success if it is one."""

    def runs(self) -> list[RunHistory]:
        """The last run and last successful run of every (source, mode), by source and mode."""


class ExpiryStore(Protocol):
    """Credentials that expire in the future, for the expiry sweep."""

    def remember_expiry(self, key: str, expires_at: str, event: dict) -> None:
        """A credential that expires in the future; a later call for the same key (renewed,
        re-issued) replaces it."""

    def forget_expiry(self, key: str) -> None:
        """The credential will not expire as remembered (revoked, deleted)."""

    def update_expiries(self, remember: list[Expiry], forget: list[str]) -> None:
        """remember_expiry and forget_expiry for a whole batch (the worker's, after delivery)."""

    def due_expiries(self, as_of: str, limit: int = 100) -> list[Expiry]:
        """Remembered expiries at or before `as_of`, earliest first."""

    def settle_expiry(self, key: str, expires_at: str) -> None:
        """Its expired statement is queued: forget it, unless it was renewed meanwhile."""


class ShareLinkStore(Protocol):
    """Tracked share links."""

    def put_share_link(self, link: ShareLink) -> None:
        """Record a new link (ids are random: never one that exists)."""

    def share_link(self, link_id: str) -> ShareLink | None: ...


class Store(
    DeliveryLog,
    DeliveredStatements,
    DeadLetterStore,
    CountersAndFlags,
    AwardLedger,
    RunLog,
    ExpiryStore,
    ShareLinkStore,
    Protocol,
):
    """All of the state, as the backends implement it and the runtime wiring hands it out. Callers take
    the role they use (or an intersection of roles defined next to them); a new method goes into a role."""


def open_store(settings: Settings) -> Store:
    if settings.state_backend == "dynamodb":
        from .dynamodb import DynamoDbStore

        assert settings.table_name  # Settings refuses STATE_BACKEND=dynamodb without TABLE_NAME
        return DynamoDbStore(settings.table_name)
    from .sqlite import SqliteStore

    return SqliteStore(settings.state_path)
