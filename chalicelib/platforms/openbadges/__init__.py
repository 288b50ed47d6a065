"""Open Badges 2.0 and 3.0: documents POSTed by any compliant issuer (no API to call)."""

from ..spec import Platform, Webhook

PLATFORM = Platform(
    name="openbadges",
    title="Open Badges",
    package=__name__,
    adapter="adapter:OpenBadgesAdapter",
    webhook=Webhook(auth="bearer", secret="OPENBADGES_INGEST_TOKEN", read="webhook:read_documents", many=True),
)
