"""Accredible: no webhooks; awarding (the created credential is the issued event)."""

from ..spec import Platform

PLATFORM = Platform(
    name="accredible",
    title="Accredible",
    package=__name__,
    adapter="adapter:AccredibleAdapter",
    api="api:AccredibleClient",
    api_settings=("ACCREDIBLE_API_KEY",),
    awards="awards:AccredibleAwards",
    credential_id="awards:credential_id",
)
