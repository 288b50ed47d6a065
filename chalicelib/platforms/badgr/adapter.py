"""Canvas Credentials / Badgr: assertions (single, or the changed feed's envelope) as canonical events.

The badge class name (and its skills: its `tags` and the `targetName` of its `alignments`) is not
part of an assertion: it comes from an expanded `badgeclass` object, which the award path
(awards.py) and the puller (pull.py: the issuer-side lists have no `expand=badgeclass`, so it
fetches each badge class once per run) fill in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import InputError
from ...events import Credential, CredentialEvent, Kind, Learner
from ...timeutil import optional_time

# Badgr's badge class carries Open Badges' tags and alignments (as `alignments`): read them alike.
from ..common import (
    Adapter,
    ParseResult,
    absolute_iri,
    email_address,
    first_text,
    identifier,
    missing,
    optional_iri,
    require_object,
    tag_and_alignment_names,
)

PLATFORM = "badgr"  # its name in the registry, in statement ids and queue messages
# An assertion's `acceptance` as an event of its own; "Unaccepted" is the issued state itself.
ACCEPTANCE_KINDS = {"Accepted": Kind.ACCEPTED, "Rejected": Kind.REJECTED}


class BadgrAdapter(Adapter):
    def parse(self, document: object) -> ParseResult:
        doc = require_object(document, "")
        if isinstance(doc.get("result"), list):
            return [e for i, item in enumerate(doc["result"]) for e in self._assertion(item, f"result[{i}]")]
        return self._assertion(doc, "")

    def _assertion(self, raw: Any, path: str) -> ParseResult:
        def at(field: str) -> str:
            return f"{path}.{field}" if path else field

        assertion = require_object(raw, path)
        entity_id = first_text(assertion.get("entityId")) or missing(at("entityId"))
        badgeclass = assertion.get("badgeclass")
        badgeclass = badgeclass if isinstance(badgeclass, dict) else {}
        name = first_text(badgeclass.get("name")) or missing(at("badgeclass.name"))
        credential = Credential(
            id=entity_id,
            assertion_url=optional_iri(assertion.get("openBadgeId"), at("openBadgeId")),
            template_id=first_text(
                badgeclass.get("entityId"),
                assertion.get("badgeclass") if isinstance(assertion.get("badgeclass"), str) else None,
            ),
            template_iri=absolute_iri(
                first_text(assertion.get("badgeclassOpenBadgeId"), badgeclass.get("openBadgeId"))
                or missing(at("badgeclassOpenBadgeId")),
                at("badgeclassOpenBadgeId"),
            ),
            name=name,
            description=first_text(badgeclass.get("description")),
            image=first_text(badgeclass.get("image")),
            skills=tag_and_alignment_names(badgeclass.get("tags"), badgeclass.get("alignments")),
            issued_at=optional_time(assertion.get("issuedOn"), at("issuedOn")),
            expires_at=optional_time(assertion.get("expires"), at("expires")),
        )
        issued = CredentialEvent(
            platform=PLATFORM,
            kind=Kind.ISSUED,
            learner=_recipient(assertion, at),
            credential=credential,
            occurred_at=credential.issued_at,
        )
        events: ParseResult = [issued]
        if assertion.get("revoked") is True:
            events.append(
                issued.model_copy(
                    update={
                        "kind": Kind.REVOKED,
                        "occurred_at": None,
                        "reason": first_text(assertion.get("revocationReason")),
                    }
                )
            )
        acceptance = ACCEPTANCE_KINDS.get(first_text(assertion.get("acceptance")) or "")
        if acceptance is not None:
            events.append(issued.model_copy(update={"kind": acceptance, "occurred_at": None}))
        return events


def _recipient(assertion: dict, at: Callable[[str], str]) -> Learner:
    """The learner of an assertion: its recipient's identifier in plain text (Badgr's
    `plaintextIdentity`, or an unhashed `identity`) is their id on Badgr, what the directory's
    badgr_id column holds; an email too when the identity's type is email (Badgr's default).
    Another type (a url, a telephone number) maps through that column alone."""
    given = assertion.get("recipient")
    recipient: dict = given if isinstance(given, dict) else {}
    field = at("recipient.plaintextIdentity")
    plain = first_text(recipient.get("plaintextIdentity"))
    if plain is None and not recipient.get("hashed"):
        field, plain = at("recipient.identity"), first_text(recipient.get("identity"))
    if plain is None:
        raise InputError(at("recipient.plaintextIdentity"), "missing (a hashed identity alone cannot be mapped)")
    by_email = (first_text(recipient.get("type")) or "email") == "email"
    email = email_address(plain, field) if by_email else None
    return Learner(email=email, platform_user_id=identifier(plain, field))


ADAPTER = BadgrAdapter  # what the registry loads
