"""Certifier's signed webhook bodies: refused at once when they can never be translated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common import check_shape
from ..spec import Delivery, DeliveryItem
from .adapter import CertifierAdapter

if TYPE_CHECKING:
    from ...settings import Settings


def read_delivery(body: dict, settings: "Settings") -> Delivery:
    check_shape(CertifierAdapter(settings), body)
    event_id = body.get("id") if isinstance(body.get("id"), str) else None
    return Delivery(items=(DeliveryItem(body=body, event_id=event_id),),
                    key=f"certifier:{event_id}" if event_id else None)
