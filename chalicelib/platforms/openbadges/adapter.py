"""Open Badges 2.0 assertions and 3.0 OpenBadgeCredentials, as any compliant issuer sends them."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...events import Credential, CredentialEvent, Issuer, Kind, Learner
from ...timeutil import optional_time
from ..common import (
    Adapter,
    ParseResult,
    absolute_iri,
    email_address,
    first_text,
    identifier,
    missing,
    require_object,
    tag_and_alignment_names,
)

PLATFORM = "openbadges"  # its name in the registry, in statement ids and queue messages

OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential", "VerifiableCredential"}


class OpenBadgesAdapter(Adapter):
    def parse(self, document: object) -> ParseResult:
        doc = require_object(document, "")
        types = _types(doc.get("type"))
        if types & OB3_TYPES:
            return self._ob3(doc)
        if "Assertion" in types:
            return self._ob2(doc)
        if not types and doc.get("revoked") is True and isinstance(doc.get("id"), str):
            return [_minimal_revocation(absolute_iri(doc["id"], "id"))]
        raise InputError("type", "not an Open Badges 2.0 Assertion or 3.0 OpenBadgeCredential")

    # -- Open Badges 2.0 ---------------------------------------------------------------------

    def _ob2(self, doc: dict) -> ParseResult:
        assertion_id = absolute_iri(_required_text(doc, "id"), "id")  # the assertion's IRI in the statements
        if doc.get("revoked") is True and "badge" not in doc:
            return [_minimal_revocation(assertion_id)]
        badge = doc.get("badge")
        if isinstance(badge, str):
            raise InputError("badge", "is an IRI; embed the BadgeClass so it can be translated")
        badge = require_object(badge, "badge")
        credential = Credential(
            id=assertion_id,
            assertion_url=assertion_id,
            template_iri=absolute_iri(_required_text(badge, "id", "badge"), "badge.id"),
            name=_required_text(badge, "name", "badge"),
            description=first_text(badge.get("description")),
            image=_iri_of(badge.get("image"), "badge.image"),
            criteria=_iri_of(badge.get("criteria"), "badge.criteria"),
            issuer=_issuer(badge.get("issuer"), "badge.issuer"),
            skills=tag_and_alignment_names(badge.get("tags"), badge.get("alignment")),
            issued_at=optional_time(doc.get("issuedOn"), "issuedOn"),
            expires_at=optional_time(doc.get("expires"), "expires"),
        )
        if credential.issued_at is None:
            raise InputError("issuedOn", "missing")
        learner = _ob2_learner(doc.get("recipient"))
        return _issued_and_revoked(credential, learner, doc.get("revoked") is True, doc.get("revocationReason"))

    # -- Open Badges 3.0 ---------------------------------------------------------------------

    def _ob3(self, doc: dict) -> ParseResult:
        credential_id = absolute_iri(_required_text(doc, "id"), "id")
        subject = require_object(doc.get("credentialSubject"), "credentialSubject")
        achievement = require_object(subject.get("achievement"), "credentialSubject.achievement")
        issued = doc.get("validFrom") or doc.get("issuanceDate") or doc.get("awardedDate")
        where = "credentialSubject.achievement"
        credential = Credential(
            id=credential_id,
            assertion_url=credential_id,
            template_iri=absolute_iri(_required_text(achievement, "id", where), f"{where}.id"),
            name=first_text(achievement.get("name"), doc.get("name")) or missing(f"{where}.name"),
            description=first_text(achievement.get("description"), doc.get("description")),
            image=_iri_of(achievement.get("image"), f"{where}.image"),
            criteria=_iri_of(achievement.get("criteria"), f"{where}.criteria"),
            issuer=_issuer(doc.get("issuer"), "issuer"),
            skills=tag_and_alignment_names(achievement.get("tag"), achievement.get("alignment")),
            issued_at=optional_time(issued, "validFrom") or missing("validFrom"),
            expires_at=optional_time(doc.get("validUntil") or doc.get("expirationDate"), "validUntil"),
        )
        return _issued_and_revoked(credential, _ob3_learner(subject), False, None)


def _issued_and_revoked(credential: Credential, learner: Learner, revoked: bool, reason: Any) -> ParseResult:
    issued = CredentialEvent(
        platform=PLATFORM,
        kind=Kind.ISSUED,
        learner=learner,
        credential=credential,
        occurred_at=credential.issued_at,
    )
    if not revoked:
        return [issued]
    # OB 2.0 gives no revocation time: the statement goes without a timestamp.
    revocation = issued.model_copy(update={"kind": Kind.REVOKED, "occurred_at": None, "reason": first_text(reason)})
    return [issued, revocation]


def _minimal_revocation(assertion_id: str) -> CredentialEvent:
    return CredentialEvent(
        platform=PLATFORM,
        kind=Kind.REVOKED,
        learner=Learner(),
        credential=Credential(id=assertion_id, template_iri=assertion_id, name=assertion_id),
        minimal=True,
    )


def _ob2_learner(raw: Any) -> Learner:
    recipient = require_object(raw, "recipient")
    identity = _required_text(recipient, "identity", "recipient")
    kind = recipient.get("type", "email")
    if kind != "email":
        shown = repr(kind) if isinstance(kind, str) and len(kind) <= 40 else "another type"
        raise InputError("recipient.type", f"only email recipients can be mapped, got {shown}")
    if recipient.get("hashed"):
        return _hashed(identity, recipient.get("salt"), "recipient.identity")
    return Learner(email=email_address(identity, "recipient.identity"))


def _ob3_learner(subject: dict) -> Learner:
    name = first_text(subject.get("name"))
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id.startswith("mailto:"):
        email = email_address(subject_id.removeprefix("mailto:"), "credentialSubject.id")
        if email:
            return Learner(name=name, email=email)
    identifiers = subject.get("identifier") or []
    if not isinstance(identifiers, list):
        identifiers = [identifiers]
    for index, item in enumerate(identifiers):
        where = f"credentialSubject.identifier[{index}]"
        item = require_object(item, where)
        if item.get("identityType") != "emailAddress":
            continue
        value = _required_text(item, "identityHash", where)
        if item.get("hashed"):
            return _hashed(value, item.get("salt"), f"{where}.identityHash").model_copy(update={"name": name})
        return Learner(name=name, email=email_address(value, f"{where}.identityHash"))
    raise InputError("credentialSubject.identifier", "no emailAddress identifier to map the learner by")


def _hashed(identity: str, salt: Any, field: str) -> Learner:
    algorithm, _, digest = identifier(identity, field).partition("$")
    if algorithm.lower() != "sha256" or not digest:
        raise InputError(field, "hashed identities must be sha256$<hex>")
    return Learner(email_sha256=digest.lower(), email_salt=salt if isinstance(salt, str) else None)


def _issuer(raw: Any, field: str) -> Issuer | None:
    if isinstance(raw, str):
        return Issuer(id=identifier(raw, field))
    if not isinstance(raw, dict):
        return None
    return Issuer(
        id=_identifier_text(raw.get("id"), f"{field}.id"),
        name=first_text(raw.get("name")),
        url=_identifier_text(raw.get("url"), f"{field}.url"),
    )


def _identifier_text(value: Any, field: str) -> str | None:
    text = first_text(value)
    return identifier(text, field) if text else None


def _iri_of(raw: Any, field: str) -> str | None:
    """Image, criteria: either an IRI or an object with an `id`."""
    if isinstance(raw, dict):
        raw, field = raw.get("id"), f"{field}.id"
    return identifier(raw, field) if isinstance(raw, str) and ":" in raw else None


def _types(raw: Any) -> set[str]:
    if isinstance(raw, str):
        return {raw}
    return {t for t in raw if isinstance(t, str)} if isinstance(raw, list) else set()


def _required_text(obj: dict, key: str, prefix: str = "") -> str:
    value = first_text(obj.get(key))
    return value if value else missing(f"{prefix}.{key}" if prefix else key)


ADAPTER = OpenBadgesAdapter  # what the registry loads
