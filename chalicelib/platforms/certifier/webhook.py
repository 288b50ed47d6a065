"""Certifier's signed webhook bodies: refused at once when they can never be translated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from ...errors import InputError
from ..common import check_shape, content_key
from ..spec import Delivery, DeliveryItem, WebhookRoute
from .adapter import CertifierAdapter

if TYPE_CHECKING:
    from ...settings import Settings


class CertifierWebhook(BaseModel):
    """A Certifier webhook (signed): its type and data; the credential is embedded in
    data.credential, or named by data.resource.id for the worker to fetch."""

    model_config = ConfigDict(extra="allow")

    id: str | SkipJsonSchema[None] = Field(None, description="the delivery id (de-duplication)")
    type: str = Field(
        examples=[
            "credential.issued",
            "credential.created",
            "credential.deleted",
            "credential.updated",
            "credential.viewed",
            "credential.shared",
            "credential.downloaded",
        ],
        description="an unknown type is a 400; credential.updated is skipped",
    )
    data: dict[str, Any]


ROUTE = WebhookRoute(
    path="/webhooks/certifier",
    connection_path="/webhooks/certifier/{connection}",
    operation_id="certifierWebhook",
    summary="Certifier webhook",
    description="The signature is checked on the raw body before it is read.",
    body=CertifierWebhook,
    accepted="queued, received before, or skipped by a documented rule",
    security=(
        "certifierSignature",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Webhook-Signature",
            "description": "hex HMAC-SHA256 of the raw body, keyed with `CERTIFIER_WEBHOOK_SECRET`",
        },
    ),
)

# What the route says of a body CertifierWebhook refuses, by field (in the order they are checked).
_REFUSED = {"data": "expected a JSON object (one webhook event)", "type": "missing"}


def _check_envelope(body: dict) -> None:
    """InputError when the body is not what CertifierWebhook documents. A delivery id that is not
    text is not refused: the delivery is de-duplicated on its content instead."""
    try:
        CertifierWebhook.model_validate(body)
    except ValidationError as error:
        fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        for field, message in _REFUSED.items():
            if field in fields:
                raise InputError(field, message) from None


def read_delivery(body: dict, settings: Settings) -> Delivery:
    _check_envelope(body)  # the adapter also reads list pages (data an array): a webhook is one event
    events = check_shape(CertifierAdapter(settings), body)
    event_id = body["id"] if isinstance(body.get("id"), str) and body["id"] else None
    key = f"certifier:{event_id}" if event_id else content_key("certifier", body)
    return Delivery(items=(DeliveryItem(body=body, key=key, event_id=event_id, events=events),))
