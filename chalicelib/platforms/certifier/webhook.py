"""Certifier's signed webhook bodies: refused at once when they can never be translated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common import check_shape, content_key
from ..spec import Delivery, DeliveryItem
from .adapter import CertifierAdapter

if TYPE_CHECKING:
    from ...settings import Settings


def read_delivery(body: dict, settings: "Settings") -> Delivery:
    check_shape(CertifierAdapter(settings), body)
    event_id = body["id"] if isinstance(body.get("id"), str) and body["id"] else None
    key = f"certifier:{event_id}" if event_id else content_key("certifier", body)
    return Delivery(items=(DeliveryItem(body=body, key=key, event_id=event_id),))
