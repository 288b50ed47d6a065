"""The award contract every platform's awards module implements (the reverse path).

The award worker claims (platform, credential, learner) in its ledger before calling award()
and records the result after, so platforms do not de-duplicate: Badgr and Accredible accept a
second award of the same credential, Credly answers 422 (reported as already_awarded).

What award() raises tells the worker what to do:
- httpretry.TransientFailure: 429/5xx/timeouts outlasted the retries; nothing definite
  happened, the claim is released and the message retried later.
- PlatformAuthError (CredlyAuthError, BadgrAuthError, ...): our credentials were refused; the
  message names the setting to fix.
- AwardRejected: a definite refusal (a 4xx other than auth and "already awarded"); a dead
  letter with the platform's message.
- any other ConnectorError: the outcome is unknown (e.g. a success answer without an id); the
  claim stays so an operator checks the platform before replaying.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..errors import InputError, PlatformRefused

_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Recipient:
    """Who receives the credential, mapped from the learner directory."""

    email: str
    name: str  # full name
    first_name: str
    last_name: str
    earner_id: str | None = None  # the organisation's learner id (employee id)


@dataclass(frozen=True)
class AwardResult:
    vendor_id: str  # the platform's id of the awarded credential ("" when it cannot be known)
    already_awarded: bool  # the platform said the learner already has it: counts as awarded
    response: dict  # the platform's object, kept in the ledger
    # Platforms without webhooks never tell the connector about the award: this document is
    # queued as the issued event and translated like a pulled one (same statement id).
    issued_document: dict | None = None


class AwardRejected(PlatformRefused):
    """A definite refusal other than "already awarded": a dead letter with the platform's message."""


class AwardClient(Protocol):
    platform: str

    def award(
        self,
        credential_id: str,
        recipient: Recipient,
        issued_at: datetime,
        evidence_url: str | None = None,
        credential_name: str | None = None,
    ) -> AwardResult:
        """credential_id: the platform's badge template / badge class / group id; credential_name:
        as the rules file names it, for where the platform's answer omits it."""


@contextmanager
def rejections() -> Iterator[None]:
    """A platform's definite refusal (PlatformRefused, or an InputError such as Credly's 422
    other than "already has this badge") becomes AwardRejected, the refusal the worker dead-letters."""
    try:
        yield
    except AwardRejected:
        raise
    except (PlatformRefused, InputError) as refusal:
        raise AwardRejected(str(refusal)) from None


def plain_id(value: str, what: str) -> str:
    """A platform id of letters, digits, '-' and '_' (as a rules file gives it); ValueError says why not."""
    if not _PLAIN_ID.match(value):
        raise ValueError(f"a {what} has letters, digits, '-' and '_' only: {value!r}")
    return value
