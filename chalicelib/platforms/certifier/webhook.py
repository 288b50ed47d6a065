"""Certifier's signed webhook bodies: refused at once when they can never be translated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import InputError
from ..common import check_shape, content_key
from ..spec import Delivery, DeliveryItem
from .adapter import CertifierAdapter

if TYPE_CHECKING:
    from ...settings import Settings


def read_delivery(body: dict, settings: "Settings") -> Delivery:
    if not isinstance(body.get("data"), dict):  # the adapter also reads list pages: a webhook is one event
        raise InputError("data", "expected a JSON object (one webhook event)")
    events = check_shape(CertifierAdapter(settings), body)
    event_id = body["id"] if isinstance(body.get("id"), str) and body["id"] else None
    key = f"certifier:{event_id}" if event_id else content_key("certifier", body)
    return Delivery(items=(DeliveryItem(body=body, key=key, event_id=event_id, events=events),))
