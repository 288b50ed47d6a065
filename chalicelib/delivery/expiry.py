"""The expiry sweep: no platform sends a webhook when a credential expires, so the connector
remembers future expiries as it delivers issued credentials and, once one has passed, queues
the credential's `expired` event. Queued before it is settled: a crash in between queues it
again on the next sweep, which gives the same statement (its id is deterministic), never a
second one; a credential renewed or re-issued meanwhile carries its new expiry instead."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from ..events import CredentialEvent, Kind
from ..queue import Queue, QueueMessage
from ..store import Expiry, ExpiryStore
from ..timeutil import parse_time, xapi_timestamp

BATCH = 100


@dataclass
class SweepReport:
    expired: int = 0
    finished: bool = True  # False: stopped at the deadline, the rest next time
    keys: list[str] = field(default_factory=list)


def expiry_key(event: CredentialEvent) -> str:
    return f"{event.connection_name}|{event.credential.id}"  # a named connection's: its own keys


def remember_expiries(store: ExpiryStore, events: list[CredentialEvent], now: datetime) -> None:
    """After delivery: an issued credential expiring later is remembered (its latest expiry wins:
    a renewal moves it); a revoked one, or one whose expiry passed (its expired statement went with
    it), is forgotten."""
    remember: list[Expiry] = []
    forget: list[str] = []
    for event in events:
        expires = event.credential.expires_at
        if event.kind is Kind.REVOKED or (event.kind is Kind.ISSUED and expires is not None and expires <= now):
            forget.append(expiry_key(event))
        elif event.kind is Kind.ISSUED and expires is not None:
            # Defaults left out: a fifth less to encode and write per credential, read back the same.
            remember.append(
                Expiry(expiry_key(event), xapi_timestamp(expires), event.model_dump(mode="json", exclude_defaults=True))
            )
    if remember or forget:
        store.update_expiries(remember, forget)


def expired_event(expiry: Expiry) -> CredentialEvent:
    event = CredentialEvent.model_validate(expiry.event)
    return event.model_copy(
        update={
            "kind": Kind.EXPIRED,
            "occurred_at": parse_time(expiry.expires_at, "expires_at"),
            "source_event_id": None,
            "interaction": None,
        }
    )


def sweep(store: ExpiryStore, queue: Queue, as_of: datetime, deadline: float | None = None) -> SweepReport:
    """Queue the expired event of every remembered credential whose expiry is at or before `as_of`."""
    report = SweepReport()
    while due := store.due_expiries(xapi_timestamp(as_of), BATCH):
        # The whole batch queued first (SendMessageBatch: ten a call), then settled one by one:
        # settling is a conditional delete (a renewal meanwhile keeps its new expiry).
        queue.send_many([QueueMessage.for_event(expired_event(expiry)) for expiry in due])
        for expiry in due:
            store.settle_expiry(expiry.key, expiry.expires_at)
            report.expired += 1
            report.keys.append(expiry.key)
        if deadline is not None and time.monotonic() >= deadline:
            report.finished = not store.due_expiries(xapi_timestamp(as_of), 1)
            break
    return report
