"""Certifier: signed webhooks for credentials and their interactions (views, shares), awarding."""

from ..spec import Platform, Webhook

PLATFORM = Platform(
    name="certifier",
    title="Certifier",
    package=__name__,
    adapter="adapter:CertifierAdapter",
    api="api:CertifierClient",
    api_settings=("CERTIFIER_TOKEN",),
    fetches_details=True,  # a delivery may name a credential without embedding it
    awards="awards:CertifierAwards",
    credential_id="awards:credential_id",
    webhook=Webhook(auth="signature", secret="CERTIFIER_WEBHOOK_SECRET", read="webhook:read_delivery"),
)
