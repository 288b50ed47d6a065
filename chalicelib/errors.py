"""Errors that carry a reason a user can act on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


# Exit codes of every command (docs/operating.md#exit-codes); 0: done, everything delivered.
EXIT_DEAD_LETTERS = 1  # finished, but some of this run's work ended as dead letters (or bad rows)
EXIT_USAGE = 2  # usage or configuration error: nothing was attempted, or it cannot be
EXIT_OUTSIDE_FAILURE = 3  # the LRS or a platform refused or stayed unreachable: stopped, nothing lost

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def shown_id(value: object, limit: int = 80) -> str:
    """An id a caller sent, as it may appear in a message, a log line or a dead-letter reason:
    printable ASCII only (no line breaks, no lone surrogates) and bounded."""
    text = _UNPRINTABLE.sub("?", str(value))
    return text if len(text) <= limit else text[:limit] + "..."


class ConnectorError(Exception):
    """Base class: the message is one line that says what is wrong.

    A command stopped by one exits 2 (usage or configuration), unless it is an OutsideFailure."""


class OutsideFailure(ConnectorError):
    """Something outside the connector stopped the work: the LRS or a platform refused our
    credentials, stayed unreachable past a deadline, or answered in a way that cannot end (endless
    pages, a body that never finishes). A command stopped by one exits 3; what it had queued
    stays queued and its cursor stays where the last queued page left it."""


class InputError(ConnectorError):
    """What a client or platform sent cannot be used; `field` names where (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    @classmethod
    def from_validation(cls, error: ValidationError, prefix: str = "", whole: str = "(document)") -> InputError:
        """The first problem of a pydantic ValidationError, named by its dotted path under prefix
        (`whole` when it is the value itself)."""
        first = error.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        field = ".".join(part for part in (prefix, loc) if part)
        message = "missing" if first["type"] == "missing" else first["msg"].lower()
        return cls(field or whole, message)


class NotForThisConnector(ConnectorError):
    """An authentic delivery addressed to another account (e.g. another Credly organisation): 403."""


class UnidentifiedLearner(ConnectorError):
    """The learner cannot be mapped to an identifier the deployment accepts: a dead letter."""


class DetailsRequired(ConnectorError):
    """The delivery only names a resource; its details must be fetched from the platform."""

    def __init__(self, platform: str, resource_id: str) -> None:
        self.platform = platform
        self.resource_id = resource_id
        super().__init__(
            f"{platform} delivery names {shown_id(resource_id)} without its details: "
            "they must be fetched from the platform's API"
        )


class InvalidStatement(ConnectorError):
    """A statement the connector built breaks the xAPI contract: a bug, never sent."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class SettingsError(ConnectorError):
    """A setting is missing or invalid."""


class PlatformRefused(ConnectorError):
    """A credentialing platform definitely refused a request (a 4xx other than auth): its message."""


class PlatformAuthError(OutsideFailure):
    """A platform refused our credentials (wrong, revoked or expired token): an operator must act.

    Shown in GET /health until a later call to that platform succeeds."""

    platform = ""  # set by each platform's subclass: names the /health flag
