"""Canvas Credentials / Badgr: no webhooks; awarding (its answer is the issued event)."""

from ..spec import Platform

PLATFORM = Platform(
    name="badgr",
    title="Canvas Credentials/Badgr",
    package=__name__,
    adapter="adapter:BadgrAdapter",
    api="api:BadgrClient",
    api_settings=("BADGR_USERNAME", "BADGR_PASSWORD"),
    awards="awards:BadgrAwards",
    credential_id="awards:credential_id",
)
