"""Award clients: one adapter per platform behind one small protocol (the reverse path).

The award worker claims (platform, credential, learner) in its ledger before calling award()
and records the result after, so adapters do not de-duplicate: Badgr and Accredible accept a
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

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Iterator, Protocol

from ..errors import ConnectorError, InputError, PlatformRefused, SettingsError

if TYPE_CHECKING:
    from ..settings import Settings
    from ..sources.accredible_api import AccredibleClient
    from ..sources.badgr_api import BadgrClient
    from ..sources.certifier_api import CertifierClient
    from ..sources.credly_api import CredlyClient

CREDLY_ISSUED_AT = "%Y-%m-%d %H:%M:%S +0000"  # Credly's documented request format, sent in UTC
CREDLY_LOOKUP_LIMIT = 50  # one page: finding the existing badge's id is a nicety, not a search
DRAFTS_REMEMBERED = 1000  # Certifier drafts whose issue failed, kept for a retry in this process

# Settings each platform needs to award (environment names, field = name.lower()).
REQUIRED_SETTINGS = {
    "credly": ("CREDLY_ORG_ID", "CREDLY_TOKEN"),
    "certifier": ("CERTIFIER_TOKEN",),
    "badgr": ("BADGR_USERNAME", "BADGR_PASSWORD"),
    "accredible": ("ACCREDIBLE_API_KEY",),
}


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
    response: dict  # the platform's object (translated to an issued statement where no webhooks)


class AwardRejected(PlatformRefused):
    """A definite refusal other than "already awarded": a dead letter with the platform's message."""


class AwardClient(Protocol):
    platform: str  # credly | certifier | badgr | accredible

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult: ...


# -- Credly ------------------------------------------------------------------------------------


class CredlyAwards:
    platform = "credly"

    def __init__(self, client: "CredlyClient") -> None:
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        from ..sources.credly_api import CredlyAlreadyAwarded

        try:
            with _rejections():
                answer = self.client.issue_badge(credly_payload(credential_id, recipient, issued_at, evidence_url))
        except CredlyAlreadyAwarded as already:
            badge = self._existing_badge(credential_id, recipient)
            return AwardResult(vendor_id=str((badge or {}).get("id") or ""), already_awarded=True,
                               response=badge or {"message": str(already)})
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
    payload = {
        "recipient_email": recipient.email,
        "issued_to_first_name": recipient.first_name,
        "issued_to_last_name": recipient.last_name,
        "badge_template_id": template_id,
        "issued_at": _utc(issued_at).strftime(CREDLY_ISSUED_AT),
    }
    if recipient.earner_id:  # Credly's duplicate check then survives an email change
        payload["issuer_earner_id"] = recipient.earner_id
    if evidence_url:
        payload["evidence"] = [{"type": "UrlEvidence", "name": "Evidence", "value": evidence_url}]
    return payload


def _same_credly_award(badge: dict, template_id: str, recipient: Recipient) -> bool:
    template = badge.get("badge_template") if isinstance(badge.get("badge_template"), dict) else {}
    if str(template.get("id") or badge.get("badge_template_id") or "") != template_id:
        return False
    same_earner = bool(recipient.earner_id) and badge.get("issuer_earner_id") == recipient.earner_id
    return same_earner or str(badge.get("recipient_email") or "").lower() == recipient.email.lower()


# -- Canvas Credentials / Badgr ----------------------------------------------------------------


class BadgrAwards:
    platform = "badgr"

    def __init__(self, client: "BadgrClient") -> None:
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        # No duplicate check: Badgr would accept a second assertion; the ledger prevents it.
        with _rejections():
            assertion = self.client.issue_assertion(credential_id, badgr_payload(recipient, issued_at, evidence_url))
        if not assertion.get("entityId"):
            raise ConnectorError("Canvas Credentials answered the award without an assertion entityId: check the platform")
        return AwardResult(vendor_id=str(assertion["entityId"]), already_awarded=False,
                           response=_with_plaintext_identity(assertion, recipient.email))


def badgr_payload(recipient: Recipient, issued_at: datetime, evidence_url: str | None) -> dict:
    payload: dict = {
        # hashed: the public assertion shows a salted hash, not the learner's address.
        "recipient": {"identity": recipient.email, "type": "email", "hashed": True},
        "issuedOn": _utc(issued_at).isoformat(),  # always with its offset, never naive (VENDORS.md pitfall 8)
        "notify": True,
    }
    if evidence_url:
        payload["evidence"] = [{"url": evidence_url}]
    return payload


def _with_plaintext_identity(assertion: dict, email: str) -> dict:
    """The issued statement is built from this answer: a hashed identity alone cannot be mapped
    back to the learner, so keep the address we awarded to when the answer omits it."""
    recipient = assertion.get("recipient") if isinstance(assertion.get("recipient"), dict) else {}
    if recipient.get("plaintextIdentity"):
        return assertion
    return {**assertion, "recipient": {**recipient, "plaintextIdentity": email}}


# -- Accredible --------------------------------------------------------------------------------


class AccredibleAwards:
    platform = "accredible"

    def __init__(self, client: "AccredibleClient") -> None:
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        # No duplicate check: Accredible would create a second credential; the ledger prevents it.
        with _rejections():
            body = accredible_credential(credential_id, recipient, issued_at, evidence_url)
            created = self.client.create_credential(body)
        return AwardResult(vendor_id=str(created["id"]), already_awarded=False, response=created)


def accredible_credential(group_id: str, recipient: Recipient, issued_at: datetime, evidence_url: str | None) -> dict:
    person: dict = {"name": recipient.name, "email": recipient.email}
    if recipient.earner_id:
        # Not recipient.id: in Accredible's answers that is the platform's own numeric recipient
        # id. meta_data.employee_id is where the Accredible adapter reads the learner id back.
        person["meta_data"] = {"employee_id": recipient.earner_id}
    credential: dict = {
        "recipient": person,
        "group_id": int(group_id) if group_id.isdigit() else group_id,  # numeric ids are sent as numbers
        "issued_on": _utc(issued_at).date().isoformat(),
    }
    if evidence_url:
        credential["evidence_items"] = [{"description": "Evidence", "category": "url", "url": evidence_url}]
    return credential


# -- Certifier ---------------------------------------------------------------------------------


class CertifierAwards:
    """Create a draft, then issue it. When the issue fails transiently the draft id is kept (in
    this process), so the retry issues that draft instead of creating another; a retry in another
    process creates a second draft, which is never issued nor sent (harmless, visible in
    Certifier). An issue answered with a refusal because the draft is issued already (a first
    attempt that timed out after Certifier acted) is read back and counts as the award."""

    platform = "certifier"

    def __init__(self, client: "CertifierClient") -> None:
        self.client = client
        self._drafts: dict[tuple[str, str], str] = {}  # (group id, email) -> draft id

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        # Certifier's create has no evidence field: evidence_url is not sent.
        key = (credential_id, recipient.email.lower())
        draft_id = self._drafts.get(key) or self._create(certifier_credential(credential_id, recipient, issued_at))
        self._remember(key, draft_id)
        issued = self._issue(draft_id)
        self._drafts.pop(key, None)
        return AwardResult(vendor_id=str(issued.get("id") or draft_id), already_awarded=False, response=issued)

    def _create(self, body: dict) -> str:
        with _rejections():
            return str(self.client.create_credential(body)["id"])

    def _issue(self, draft_id: str) -> dict:
        try:
            return self.client.issue_credential(draft_id)
        except PlatformRefused as refusal:
            current = self._current(draft_id)
            if current.get("status") == "issued":
                return current
            self._drafts = {k: v for k, v in self._drafts.items() if v != draft_id}
            raise AwardRejected(str(refusal)) from None

    def _current(self, draft_id: str) -> dict:
        try:
            return self.client.fetch_credential(draft_id)
        except ConnectorError:  # not found or unreadable: the refusal stands
            return {}

    def _remember(self, key: tuple[str, str], draft_id: str) -> None:
        self._drafts[key] = draft_id
        while len(self._drafts) > DRAFTS_REMEMBERED:  # bounded: a long outage must not grow memory
            self._drafts.pop(next(iter(self._drafts)))


def certifier_credential(group_id: str, recipient: Recipient, issued_at: datetime) -> dict:
    body: dict = {
        "groupId": group_id,
        "recipient": {"name": recipient.name, "email": recipient.email},
        "issueDate": _utc(issued_at).date().isoformat(),
    }
    if recipient.earner_id:  # the Certifier adapter reads the learner id back from this attribute
        body["customAttributes"] = {"custom.employee_id": recipient.earner_id}
    return body


# -- construction ------------------------------------------------------------------------------


def award_client_for(platform: str, settings: "Settings") -> AwardClient:
    """The award client of a platform, built from settings; SettingsError naming what is missing."""
    if platform not in REQUIRED_SETTINGS:
        raise SettingsError(f"cannot award on {platform!r}: one of {', '.join(sorted(REQUIRED_SETTINGS))}")
    required = REQUIRED_SETTINGS[platform]
    missing = [name for name in required if getattr(settings, name.lower(), None) in (None, "")]
    if missing:
        raise SettingsError(f"awarding on {platform} needs {', '.join(missing)} (not set)")
    return _build(platform, settings)


def _build(platform: str, settings: "Settings") -> AwardClient:
    if platform == "credly":
        from ..sources.credly_api import CredlyClient

        return CredlyAwards(CredlyClient.from_settings(settings))
    if platform == "badgr":
        from ..sources.badgr_api import BadgrClient

        return BadgrAwards(BadgrClient.from_settings(settings))
    if platform == "accredible":
        from ..sources.accredible_api import AccredibleClient

        return AccredibleAwards(AccredibleClient.from_settings(settings))
    from ..sources.certifier_api import CertifierClient

    return CertifierAwards(CertifierClient.from_settings(settings))


# -- shared ------------------------------------------------------------------------------------


@contextmanager
def _rejections() -> Iterator[None]:
    """A platform's definite refusal (PlatformRefused, or a Credly 422 other than "already has
    this badge") becomes AwardRejected, the one refusal the worker dead-letters."""
    try:
        yield
    except AwardRejected:
        raise
    except (PlatformRefused, InputError) as refusal:
        raise AwardRejected(str(refusal)) from None


def _utc(moment: datetime) -> datetime:
    """In UTC; a naive time is taken as UTC (the connector's clocks are UTC), never as local."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
