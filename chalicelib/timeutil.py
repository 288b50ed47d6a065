"""Source times to aware UTC datetimes, and the one xAPI timestamp format."""

from __future__ import annotations

from datetime import date, datetime, timezone

from .errors import InputError


def parse_time(value: object, field: str) -> datetime:
    """ISO 8601 / RFC 3339 text (or a date) as an aware UTC datetime.

    Date-only values mean midnight UTC. Times without a zone are taken as UTC: platforms that
    omit it (Credly's "2026-11-20 14:03:10 +0000" aside) document their API times in UTC.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        parsed = _parse_text(value.strip(), field)
    else:
        raise InputError(field, f"expected a date-time, got {value!r}")
    return utc(parsed)


def _parse_text(text: str, field: str) -> datetime:
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    if " " in candidate and "T" not in candidate:
        # Credly's API style: "2026-11-20 14:03:10 +0000"
        candidate = candidate.replace(" +", "+").replace(" -", "-").replace(" ", "T", 1)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        raise InputError(field, f"not an ISO 8601 date-time: {text!r}") from None


def utc(moment: datetime) -> datetime:
    """In UTC; a naive time is taken as UTC (the connector's clocks are UTC), never as local."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def optional_time(value: object, field: str) -> datetime | None:
    return None if value in (None, "") else parse_time(value, field)


def xapi_timestamp(moment: datetime) -> str:
    """RFC 3339, UTC, milliseconds: 2026-11-20T14:03:10.000Z."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
