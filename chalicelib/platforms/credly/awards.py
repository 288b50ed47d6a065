"""Awarding on Credly: POST a badge for a template; a 422 "already has this badge" counts as awarded."""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import islice

from ...errors import ConnectorError
from ...jsonshape import object_in
from ...timeutil import utc
from ..awarding import AwardResult, Recipient, rejections
from .api import CredlyAlreadyAwarded, CredlyClient

CREDLY_ISSUED_AT = "%Y-%m-%d %H:%M:%S +0000"  # Credly's documented request format, sent in UTC
CREDLY_LOOKUP_LIMIT = 50  # one page: finding the existing badge's id is a nicety, not a search


def credential_id(value: str) -> str:
    """A rules file's Credly credential: a badge template id (a UUID), lower-case as Credly writes it."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError(f"a Credly badge template id is a UUID: {value!r}") from None
    return value.lower()


class CredlyAwards:
    platform = "credly"

    def __init__(self, client: CredlyClient) -> None:
        self.client = client

    def award(
        self,
        credential_id: str,
        recipient: Recipient,
        issued_at: datetime,
        evidence_url: str | None = None,
        credential_name: str | None = None,
    ) -> AwardResult:
        try:
            with rejections():
                answer = self.client.issue_badge(credly_payload(credential_id, recipient, issued_at, evidence_url))
        except CredlyAlreadyAwarded as already:
            badge = self._existing_badge(credential_id, recipient)
            return AwardResult(
                vendor_id=str((badge or {}).get("id") or ""),
                already_awarded=True,
                response=badge or {"message": str(already)},
            )
        badge = answer.get("data")
        if not isinstance(badge, dict) or not badge.get("id"):
            raise ConnectorError("Credly answered the award without a badge id: check the platform")
        return AwardResult(vendor_id=str(badge["id"]), already_awarded=False, response=badge)

    def _existing_badge(self, template_id: str, recipient: Recipient) -> dict | None:
        """The badge Credly says the learner already has, found by template and earner id; None
        when it cannot be found cheaply (the award stands either way)."""
        earner = recipient.earner_id
        if not earner or any(c in f"{template_id}{earner}" for c in "|,:"):  # would break the filter syntax
            return None
        query = f"badge_template_id::{template_id}|issuer_earner_id::{earner}"
        try:
            # Checked here too: a server that ignores a filter key must not name someone else's badge.
            badges = islice(self.client.iter_badges(filter=query), CREDLY_LOOKUP_LIMIT)
            return next((b for b in badges if _same_credly_award(b, template_id, recipient)), None)
        except ConnectorError:  # includes TransientFailure and auth errors: the award is a fact already
            return None


def credly_payload(template_id: str, recipient: Recipient, issued_at: datetime, evidence_url: str | None) -> dict:
    payload: dict[str, object] = {
        "recipient_email": recipient.email,
        "issued_to_first_name": recipient.first_name,
        "issued_to_last_name": recipient.last_name,
        "badge_template_id": template_id,
        "issued_at": utc(issued_at).strftime(CREDLY_ISSUED_AT),
    }
    if recipient.earner_id:  # Credly's duplicate check then survives an email change
        payload["issuer_earner_id"] = recipient.earner_id
    if evidence_url:
        payload["evidence"] = [{"type": "UrlEvidence", "name": "Evidence", "value": evidence_url}]
    return payload


def _same_credly_award(badge: dict, template_id: str, recipient: Recipient) -> bool:
    template = object_in(badge, "badge_template")
    if str(template.get("id") or badge.get("badge_template_id") or "") != template_id:
        return False
    same_earner = bool(recipient.earner_id) and badge.get("issuer_earner_id") == recipient.earner_id
    return same_earner or str(badge.get("recipient_email") or "").lower() == recipient.email.lower()


AWARDS = CredlyAwards  # what the registry loads
