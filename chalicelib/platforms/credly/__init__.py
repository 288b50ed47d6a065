"""Credly: webhooks (thin notifications, re-fetched from the API), badge lists, awarding."""

from ..spec import Platform, Webhook

PLATFORM = Platform(
    name="credly",
    title="Credly",
    package=__name__,
    adapter="adapter:CredlyAdapter",
    api="api:CredlyClient",
    api_settings=("CREDLY_ORG_ID", "CREDLY_TOKEN"),
    fetches_details=True,
    awards="awards:CredlyAwards",
    credential_id="awards:credential_id",
    # Credly retries anything but 200 for days: every accepted outcome answers 200.
    webhook=Webhook(auth="path_token", secret="CREDLY_WEBHOOK_TOKEN", needs=("CREDLY_ORG_ID",),
                    read="webhook:read_notification", ack_status=200, thin=True),
)
