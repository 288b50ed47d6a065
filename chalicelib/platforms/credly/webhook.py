"""Credly's event notifications: unsigned and thin (an id to re-fetch), so the intake checks
that the notification is for this organisation and leaves the details to the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import InputError, NotForThisConnector
from ..spec import Delivery, DeliveryItem, WebhookRoute
from .adapter import SKIPPED_EVENT_PREFIXES

if TYPE_CHECKING:
    from ...settings import Settings


class CredlyNotification(BaseModel):
    """What Credly POSTs: the event's id, its organisation and type; the worker fetches the rest.
    Credly may add fields: they are kept (queued as received), not checked."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, strict=True, description="the event id (fetched from Credly's API by the worker)")
    organization_id: str = Field(min_length=1, strict=True, description="must be CREDLY_ORG_ID, else 403")
    event_type: str = Field(min_length=1, strict=True, examples=["badge.created", "badge.revoked"])


ROUTE = WebhookRoute(
    path="/webhooks/credly/{token}",
    connection_path="/webhooks/credly/{connection}/{token}",
    operation_id="credlyWebhook",
    summary="Credly event notification",
    description="Authenticated by the secret path token (`CREDLY_WEBHOOK_TOKEN`). Every accepted outcome answers "
    "200: Credly retries anything else for days.",
    body=CredlyNotification,
    accepted="queued, received before, or skipped by a documented rule",
    refusals=((403, "authentic, but `organization_id` is not `CREDLY_ORG_ID`"),),
)


def read_delivery(notification: dict, settings: Settings) -> Delivery:
    try:
        CredlyNotification.model_validate(notification)
    except ValidationError as error:  # the first field, in the model's order, that is not a string
        location = error.errors()[0]["loc"]
        raise InputError(str(location[0]) if location else "(body)", "missing or not a string") from None
    if notification["organization_id"] != settings.credly_org_id:
        raise NotForThisConnector("organization_id is not this connector's organisation")
    if notification["event_type"].startswith(SKIPPED_EVENT_PREFIXES):
        return Delivery(skipped=notification["event_type"])
    item = DeliveryItem(
        body=notification, key=f"credly:{notification['id']}", event_id=notification["id"], notification=True
    )
    return Delivery(items=(item,))
