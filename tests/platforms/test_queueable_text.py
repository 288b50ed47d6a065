"""The route's fast check of a body's text (require_queueable_json) against the walk over the
parsed document (require_queueable): a text it lets pass is one the walk lets pass, and what it
cannot vouch for the walk decides, with the walk's message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import InputError
from chalicelib.intake.http import read_json
from chalicelib.platforms.common import MAX_DEPTH, _text_queueable, require_queueable

pytestmark = pytest.mark.fuzz


def walk_passes(document: Any) -> bool:
    try:
        require_queueable(document)
    except InputError:
        return False
    return True


def nested(depth: int, inner: Any = 1) -> Any:
    for level in range(depth):
        inner = [inner] if level % 2 else {"k": inner}
    return inner


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 5])
def test_nesting_at_the_limit_is_judged_as_the_walk_judges_it(depth):
    text = json.dumps(nested(depth)).encode()
    assert _text_queueable(text) == walk_passes(json.loads(text)) == (depth <= MAX_DEPTH)


def test_a_body_nested_too_deeply_gets_the_walks_message():
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        read_json(json.dumps({"a": [nested(MAX_DEPTH + 1)]}).encode())


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": "' + b"[" * 300 + b'"}',  # brackets inside a string
        b'{"a": "\\"' + b"{" * 300 + b'\\""}',  # ... between escaped quotes
        b'{"a": "\\\\", "b": "' + b"[" * 300 + b'"}',  # an escaped backslash ends the first string
        b'{"a": "\\\\\\"' + b"[" * 300 + b'"}',  # an escaped backslash, then an escaped quote
        b"[" + b"[], " * 500 + b"[]]",  # many containers, shallow
    ],
)
def test_brackets_in_strings_and_many_shallow_containers_pass(text):
    assert walk_passes(json.loads(text))
    assert _text_queueable(text)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (b'{"name": "\\ud800"}', "name"),  # an escaped lone surrogate
        (b'{"name": "\\uDFFF x"}', "name"),
        (b'{"name": "\xed\xa0\x80"}', "name"),  # its UTF-8-style encoding: json.loads lets it through
        (b'{"\\udc00": 1}', "(document)"),  # in a key
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_place(text, place):
    assert not _text_queueable(text)
    with pytest.raises(InputError) as refused:
        read_json(text)
    assert refused.value.field == place
    assert "lone surrogate" in refused.value.message


@pytest.mark.parametrize(
    "text",
    [
        b'{"name": "\\ud83d\\ude00"}',  # a valid pair: one character
        b'{"name": "\\\\ud800"}',  # an escaped backslash, then the text "ud800"
        '{"name": "\ud7ff\ue000"}'.encode(),  # either side of the surrogates
        '{"name": "Zoë"}'.encode("utf-16"),  # another encoding: the walk decides
    ],
)
def test_what_only_looks_like_a_surrogate_passes(text):
    read_json(text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9\u4e2d\ud800/'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k\ud800', max_size=4), inner, max_size=4)
    ),
    max_leaves=60,
)


@given(JSON, st.integers(min_value=0, max_value=MAX_DEPTH + 3), st.booleans())
def test_the_text_check_never_passes_what_the_walk_refuses(document, depth, ascii_only):
    document = nested(depth, document)
    try:
        text = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    except ValueError:
        return
    parsed = json.loads(text)
    may_hold_a_surrogate = b"\\ud" in text.lower() or b"\xed" in text
    if _text_queueable(text):
        assert walk_passes(parsed)
    elif not may_hold_a_surrogate:
        assert not walk_passes(parsed)  # refused for its depth, as by the walk
