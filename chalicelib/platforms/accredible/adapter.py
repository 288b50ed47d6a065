"""Accredible: credentials (one, a search page of v1 or v2) and analytics pages as canonical events.

A credential is read from the shape of GET /v1/credentials/{id} and v1 search (a `recipient`
object) or of POST /v2/credentials/search (flat `recipient_name`, `recipient_email`,
`recipient_meta_data`). Accredible has no revoked state: a credential withdrawn by setting its
expired_on in the past reads like any expiry, and the translator then adds its expired statement.

An analytics page ({"analytics": [{"credential": {...}, "event", "created_at"}]}, GET
/v1/analytics) gives one view per row whose event Accredible's API reference shows; any other
event is skipped by the rule "accredible analytics event <name>", never guessed. The row's
credential must be embedded whole (the pull fetches it: the API gives only its id); a row whose
credential Accredible no longer has is marked `"found": false` by the pull and skipped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...errors import InputError
from ...events import Credential, CredentialEvent, Interaction, Kind, Learner, Skipped
from ...jsonshape import object_in
from ...timeutil import optional_time, parse_time, xapi_timestamp
from ..common import (
    Adapter,
    ParseResult,
    absolute_iri,
    email_address,
    first_text,
    id_text,
    missing,
    optional_iri,
    require_object,
)

PLATFORM = "accredible"  # its name in the registry, in statement ids and queue messages

GROUP_IRI = "https://api.accredible.com/v1/issuer/groups/{id}"

# Analytics event -> (kind, channel, by a guest). Only the names Accredible's API reference shows
# (the examples of GET /v1/analytics and POST /v1/credentials/analytics/{id}) are mapped: the
# recipient viewing their credential, and a verification (what stakeholders, not the recipient,
# do: Accredible's glossary). No share event name is documented: none is mapped.
INTERACTIONS: dict[str, tuple[Kind, str, bool]] = {
    "recipient_view_certificate": (Kind.VIEWED, "web", False),
    "credential_user_verified": (Kind.VIEWED, "verification", True),
}
# Documented, but neither a view nor a share: skipped by rule like unknown ones, but expected.
IGNORED_EVENTS = frozenset({"privacy_updated"})
DELETED_RULE = "accredible analytics event of a credential Accredible no longer has"


def analytics_rule(event: str) -> str:
    """The Skipped rule of an analytics event that is not mapped (bounded: it is counted by name)."""
    return f"accredible analytics event {event[:60]}"


class AccredibleAdapter(Adapter):
    def parse(self, document: object) -> ParseResult:
        doc = require_object(document, "")
        if isinstance(doc.get("analytics"), list):
            return [self._analytics(row, f"analytics[{i}]") for i, row in enumerate(doc["analytics"])]
        if isinstance(doc.get("credentials"), list):
            return [self._credential(item, f"credentials[{i}]") for i, item in enumerate(doc["credentials"])]
        if isinstance(doc.get("credential"), dict):
            return [self._credential(doc["credential"], "credential")]
        return [self._credential(doc, "")]

    def _credential(self, raw: Any, path: str) -> CredentialEvent:
        def at(field: str) -> str:
            return f"{path}.{field}" if path else field

        item = require_object(raw, path)
        group = object_in(item, "group")
        group_id = id_text(group.get("id")) or id_text(item.get("group_id")) or missing(at("group.id"))
        recipient = object_in(item, "recipient")
        flat = "recipient" not in item and "recipient_email" in item  # v2 search: recipient_* fields
        meta_data = item.get("recipient_meta_data") if flat else recipient.get("meta_data")
        meta = meta_data if isinstance(meta_data, dict) else {}
        email_field = at("recipient_email") if flat else at("recipient.email")
        email = email_address(item.get("recipient_email") if flat else recipient.get("email"), email_field) or missing(
            email_field
        )
        credential = Credential(
            id=id_text(item.get("id")) or missing(at("id")),
            assertion_url=optional_iri(item.get("url"), at("url")),
            template_id=group_id,
            template_iri=absolute_iri(GROUP_IRI.format(id=group_id), at("group.id")),
            name=first_text(group.get("course_name"), item.get("name")) or missing(at("name")),
            description=first_text(item.get("description")),
            issued_at=optional_time(item.get("issued_on"), at("issued_on")),
            expires_at=optional_time(item.get("expired_on"), at("expired_on")),
        )
        name = first_text(item.get("recipient_name") if flat else recipient.get("name"))
        # The recipient's own id on Accredible (a number in v1, text in GET /v1/credentials/{id}):
        # what the directory's accredible_id column holds.
        recipient_id = id_text(item.get("recipient_id") if flat else recipient.get("id"))
        learner = Learner(
            name=name, email=email, earner_id=first_text(meta.get("employee_id")), platform_user_id=recipient_id
        )
        return CredentialEvent(
            platform=PLATFORM,
            kind=Kind.ISSUED,
            learner=learner,
            credential=credential,
            occurred_at=credential.issued_at,
        )

    def _analytics(self, raw: Any, path: str) -> CredentialEvent | Skipped:
        row = require_object(raw, path)
        event = first_text(row.get("event")) or missing(f"{path}.event")
        mapped = INTERACTIONS.get(event)
        if mapped is None:
            return Skipped(platform=PLATFORM, rule=analytics_rule(event))
        embedded = row.get("credential")
        if isinstance(embedded, dict) and embedded.get("found") is False:
            return Skipped(platform=PLATFORM, rule=DELETED_RULE)
        if not isinstance(embedded, dict) or "recipient" not in embedded and "recipient_email" not in embedded:
            raise InputError(
                f"{path}.credential",
                "missing: an analytics row needs its credential embedded (GET /v1/credentials/{id}; the pull does it)",
            )
        event_ = self._credential(embedded, f"{path}.credential")
        url = event_.credential.assertion_url or missing(f"{path}.credential.url")
        absolute_iri(url, f"{path}.credential.url")
        occurred = parse_time(row.get("created_at"), f"{path}.created_at")
        kind, channel, by_guest = mapped
        # Deterministic: the API gives rows no id, so one is made of what identifies the row.
        interaction_id = f"{event_.credential.id}|{event}|{xapi_timestamp(occurred)}"
        interaction = Interaction(id=interaction_id, channel=channel, by_guest=by_guest, platform_home=_home(url))
        return event_.model_copy(update={"kind": kind, "occurred_at": occurred, "interaction": interaction})


def _home(url: str) -> str | None:
    """Where a guest viewer came from: the credential page's site (None: the connector's own base)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


ADAPTER = AccredibleAdapter  # what the registry loads
