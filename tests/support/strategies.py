"""Shared hypothesis strategies and settings of the fuzz tests.

- `FUZZ`, `fuzz(n)`: reproducible settings (derandomized, no example database, no deadline) for
  CI; FUZZ_SCALE=50 in the environment runs 50 times the examples, at random, for a deeper hunt.
- `nasty_values()`: JSON values a client could send (wrong types, nan/inf, empty and very long
  text, lone surrogates, which json.loads lets through, deep nesting), and ints of 5,000 digits,
  which no JSON parser makes but a Python caller could pass.
- `odd_timestamps()`: date-time text at the edges (years 1 and 9999 with offsets, odd separators).
- `mutated(document)`: a fixture document with one field (at any depth) replaced or removed.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.paths import FIXTURE_DIR

FIXTURES = FIXTURE_DIR

# FUZZ_SCALE=N (e.g. 50) runs N times the examples, randomly: a deeper local hunt. Unset (CI):
# the same examples on every run, so a failure reproduces.
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1") or 1))

FUZZ = settings(
    deadline=None,
    derandomize=SCALE == 1,
    database=None,  # nothing written to .hypothesis/
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class HugeInt(int):
    """An int too long for str() (Python refuses over 4,300 digits), whose repr still works so
    that hypothesis can report an example holding one; str(), float() and arithmetic behave as
    on the int itself."""

    def __repr__(self) -> str:
        sign = "-" if self < 0 else ""
        return f"{sign}HugeInt(~{self.bit_length()} bits)"


def fuzz(max_examples: int) -> settings:
    """FUZZ with max_examples (times FUZZ_SCALE)."""
    return settings(FUZZ, max_examples=max_examples * SCALE)


def json_reachable(document: Any) -> bool:
    """Whether a JSON parser could have produced the document: not with an int of more than
    4,300 digits (Python's json refuses them, as pydantic's parser does), so such a document
    can be handed to a function directly but never reaches a route or the queue."""
    try:
        json.dumps(document)
    except ValueError:
        return False
    except TypeError:
        return True
    return True


def nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


EDGE_TIMES = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01 00:30:00 +0100",
    "9999-12-31 23:00:00 -2359",
    "2026-11-20T14:03:10+23:59",
    "2026-02-30T00:00:00Z",
    "2026-11-20T24:00:00Z",
    "2026-11-20T14:03:10ZZ",
    "2026-11-20T14:03:10+00:00Z",
    "+002026-11-20T14:03:10Z",
    "2026-W47-5",
    "20261120T140310Z",
    "T14:03:10",
    "z",
    "Z",
    "0",
    "-1",
]

NASTY_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**63,
    -(2**63),
    10**400,
    HugeInt(10**5000),
    HugeInt(-(10**5000)),
    1.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " ",
    "\t\n",
    "\x00",
    "\ud800",
    "\udfff",
    "a\ud800b",
    "\u202e",
    "\ufeff",
    "null",
    "true",
    "x" * 200_000,
    "é" * 70_000,
    "a b",
    "mailto:",
    "a@b",
    "@",
    "sha256$",
    "sha256$zz",
    "http://",
    "https://example.org/x y",
    "urn:x",
    "javascript:alert(1)",
    "{}",
    "[]",
    [],
    {},
    [None],
    [[]],
    {"": None},
    {"id": None},
    {"id": {}},
    [1, "a", None],
    ["\ud800"],
    nested(50),
    nested(900),
    *EDGE_TIMES,
]


def _json_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from(NASTY_SCALARS),
    )


@functools.cache  # one strategy object: flatmap draws stay cheap
def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _json_leaves(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


@functools.cache  # one strategy object: flatmap draws stay cheap
def odd_timestamps() -> st.SearchStrategy[str]:
    """Real moments from year 1 to 9999 with any offset, in the spellings sources use."""
    offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
    moments = st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
        timezones=st.none() | offsets,
    )
    spellings = st.sampled_from(
        [
            lambda m: m.isoformat(),
            lambda m: m.isoformat(sep=" "),
            lambda m: m.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            lambda m: m.strftime("%Y-%m-%d %H:%M:%S %z").strip(),  # Credly's API style
            lambda m: m.date().isoformat(),
            lambda m: m.isoformat().lower(),
        ]
    )
    return st.one_of(
        st.sampled_from(EDGE_TIMES),
        st.builds(lambda moment, spell: spell(moment), moments, spellings),
    )


@functools.cache  # one strategy object: flatmap draws stay cheap
def nasty_values() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(NASTY_SCALARS), json_values(), odd_timestamps())


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


Path_ = tuple[Any, ...]


def paths(document: Any, prefix: Path_ = (), max_depth: int = 12) -> Iterator[Path_]:
    """Every position in a JSON document (the root included), parents before children; not
    below max_depth (fixtures are shallower; a nasty value already put in may nest 900 deep)."""
    yield prefix
    if len(prefix) >= max_depth:
        return
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key), max_depth)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index), max_depth)


_DELETE = object()


def _apply(document: Any, path: Path_, value: Any) -> Any:
    """A copy of the document with `path` set to value (or removed); only the containers on the
    path are copied, so the original (a shared fixture) is never modified."""
    if not path:
        return document if value is _DELETE else value
    head, rest = path[0], path[1:]
    copied = dict(document) if isinstance(document, dict) else list(document)
    if rest:
        copied[head] = _apply(document[head], rest, value)
    elif value is _DELETE:
        del copied[head]
    else:
        copied[head] = value
    return copied


def mutated(document: Any, values: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    """The document with one position replaced by a nasty value, or removed."""
    positions = list(paths(document))
    replacement = st.one_of(values or nasty_values(), st.just(_DELETE))
    return st.builds(lambda path, value: _apply(document, path, value), st.sampled_from(positions), replacement)


def mutated_many(document: Any, count: int = 3) -> st.SearchStrategy[Any]:
    """Up to `count` successive one-position mutations."""
    strategy: st.SearchStrategy[Any] = st.just(document)
    for _ in range(count):
        strategy = strategy.flatmap(lambda doc: st.one_of(st.just(doc), mutated(doc)))
    return strategy
