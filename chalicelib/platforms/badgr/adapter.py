"""Canvas Credentials / Badgr: assertions (single, or the changed feed's envelope) as canonical events.

The badge class name (and its skills: its `tags` and the `targetName` of its `alignments`) is not
part of an assertion: it comes from an expanded `badgeclass` object, which the award path
(awards.py) and the puller (pull.py: the issuer-side lists have no `expand=badgeclass`, so it
fetches each badge class once per run) fill in.
"""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...events import Credential, CredentialEvent, Kind, Learner
from ...timeutil import optional_time
# Badgr's badge class carries Open Badges' tags and alignments (as `alignments`): read them alike.
from ..common import (Adapter, ParseResult, absolute_iri, email_address, first_text, missing, optional_iri,
                      require_object, tag_and_alignment_names)

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
        at = (lambda field: f"{path}.{field}" if path else field)
        assertion = require_object(raw, path)
        entity_id = first_text(assertion.get("entityId")) or missing(at("entityId"))
        badgeclass = assertion.get("badgeclass")
        badgeclass = badgeclass if isinstance(badgeclass, dict) else {}
        name = first_text(badgeclass.get("name")) or missing(at("badgeclass.name"))
        credential = Credential(
            id=entity_id,
            assertion_url=optional_iri(assertion.get("openBadgeId"), at("openBadgeId")),
            template_id=first_text(badgeclass.get("entityId"), assertion.get("badgeclass") if isinstance(assertion.get("badgeclass"), str) else None),
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
        recipient = assertion.get("recipient") if isinstance(assertion.get("recipient"), dict) else {}
        email = email_address(recipient.get("plaintextIdentity"), at("recipient.plaintextIdentity"))
        if not email and not recipient.get("hashed"):
            email = email_address(recipient.get("identity"), at("recipient.identity"))
        if not email:
            raise InputError(at("recipient.plaintextIdentity"), "missing (a hashed identity alone cannot be mapped)")
        issued = CredentialEvent(platform=PLATFORM, kind=Kind.ISSUED, learner=Learner(email=email),
                                 credential=credential, occurred_at=credential.issued_at)
        events: ParseResult = [issued]
        if assertion.get("revoked") is True:
            events.append(issued.model_copy(update={"kind": Kind.REVOKED, "occurred_at": None,
                                                    "reason": first_text(assertion.get("revocationReason"))}))
        acceptance = ACCEPTANCE_KINDS.get(first_text(assertion.get("acceptance")) or "")
        if acceptance is not None:
            events.append(issued.model_copy(update={"kind": acceptance, "occurred_at": None}))
        return events


ADAPTER = BadgrAdapter  # what the registry loads
