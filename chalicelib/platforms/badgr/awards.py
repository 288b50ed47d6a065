"""Awarding on Canvas Credentials / Badgr: POST an assertion to a badge class.

Badgr sends no webhooks, so the answer is also the issued event: it is returned as the award's
issued_document, with the badge class the assertion omits filled in from the rule.

An answer lost after the assertion was saved (500 or 502/504, a read timeout; e.g. a server whose
notification e-mail failed after the save) is not repeated (Badgr would accept a duplicate): the
badge class's assertions to that recipient are read back, and the one issued at the very time
the lost request sent is the award. Only when none is found (or the read fails) does the award
stay OutcomeUnknown, for an operator to check.

The platform refuses an issuedOn after its own now, even by a second. The issuedOn sent is the
moment the award was judged, in whole seconds (what every server keeps, so a read-back matches
it), never after the platform's now as its Date headers show it (BadgrClient.platform_now: its
clock may be behind ours). A clock behind by less than a Date header can show is met by one more
try, DATE_RESOLUTION earlier, when the platform refuses the issuedOn (nothing was saved).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ...errors import ConnectorError, shown_id
from ...httpretry import OutcomeUnknown
from ...jsonshape import object_in
from ...observability import log
from ...timeutil import time_or_none, utc
from ..awarding import AwardResult, Recipient, plain_id, rejections
from .api import DATE_RESOLUTION, BadgrClient, BadgrIssuedOnRefused


def credential_id(value: str) -> str:
    """A rules file's Canvas Credentials credential: a badge class entity id."""
    return plain_id(value, "Badgr badge class entity id")


class BadgrAwards:
    platform = "badgr"

    def __init__(self, client: BadgrClient) -> None:
        self.client = client

    def award(
        self,
        credential_id: str,
        recipient: Recipient,
        issued_at: datetime,
        evidence_url: str | None = None,
        credential_name: str | None = None,
    ) -> AwardResult:
        # No duplicate check: Badgr would accept a second assertion; the ledger prevents it.
        sent = issued_on(issued_at, self.client.platform_now())
        with rejections():
            try:
                assertion = self._issue(credential_id, recipient, sent, evidence_url)
            except BadgrIssuedOnRefused:  # its clock behind ours by less than its Date shows
                assertion = self._issue(
                    credential_id, recipient, sent - timedelta(seconds=DATE_RESOLUTION), evidence_url
                )
        if not assertion.get("entityId"):
            raise ConnectorError(
                "Canvas Credentials answered the award without an assertion entityId: check the platform"
            )
        response = _with_plaintext_identity(assertion, recipient.email)
        return AwardResult(
            vendor_id=str(assertion["entityId"]),
            already_awarded=False,
            response=response,
            issued_document=_with_badgeclass(response, credential_id, credential_name),
        )

    def _issue(self, badgeclass_id: str, recipient: Recipient, sent: datetime, evidence_url: str | None) -> dict:
        """The assertion made with issuedOn `sent`, read back when the answer was lost."""
        payload = badgr_payload(recipient, sent, evidence_url, self.client.notify)
        try:
            return self.client.issue_assertion(badgeclass_id, payload)
        except OutcomeUnknown:
            found = self._made_anyway(badgeclass_id, recipient.email, sent)
            if found is None:
                raise
            return found

    def _made_anyway(self, badgeclass_id: str, email: str, issued_at: datetime) -> dict | None:
        """The assertion a request whose answer was lost made, read back; None when not found."""
        try:
            listed = self.client.recipient_assertions(badgeclass_id, email)
        except ConnectorError as error:  # unreachable, refused...: the outcome stays unknown
            log("badgr_award_unconfirmed", badgeclass=shown_id(badgeclass_id), problem=type(error).__name__)
            return None
        found = made_at(listed, issued_at)
        log(
            "badgr_award_read_back",
            badgeclass=shown_id(badgeclass_id),
            found=found is not None,
            vendor_id=shown_id(found.get("entityId")) if found else None,
        )
        return found


def issued_on(judged: datetime, platform_now: datetime) -> datetime:
    """The issuedOn to send: when the award was judged, never after the platform's now, in whole seconds."""
    return min(utc(judged), utc(platform_now)).replace(microsecond=0)


def made_at(assertions: list[dict], issued_at: datetime) -> dict | None:
    """The assertion issued at `issued_at` (to the second: a server may keep no fraction), the
    most recently created one if several: an award's issuedOn is when it was judged (in the platform's past)."""
    wanted = utc(issued_at).replace(microsecond=0)
    matching = [a for a in assertions if a.get("entityId") and _second(a.get("issuedOn")) == wanted]
    return max(matching, key=lambda a: str(a.get("createdAt") or ""), default=None)


def _second(value: object) -> datetime | None:
    moment = time_or_none(value)
    return moment.replace(microsecond=0) if moment else None


def badgr_payload(
    recipient: Recipient, issued_at: datetime, evidence_url: str | None, notify: bool | None = None
) -> dict:
    payload: dict = {
        # hashed: the public assertion shows a salted hash, not the learner's address.
        "recipient": {"identity": recipient.email, "type": "email", "hashed": True},
        "issuedOn": utc(issued_at).isoformat(),  # always with its offset: Badgr reads a naive time as its server's
    }
    if notify is not None:  # unset: the platform's default (no e-mail unless the server forces one)
        payload["notify"] = notify
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
    recipient = object_in(assertion, "recipient")
    if recipient.get("plaintextIdentity"):
        return assertion
    return {**assertion, "recipient": {**recipient, "plaintextIdentity": email}}


AWARDS = BadgrAwards  # what the registry loads
