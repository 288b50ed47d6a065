"""Open Badges documents POSTed by any issuer: one assertion or credential, or an array of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from ...errors import InputError
from ..common import check_shape, content_key
from ..spec import Delivery, DeliveryItem, WebhookRoute
from .adapter import OpenBadgesAdapter

if TYPE_CHECKING:
    from ...settings import Settings


class OpenBadgesDocument(BaseModel):
    """An Open Badges 2.0 Assertion (its BadgeClass embedded) or 3.0 OpenBadgeCredential."""

    model_config = ConfigDict(extra="allow")

    type: str | list[str] | SkipJsonSchema[None] = Field(
        None, examples=["Assertion", ["VerifiableCredential", "OpenBadgeCredential"]]
    )
    id: str | SkipJsonSchema[None] = None


# What the route reads; the adapter checks each document further (the document is not translatable).
OpenBadgesBody = OpenBadgesDocument | Annotated[list[OpenBadgesDocument], Field(min_length=1)]

ROUTE = WebhookRoute(
    path="/ingest/openbadges",
    connection_path="/ingest/openbadges/{connection}",
    operation_id="openBadgesIngest",
    summary="Open Badges documents",
    description="One Open Badges 2.0 Assertion or 3.0 OpenBadgeCredential, or an array of them (checked, then "
    "queued, all or none). A document re-posted unchanged is a duplicate.",
    body=OpenBadgesBody,
    accepted="queued (counting the documents received before, if any), or all received before",
    security=("openBadgesBearer", {"type": "http", "scheme": "bearer", "description": "`OPENBADGES_INGEST_TOKEN`"}),
)


def read_delivery(data: Any, settings: Settings) -> Delivery:
    documents = data if isinstance(data, list) else [data]
    if not documents:
        raise InputError("(body)", "empty array")
    adapter = OpenBadgesAdapter()
    # No delivery id in Open Badges: an identical document re-posted is a redelivery.
    return Delivery(
        items=tuple(
            DeliveryItem(
                body=d,
                key=content_key("openbadges", d),
                events=check_shape(adapter, d, f"[{index}]" if isinstance(data, list) else ""),
            )
            for index, d in enumerate(documents)
        )
    )
