"""Open Badges documents POSTed by any issuer: one assertion or credential, or an array of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ..common import check_shape, content_key
from ..spec import Delivery, DeliveryItem
from .adapter import OpenBadgesAdapter

if TYPE_CHECKING:
    from ...settings import Settings


def read_delivery(data: Any, settings: "Settings") -> Delivery:
    documents = data if isinstance(data, list) else [data]
    if not documents:
        raise InputError("(body)", "empty array")
    adapter = OpenBadgesAdapter()
    # No delivery id in Open Badges: an identical document re-posted is a redelivery.
    return Delivery(items=tuple(
        DeliveryItem(body=d, key=content_key("openbadges", d),
                     events=check_shape(adapter, d, f"[{index}]" if isinstance(data, list) else ""))
        for index, d in enumerate(documents)))
