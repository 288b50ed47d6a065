"""timeutil.parse_time / optional_time / xapi_timestamp against odd times and odd values.

Properties checked:

- `parse_time(value, field)` on any text, any JSON value and real moments from year 1 to 9999
  with any UTC offset (in the spellings sources use): returns an aware UTC datetime, or raises
  InputError naming `field`; never anything else (OverflowError at years 1 / 9999 was the bug).
- For a moment whose UTC time is within years 1 to 9999, parse_time gives that moment.
- `xapi_timestamp` of anything parse_time returns never raises, is the RFC 3339 form the
  statement validator accepts, and reads back as the same moment (to the millisecond).

Plus the regression tests of the overflow (item a).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import InputError
from chalicelib.timeutil import optional_time, parse_time, utc, xapi_timestamp
from tests.support.strategies import EDGE_TIMES, HugeInt, fuzz, nasty_values, odd_timestamps

pytestmark = pytest.mark.fuzz

# The statement validator's timestamp form (xapi/validate.py), written out.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
FIELD = "data.credential.issueDate"


def parsed_or_refused(value: object) -> datetime | None:
    try:
        moment = parse_time(value, FIELD)
    except InputError as error:
        assert error.field == FIELD
        assert len(error.message) < 200  # never echoes megabytes back
        return None
    assert moment.tzinfo is UTC
    stamp = xapi_timestamp(moment)
    assert RFC3339.match(stamp), stamp
    assert parse_time(stamp, FIELD) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


@fuzz(300)
@given(odd_timestamps())
def test_odd_timestamps_parse_or_are_refused(text):
    parsed_or_refused(text)


@fuzz(200)
@given(st.text(max_size=40))
def test_any_text_parses_or_is_refused(text):
    parsed_or_refused(text)


@fuzz(200)
@given(nasty_values())
def test_any_value_parses_or_is_refused(value):
    parsed_or_refused(value)


OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@fuzz(300)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=OFFSETS)
)
def test_a_moment_in_range_is_read_as_itself(moment):
    in_range = datetime(1, 1, 1, tzinfo=UTC) <= moment <= datetime.max.replace(tzinfo=UTC)
    parsed = parsed_or_refused(moment.isoformat())
    assert (parsed == moment) if in_range else (parsed is None)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # before 0001-01-01T00:00 in UTC
        "0001-01-01T00:59:59+01:00",
        "9999-12-31T23:59:59-05:00",  # after 9999-12-31T23:59:59.999999 in UTC
        "9999-12-31T23:00:00-01:00",
        "0001-01-01 00:30:00 +0100",  # Credly's spelling
    ],
)
def test_times_out_of_range_in_utc_are_input_errors(text):
    # a. OverflowError from astimezone() in parse_time: a 500 at the routes, a dead letter in workers
    with pytest.raises(InputError) as refused:
        parse_time(text, FIELD)
    assert refused.value.field == FIELD
    assert "out of range" in refused.value.message
    with pytest.raises(InputError):
        optional_time(text, FIELD)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:00:00-01:00", "0001-01-01T01:00:00.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59+05:00", "9999-12-31T18:59:59.000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
        ("0001-01-01", "0001-01-01T00:00:00.000Z"),
    ],
)
def test_edge_times_in_range_round_trip(text, expected):
    assert xapi_timestamp(parse_time(text, FIELD)) == expected


def test_xapi_timestamp_reads_a_naive_moment_as_utc_never_local():
    # astimezone() took a naive moment as local time (and failed on year 1 east of Greenwich)
    assert xapi_timestamp(datetime(1, 1, 1)) == "0001-01-01T00:00:00.000Z"
    assert xapi_timestamp(datetime(2026, 11, 20, 14, 3, 10)) == "2026-11-20T14:03:10.000Z"


@pytest.mark.parametrize(
    "value",
    [
        HugeInt(10**5000),
        10**400,
        float("nan"),
        True,
        [],
        {},
        "x" * 200_000,
        "\ud800",
        1.5,
    ],
)
def test_odd_values_are_input_errors_with_short_messages(value):
    with pytest.raises(InputError) as refused:
        parse_time(value, FIELD)
    assert refused.value.field == FIELD and len(str(refused.value)) < 200


def test_a_date_is_midnight_utc():
    assert parse_time(date(1, 1, 1), FIELD) == datetime(1, 1, 1, tzinfo=UTC)


def test_aware_datetime_out_of_range_is_an_input_error():
    with pytest.raises(InputError):
        parse_time(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), FIELD)
    assert utc(datetime(1, 1, 1)) == datetime(1, 1, 1, tzinfo=UTC)


def test_edge_times_list_is_covered():
    # every listed edge either parses in range or is refused: none raises anything else
    for text in EDGE_TIMES:
        parsed_or_refused(text)
