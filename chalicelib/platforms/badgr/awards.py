"""Awarding on Canvas Credentials / Badgr: POST an assertion to a badge class.

Badgr sends no webhooks, so the answer is also the issued event: it is returned as the award's
issued_document, with the badge class the assertion omits filled in from the rule.
"""

from __future__ import annotations

from datetime import datetime

from ...errors import ConnectorError
from ...timeutil import utc
from ..awarding import AwardResult, Recipient, plain_id, rejections
from .api import BadgrClient


def credential_id(value: str) -> str:
    """A rules file's Canvas Credentials credential: a badge class entity id."""
    return plain_id(value, "Badgr badge class entity id")


class BadgrAwards:
    platform = "badgr"

    def __init__(self, client: BadgrClient) -> None:
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None, credential_name: str | None = None) -> AwardResult:
        # No duplicate check: Badgr would accept a second assertion; the ledger prevents it.
        with rejections():
            assertion = self.client.issue_assertion(credential_id, badgr_payload(recipient, issued_at, evidence_url))
        if not assertion.get("entityId"):
            raise ConnectorError("Canvas Credentials answered the award without an assertion entityId: check the platform")
        response = _with_plaintext_identity(assertion, recipient.email)
        return AwardResult(vendor_id=str(assertion["entityId"]), already_awarded=False, response=response,
                           issued_document=_with_badgeclass(response, credential_id, credential_name))


def badgr_payload(recipient: Recipient, issued_at: datetime, evidence_url: str | None) -> dict:
    payload: dict = {
        # hashed: the public assertion shows a salted hash, not the learner's address.
        "recipient": {"identity": recipient.email, "type": "email", "hashed": True},
        "issuedOn": utc(issued_at).isoformat(),  # always with its offset: Badgr reads a naive time as its server's
        "notify": True,
    }
    if evidence_url:
        payload["evidence"] = [{"url": evidence_url}]
    return payload


def _with_badgeclass(assertion: dict, badgeclass_id: str, name: str | None) -> dict:
    """The adapter needs the badge class's name, which an assertion answer does not expand."""
    if isinstance(assertion.get("badgeclass"), dict):
        return assertion
    return {**assertion, "badgeclass": {"entityId": badgeclass_id, "name": name or badgeclass_id}}


def _with_plaintext_identity(assertion: dict, email: str) -> dict:
    """The issued statement is built from this answer: a hashed identity alone cannot be mapped
    back to the learner, so keep the address we awarded to when the answer omits it."""
    recipient = assertion.get("recipient") if isinstance(assertion.get("recipient"), dict) else {}
    if recipient.get("plaintextIdentity"):
        return assertion
    return {**assertion, "recipient": {**recipient, "plaintextIdentity": email}}


AWARDS = BadgrAwards  # what the registry loads
