"""The durable queue between the webhook routes and the worker: local outbox or SQS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConnectorError, SettingsError

if TYPE_CHECKING:
    from ..events import CredentialEvent
    from ..settings import Settings


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class QueueMessage(BaseModel):
    """What a route accepted: enough to process it later, and to replay it from a dead letter."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=_new_id)
    # Where it came from: a named connection's name (chalicelib/connections.py), a platform's
    # registry name (its default connection: so a message queued before connections existed, or
    # by a single-account deployment, is the default connection's), or lap / lap-report (evidence
    # for the award rules). The worker fetches and translates with that connection's settings;
    # dead letters, metrics and run records name it.
    source: str
    # notification: only names an event whose details the worker fetches (thin webhooks);
    # document: the payload itself is what gets translated;
    # event: canonical CredentialEvents, one or a list: read from a document at intake (so the worker
    # does not read it again), or made by the connector itself (the expiry sweep's expired events).
    kind: Literal["notification", "document", "event"] = "document"
    body: Any
    event_id: str | None = None
    received_at: str = Field(default_factory=_now)
    # Follows the delivery from its route to the LRS POST in the logs; messages queued before
    # it existed, and those a pull or the sweep queues, have none.
    correlation_id: str | None = None

    @classmethod
    def for_event(cls, event: CredentialEvent) -> QueueMessage:
        """A canonical event the connector made itself, for the workers to translate and deliver."""
        return cls(source=event.connection_name, kind="event", body=event.model_dump(mode="json"))


# What one message may weigh on either backend: SQS's limit, so that a local run refuses what AWS would.
MAX_MESSAGE_BYTES = 1_048_576


class MessageTooLarge(ConnectorError):
    """The message exceeds what the queue accepts: resending it cannot help, so it is not a 503."""

    def __init__(self, text: str, index: int = 0) -> None:
        super().__init__(text)
        self.index = index  # which of the messages given to send_many


def ensure_fits(message: QueueMessage, size: int, index: int = 0) -> None:
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(
            f"the {message.source} message is {size:,} bytes; the queue accepts at most {MAX_MESSAGE_BYTES:,}", index
        )


class Queue(Protocol):
    def send(self, message: QueueMessage) -> None: ...

    def send_many(self, messages: Sequence[QueueMessage]) -> None:
        """Every message, sizes checked first: MessageTooLarge (its index set) before any is sent.
        The local outbox writes them in one transaction; SQS in batches of up to ten, so a failure
        part-way may leave some sent (harmless: statement ids are deterministic)."""

    def depth(self) -> int | None:
        """Messages waiting, where the backend can tell cheaply."""


def open_queue(settings: Settings) -> Queue:
    if settings.queue_backend == "sqs":
        from .sqs import SqsQueue

        if not settings.queue_url:  # Settings validation refuses this already; SqsQueue needs a str
            raise SettingsError("QUEUE_BACKEND=sqs needs QUEUE_URL")
        return SqsQueue(settings.queue_url)
    from .local import LocalOutbox

    return LocalOutbox(settings.state_path)
