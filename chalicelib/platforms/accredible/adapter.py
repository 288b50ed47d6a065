"""Accredible: credentials (one, or a search page) as canonical events."""

from __future__ import annotations

from typing import Any

from ...events import Credential, CredentialEvent, Kind, Learner
from ...timeutil import optional_time
from ..common import Adapter, ParseResult, first_text, missing, require_object

PLATFORM = "accredible"  # its name in the registry, in statement ids and queue messages

GROUP_IRI = "https://api.accredible.com/v1/issuer/groups/{id}"


class AccredibleAdapter(Adapter):
    def parse(self, document: object) -> ParseResult:
        doc = require_object(document, "")
        if isinstance(doc.get("credentials"), list):
            return [self._credential(item, f"credentials[{i}]") for i, item in enumerate(doc["credentials"])]
        if isinstance(doc.get("credential"), dict):
            return [self._credential(doc["credential"], "credential")]
        return [self._credential(doc, "")]

    def _credential(self, raw: Any, path: str) -> CredentialEvent:
        at = (lambda field: f"{path}.{field}" if path else field)
        item = require_object(raw, path)
        group = item.get("group") if isinstance(item.get("group"), dict) else {}
        group_id = first_text(str(group.get("id") or item.get("group_id") or "")) or missing(at("group.id"))
        recipient = item.get("recipient") if isinstance(item.get("recipient"), dict) else {}
        meta = recipient.get("meta_data") if isinstance(recipient.get("meta_data"), dict) else {}
        email = first_text(recipient.get("email")) or missing(at("recipient.email"))
        credential = Credential(
            id=str(item.get("id") or missing(at("id"))),
            assertion_url=first_text(item.get("url")),
            template_id=group_id,
            template_iri=GROUP_IRI.format(id=group_id),
            name=first_text(group.get("course_name"), item.get("name")) or missing(at("name")),
            description=first_text(item.get("description")),
            issued_at=optional_time(item.get("issued_on"), at("issued_on")),
            expires_at=optional_time(item.get("expired_on"), at("expired_on")),
        )
        learner = Learner(name=first_text(recipient.get("name")), email=email, earner_id=first_text(meta.get("employee_id")))
        return CredentialEvent(platform=PLATFORM, kind=Kind.ISSUED, learner=learner,
                               credential=credential, occurred_at=credential.issued_at)


ADAPTER = AccredibleAdapter  # what the registry loads
