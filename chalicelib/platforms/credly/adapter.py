"""Credly: event details (GET /organizations/{org}/events/{id}), badge objects and list pages.

A bare badge (from a list or backfill) and the `badge.created` event of the same badge give
the same events, so the same statements: nothing from the delivery enters a CredentialEvent
except `source_event_id`, which is for de-duplication only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ...errors import DetailsRequired, InputError
from ...events import Credential, CredentialEvent, Issuer, Kind, Learner, Skipped
from ...timeutil import optional_time, parse_time
from ..common import (
    Adapter,
    ParseResult,
    VendorModel,
    absolute_iri,
    email_address,
    first_text,
    id_text,
    joined,
    missing,
    optional_iri,
    parse_model,
    require_object,
)

PLATFORM = "credly"  # its name in the registry, in statement ids and queue messages

WEB_BASE = "https://www.credly.com"
# Credly publishes each template as an Open Badges BadgeClass at this address.
BADGE_CLASS_IRI = "https://api.credly.com/v1/obi/v2/badge_classes/{id}"

STATE_KINDS = {"accepted": Kind.ACCEPTED, "rejected": Kind.REJECTED, "revoked": Kind.REVOKED}
# States that are not credential events of their own: pending is the issued state itself.
QUIET_STATES = {"pending", "replaced"}
SKIPPED_EVENT_PREFIXES = ("badge_template.", "pending_badge_notification.")


class CredlySkill(VendorModel):
    name: str


class CredlyTemplate(VendorModel):
    id: str
    name: str
    description: str | None = None
    image_url: str | None = None
    url: str | None = None
    skills: list[CredlySkill | str] = Field(default_factory=list)


class CredlyEntity(VendorModel):
    name: str | None = None
    url: str | None = None


class CredlyIssuerEntity(VendorModel):
    primary: bool = False
    entity: CredlyEntity


class CredlyIssuer(VendorModel):
    entities: list[CredlyIssuerEntity] = Field(default_factory=list)


class CredlyUser(VendorModel):
    id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class CredlyBadge(VendorModel):
    id: str
    state: str
    issued_at: str
    expires_at: str | None = None
    state_updated_at: str | None = None
    updated_at: str | None = None
    issued_to: str | None = None
    issued_to_first_name: str | None = None
    issued_to_last_name: str | None = None
    recipient_email: str | None = None
    issuer_earner_id: str | None = None
    image_url: str | None = None
    badge_url: str | None = None
    badge_template: CredlyTemplate
    issuer: CredlyIssuer | None = None
    user: CredlyUser | None = None
    revocation_reason: str | None = None


class CredlyAdapter(Adapter):
    def parse(self, document: object) -> ParseResult:
        doc = require_object(document, "")
        data = doc.get("data")
        if isinstance(data, list):  # a list page
            return [e for i, item in enumerate(data) for e in self.parse_badge(item, f"data[{i}]")]
        if isinstance(data, dict) and "event_type" in data:
            return self.parse_event(data, "data")
        if isinstance(data, dict):  # {"data": badge}, as a single-badge GET answers
            return self.parse_badge(data, "data")
        if "event_type" in doc:
            event_type = doc["event_type"]
            skipped = isinstance(event_type, str) and event_type.startswith(SKIPPED_EVENT_PREFIXES)
            if "badge" not in doc and not skipped:  # a thin webhook notification
                if not isinstance(event_type, str):
                    raise InputError("event_type", "missing")
                raise DetailsRequired("credly", id_text(doc.get("id")) or missing("id"))
            return self.parse_event(doc, "")
        if "badge_template" in doc:
            return self.parse_badge(doc, "")
        raise InputError("data", "not a Credly event, badge or badge list")

    def parse_event(self, event: dict, path: str) -> ParseResult:
        event_type = event.get("event_type")
        event_id = first_text(event.get("id"))
        at = joined(path, "event_type")
        if not isinstance(event_type, str):
            raise InputError(at, "missing")
        if event_type.startswith(SKIPPED_EVENT_PREFIXES):
            return [Skipped(platform=PLATFORM, rule=event_type, source_event_id=event_id)]
        badge = parse_model(CredlyBadge, event.get("badge"), joined(path, "badge"))
        where = joined(path, "badge")
        if event_type == "badge.created":
            return [self._event(badge, Kind.ISSUED, event_id, where)]
        if event_type == "badge.state.changed":
            return self._state_events(badge, event_id, where)
        if event_type == "badge.deleted":
            reason = badge.revocation_reason or "deleted in Credly"
            return [self._event(badge, Kind.REVOKED, event_id, where, reason=reason)]
        raise InputError(at, f"unknown Credly event type {event_type!r}")

    def parse_badge(self, raw: Any, path: str) -> ParseResult:
        """A badge as lists return it: issued, plus its current state where that is an event."""
        badge = parse_model(CredlyBadge, require_object(raw, path), path)
        events: ParseResult = [self._event(badge, Kind.ISSUED, None, path)]
        if badge.state in STATE_KINDS:
            events.extend(self._state_events(badge, None, path))
        return events

    def _state_events(self, badge: CredlyBadge, event_id: str | None, path: str) -> ParseResult:
        if badge.state in QUIET_STATES:
            rule = f"badge.state.changed to {badge.state}"
            return [Skipped(platform=PLATFORM, rule=rule, source_event_id=event_id)]
        kind = STATE_KINDS.get(badge.state)
        if kind is None:
            raise InputError(joined(path, "state"), f"unknown Credly badge state {badge.state!r}")
        reason = badge.revocation_reason if kind is Kind.REVOKED else None
        return [self._event(badge, kind, event_id, path, reason=reason)]

    def _event(
        self, badge: CredlyBadge, kind: Kind, event_id: str | None, path: str, reason: str | None = None
    ) -> CredentialEvent:
        credential = _credential(badge, path)
        occurred_at: datetime | None = credential.issued_at
        if kind is not Kind.ISSUED:
            changed = badge.state_updated_at or badge.updated_at
            occurred_at = optional_time(changed, joined(path, "state_updated_at")) or occurred_at
        return CredentialEvent(
            platform=PLATFORM,
            kind=kind,
            learner=_learner(badge, path),
            credential=credential,
            occurred_at=occurred_at,
            source_event_id=event_id,
            reason=reason,
        )


def _credential(badge: CredlyBadge, path: str) -> Credential:
    template = badge.badge_template
    where = joined(path, "badge_template")
    return Credential(
        id=badge.id,
        assertion_url=optional_iri(badge.badge_url, joined(path, "badge_url")) or f"{WEB_BASE}/badges/{badge.id}",
        template_id=template.id,
        template_iri=absolute_iri(
            template.url or BADGE_CLASS_IRI.format(id=template.id), joined(where, "url" if template.url else "id")
        ),
        name=first_text(template.name) or missing(joined(where, "name")),
        description=template.description,
        image=template.image_url,
        issuer=_issuer(badge.issuer),
        skills=tuple(s if isinstance(s, str) else s.name for s in template.skills),
        issued_at=parse_time(badge.issued_at, joined(path, "issued_at")),
        expires_at=optional_time(badge.expires_at, joined(path, "expires_at")),
    )


def _issuer(issuer: CredlyIssuer | None) -> Issuer | None:
    if not issuer or not issuer.entities:
        return None
    primary = next((e for e in issuer.entities if e.primary), issuer.entities[0]).entity
    return Issuer(name=primary.name, url=primary.url)


def _learner(badge: CredlyBadge, path: str) -> Learner:
    user = badge.user or CredlyUser()
    full_name = " ".join(
        n for n in (badge.issued_to_first_name or user.first_name, badge.issued_to_last_name or user.last_name) if n
    )
    learner = Learner(
        name=first_text(badge.issued_to, full_name),
        email=email_address(badge.recipient_email, joined(path, "recipient_email"))
        or email_address(user.email, joined(path, "user.email")),
        earner_id=first_text(badge.issuer_earner_id),
        platform_user_id=user.id,
    )
    if not (learner.email or learner.earner_id):
        raise InputError(joined(path, "recipient_email"), "missing (nor user.email, nor issuer_earner_id)")
    return learner


ADAPTER = CredlyAdapter  # what the registry loads
