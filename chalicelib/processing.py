"""What both workers (delivery to the LRS, awards on platforms) share: batch results, the
per-message outcome rules and the operator-visible flags.

One message's failure never holds back its batch: each is settled alone, as retried later
(transient), flagged and dead-lettered (our credentials refused) or dead-lettered (anything
else, bugs included).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import metrics
from .deadletters import DeadLetters
from .errors import ConnectorError, PlatformAuthError
from .httpretry import TransientFailure
from .observability import log
from .queue import QueueMessage
from .runs import note_verified
from .store import CountersAndFlags

LRS_FLAG = "lrs"


@dataclass
class BatchResult:
    failed: dict[str, str] = field(default_factory=dict)  # message id -> why it is retried
    counts: Counter = field(default_factory=Counter)

    def merge(self, other: BatchResult) -> BatchResult:
        self.failed.update(other.failed)
        self.counts.update(other.counts)
        return self


def auth_flag(platform: str) -> str:
    return f"{platform}_auth"


def clear_flag(store: CountersAndFlags, name: str) -> None:
    """A call with these credentials succeeded. Cheap when clear (the common case): read before
    writing; when it worked is noted at most once a minute (`status`)."""
    if name in store.flags():
        store.set_flag(name, None)
    note_verified(store, name)


@contextmanager
def settled_alone(
    message: QueueMessage, result: BatchResult, dead_letters: DeadLetters, store: CountersAndFlags
) -> Iterator[None]:
    """Settle one message's failure without touching the rest of its batch."""
    try:
        yield
    except TransientFailure as error:
        result.failed[message.id] = str(error)
    except PlatformAuthError as error:
        store.set_flag(auth_flag(error.platform or message.source), str(error))
        metrics.count("auth_failures", source=error.platform or message.source)
        dead_letters.write(message, str(error), result.counts)
    except ConnectorError as error:
        dead_letters.write(message, str(error), result.counts)
    except Exception as error:  # a bug on one message must not hold back its batch
        log(
            "worker_error",
            level=logging.ERROR,
            message_id=message.id,
            source=message.source,
            error=type(error).__name__,
            correlation_id=message.correlation_id,
        )
        dead_letters.write(message, f"internal error: {type(error).__name__}: {error}", result.counts)
