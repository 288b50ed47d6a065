"""Source times to aware UTC datetimes, and the one xAPI timestamp format."""

from __future__ import annotations

from datetime import UTC, date, datetime

from .errors import InputError


def parse_time(value: object, field: str) -> datetime:
    """ISO 8601 / RFC 3339 text (or a date) as an aware UTC datetime.

    Date-only values mean midnight UTC. Times without a zone are taken as UTC: platforms that
    omit it (Credly's "2026-11-20 14:03:10 +0000" aside) document their API times in UTC.
    A time that is not in years 1 to 9999 once in UTC (0001-01-01T00:00:00+01:00) is an
    InputError like any other unusable time: it could never be stored or compared.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        parsed = _parse_text(value.strip(), field)
    else:
        raise InputError(field, f"expected a date-time, got {_described(value)}")
    try:
        return utc(parsed)
    except (OverflowError, ValueError):
        raise InputError(field, f"out of range once in UTC (years 1 to 9999): {_described(value)}") from None


def _parse_text(text: str, field: str) -> datetime:
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    if " " in candidate and "T" not in candidate:
        # Credly's API style: "2026-11-20 14:03:10 +0000"
        candidate = candidate.replace(" +", "+").replace(" -", "-").replace(" ", "T", 1)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        raise InputError(field, f"not an ISO 8601 date-time: {_described(text)}") from None


def _described(value: object, limit: int = 40) -> str:
    """The value for an error message: text quoted and cut short; other values by their JSON type
    (a message must never be megabytes long, and a huge int cannot even be printed)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value):,} characters)"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    return _JSON_CONTAINERS.get(type(value), type(value).__name__)


_JSON_CONTAINERS: dict[type, str] = {list: "an array", dict: "an object"}


def utc(moment: datetime) -> datetime:
    """In UTC; a naive time is taken as UTC (the connector's clocks are UTC), never as local.

    OverflowError when an aware time falls outside years 1 to 9999 in UTC (parse_time turns that
    into an InputError: it never returns such a time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def optional_time(value: object, field: str) -> datetime | None:
    return None if value in (None, "") else parse_time(value, field)


def time_or_none(value: object) -> datetime | None:
    """parse_time's answer, or None for anything it refuses: for times the connector reads back
    (its own statements, its cursors) or that only order or filter, where a bad one is left out."""
    try:
        return parse_time(value, "time")
    except InputError:
        return None


def xapi_timestamp(moment: datetime) -> str:
    """RFC 3339, UTC, milliseconds: 2026-11-20T14:03:10.000Z.

    A naive moment is taken as UTC, as in utc(): astimezone() would read it as local time (and
    fail on 0001-01-01 east of Greenwich). The moments parse_time returns are UTC already, so
    converting them cannot overflow."""
    return utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
