"""The connector's state: delivery de-duplication, dead letters, counters and status flags.

A protocol with a SQLite implementation (local and embedded default) and, in AWS, DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
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


class Store(Protocol):
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

    def put_dead_letter(self, message_id: str, source: str, reason: str, message: dict) -> DeadLetter:
        """Record (or update, counting attempts) the dead letter of a queue message."""

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]: ...

    def dead_letter(self, message_id: str) -> DeadLetter | None: ...

    def delete_dead_letter(self, message_id: str) -> None: ...

    def count_dead_letters(self) -> int: ...

    def increment(self, counters: dict[str, int]) -> None:
        """Add to named counters (delivered, already_stored, skipped, ...)."""

    def counters(self) -> dict[str, int]: ...

    def set_flag(self, name: str, value: str | None) -> None:
        """Operator-visible status (e.g. an LRS or vendor auth failure); None clears it."""

    def flags(self) -> dict[str, str]: ...

    # -- reverse path: award ledger and rule progress ------------------------------------------

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

    # -- pulls and the expiry sweep --------------------------------------------------------------

    def cursor(self, name: str) -> str | None:
        """Where a pull stopped (a page link, a watermark); None before its first run."""

    def set_cursor(self, name: str, value: str | None) -> None:
        """Record progress only after what came before it is queued; None forgets it."""

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

    # -- tracked share links ----------------------------------------------------------------------

    def put_share_link(self, link: ShareLink) -> None:
        """Record a new link (ids are random: never one that exists)."""

    def share_link(self, link_id: str) -> ShareLink | None: ...


def open_store(settings: "Settings") -> Store:
    if settings.state_backend == "dynamodb":
        from .dynamodb import DynamoDbStore

        return DynamoDbStore(settings.table_name)
    from .sqlite import SqliteStore

    return SqliteStore(settings.state_path)
