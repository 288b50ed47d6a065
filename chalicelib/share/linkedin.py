"""LinkedIn's "add to profile" link: the learner's profile gets the certification, its URL the tracked link."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *,
    name: str,
    cert_url: str,
    cert_id: str,
    organization_id: str | None = None,
    issued_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Parameters in LinkedIn's documented order; those not known are left out (an empty
    organizationId or issueYear makes LinkedIn's form show an error instead of leaving it blank)."""
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        params.append(("organizationId", organization_id))
    params += _year_month("issue", issued_at) + _year_month("expiration", expires_at)
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"  # quote_plus: spaces, &, = and non-ASCII all encoded


def _year_month(prefix: str, when: datetime | None) -> list[tuple[str, str]]:
    return [(f"{prefix}Year", str(when.year)), (f"{prefix}Month", str(when.month))] if when else []
