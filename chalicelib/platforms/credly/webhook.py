"""Credly's event notifications: unsigned and thin (an id to re-fetch), so the intake checks
that the notification is for this organisation and leaves the details to the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import InputError, NotForThisConnector
from ..spec import Delivery, DeliveryItem
from .adapter import SKIPPED_EVENT_PREFIXES

if TYPE_CHECKING:
    from ...settings import Settings


def read_delivery(notification: dict, settings: "Settings") -> Delivery:
    for key in ("id", "organization_id", "event_type"):
        if not isinstance(notification.get(key), str) or not notification[key]:
            raise InputError(key, "missing or not a string")
    if notification["organization_id"] != settings.credly_org_id:
        raise NotForThisConnector("organization_id is not this connector's organisation")
    if notification["event_type"].startswith(SKIPPED_EVENT_PREFIXES):
        return Delivery(skipped=notification["event_type"])
    item = DeliveryItem(body=notification, key=f"credly:{notification['id']}", event_id=notification["id"],
                        notification=True)
    return Delivery(items=(item,))
